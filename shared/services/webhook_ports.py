"""Ports of outbound webhooks: the endpoints operators register (and, per endpoint, the deliveries that failed
for good), and the HTTP sender that delivers to them.

Kept apart from ports.py: only the operator API and the delivery function use them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol

from shared.domain.records import AuditEntry
from shared.domain.webhooks import FailedDelivery, WebhookEndpoint
from shared.services.ports import Page

EXCERPT_LIMIT: Final = 200


class WebhookEndpoints(Protocol):
    def get(self, endpoint_id: str) -> WebhookEndpoint | None: ...

    def all(self) -> list[WebhookEndpoint]:
        """Every endpoint, oldest first (at most MAX_ENDPOINTS: one partition, one query)."""
        ...

    def create(self, endpoint: WebhookEndpoint, audit: AuditEntry) -> None:
        """Raises ChangeRejected(EXISTS) when an endpoint with that id exists."""
        ...

    def update(self, endpoint: WebhookEndpoint, audit: AuditEntry | None) -> None:
        """Written only over the stored `version - 1`; else ChangeRejected(STALE_WEBHOOK_ENDPOINT)."""
        ...

    def delete(self, endpoint: WebhookEndpoint, audit: AuditEntry) -> None:
        """Deleted only if the stored one is this version; else ChangeRejected(STALE_WEBHOOK_ENDPOINT)."""
        ...

    def record_failure(self, delivery: FailedDelivery, endpoint: WebhookEndpoint, audit: AuditEntry | None) -> None:
        """The failed delivery and the endpoint after it (`version - 1` stored), in one transaction. Raises
        ChangeRejected(EXISTS) when that delivery is recorded already (nothing written), and
        ChangeRejected(STALE_WEBHOOK_ENDPOINT) when the endpoint changed meanwhile."""
        ...

    def failed_deliveries(self, endpoint_id: str, limit: int, cursor: str | None) -> Page:
        """The endpoint's failed deliveries, oldest first (InvalidCursor for a cursor it did not hand out)."""
        ...

    def get_failed(self, endpoint_id: str, delivery_id: str) -> FailedDelivery | None: ...

    def take_failed(self, delivery: FailedDelivery) -> None:
        """Removed for a replay; ChangeRejected(STALE_WEBHOOK_ENDPOINT) when it is gone already (replayed)."""
        ...

    def restore_failed(self, delivery: FailedDelivery) -> None:
        """Put back what take_failed removed (its replay could not be queued)."""
        ...


def subscribed(endpoints: Sequence[WebhookEndpoint], event_type: str) -> list[WebhookEndpoint]:
    return [e for e in endpoints if e.subscribes_to(event_type)]


@dataclass(frozen=True, slots=True)
class SendResult:
    """What one POST to an endpoint came to: its status (None when no answer came: refused address, DNS,
    timeout, TLS) and, for a failure, a short excerpt (at most EXCERPT_LIMIT characters) of what was said."""

    status: int | None
    excerpt: str = ""

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class WebhookSender(Protocol):
    def post(self, url: str, body: bytes, headers: dict[str, str]) -> SendResult:
        """POST once: no redirect followed, a timeout, the host resolved and refused unless public."""
        ...


class DeliveryQueue(Protocol):
    def send(self, bodies: Sequence[dict[str, Any]]) -> None: ...
