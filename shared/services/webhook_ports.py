"""Ports of outbound webhooks: the endpoints operators register (and, per endpoint, the deliveries that failed
for good), and the HTTP sender that delivers to them.

Kept apart from ports.py: only the operator API and the delivery function use them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from shared.domain.records import AuditEntry
from shared.domain.webhooks import WebhookEndpoint


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


def subscribed(endpoints: Sequence[WebhookEndpoint], event_type: str) -> list[WebhookEndpoint]:
    return [e for e in endpoints if e.subscribes_to(event_type)]
