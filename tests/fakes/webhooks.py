"""In-memory stand-ins for the outbound webhooks' ports (shared.services.webhook_ports)."""

from __future__ import annotations

import base64
import json

from shared.domain.records import AuditEntry
from shared.domain.webhooks import FailedDelivery, WebhookEndpoint
from shared.services.ports import ChangeRejected, InvalidCursor, Page, Rejection
from shared.services.webhook_ports import SendResult


class FakeWebhookEndpoints:
    def __init__(self) -> None:
        self.endpoints: dict[str, WebhookEndpoint] = {}
        self.audit: list[AuditEntry] = []
        self.failed: dict[tuple[str, str], FailedDelivery] = {}

    def get(self, endpoint_id: str) -> WebhookEndpoint | None:
        return self.endpoints.get(endpoint_id)

    def all(self) -> list[WebhookEndpoint]:
        return sorted(self.endpoints.values(), key=lambda e: (e.created_at, e.id))

    def create(self, endpoint: WebhookEndpoint, audit: AuditEntry) -> None:
        if endpoint.id in self.endpoints:
            raise ChangeRejected(Rejection.EXISTS)
        self.endpoints[endpoint.id] = endpoint
        self.audit.append(audit)

    def update(self, endpoint: WebhookEndpoint, audit: AuditEntry | None) -> None:
        stored = self.endpoints.get(endpoint.id)
        if stored is None or stored.version != endpoint.version - 1:
            raise ChangeRejected(Rejection.STALE_WEBHOOK_ENDPOINT)
        self.endpoints[endpoint.id] = endpoint
        if audit is not None:
            self.audit.append(audit)

    def delete(self, endpoint: WebhookEndpoint, audit: AuditEntry) -> None:
        stored = self.endpoints.get(endpoint.id)
        if stored is None or stored.version != endpoint.version:
            raise ChangeRejected(Rejection.STALE_WEBHOOK_ENDPOINT)
        del self.endpoints[endpoint.id]
        self.audit.append(audit)

    def record_failure(self, delivery: FailedDelivery, endpoint: WebhookEndpoint, audit: AuditEntry | None) -> None:
        if (delivery.endpoint_id, delivery.id) in self.failed:
            raise ChangeRejected(Rejection.EXISTS)
        stored = self.endpoints.get(endpoint.id)
        if stored is None or stored.version != endpoint.version - 1:
            raise ChangeRejected(Rejection.STALE_WEBHOOK_ENDPOINT)
        self.failed[(delivery.endpoint_id, delivery.id)] = delivery
        self.endpoints[endpoint.id] = endpoint
        if audit is not None:
            self.audit.append(audit)

    def failed_deliveries(self, endpoint_id: str, limit: int, cursor: str | None) -> Page:
        ids = sorted(d for e, d in self.failed if e == endpoint_id)
        start = 0
        if cursor:
            try:
                after = json.loads(base64.urlsafe_b64decode(cursor))
                assert after["e"] == endpoint_id
            except Exception:
                raise InvalidCursor("the cursor is not valid for this listing", field="cursor") from None
            start = next((n for n, d in enumerate(ids) if d > after["d"]), len(ids))
        page = ids[start : start + limit]
        more = start + limit < len(ids)
        last = json.dumps({"e": endpoint_id, "d": page[-1]}).encode() if page and more else None
        return Page(
            items=[self.failed[(endpoint_id, d)] for d in page],
            next_cursor=base64.urlsafe_b64encode(last).decode() if last else None,
        )

    def get_failed(self, endpoint_id: str, delivery_id: str) -> FailedDelivery | None:
        return self.failed.get((endpoint_id, delivery_id))

    def take_failed(self, delivery: FailedDelivery) -> None:
        if self.failed.pop((delivery.endpoint_id, delivery.id), None) is None:
            raise ChangeRejected(Rejection.STALE_WEBHOOK_ENDPOINT)

    def restore_failed(self, delivery: FailedDelivery) -> None:
        self.failed[(delivery.endpoint_id, delivery.id)] = delivery


class FakeSender:
    """Answers each POST with the next of `statuses` (the last one repeats), recording what was sent."""

    def __init__(self, *statuses: int | None) -> None:
        self.statuses = list(statuses) or [200]
        self.sent: list[tuple[str, bytes, dict[str, str]]] = []

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> SendResult:
        self.sent.append((url, body, headers))
        status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        return SendResult(status, "" if status and status < 300 else "down")


class FakeQueue:
    def __init__(self) -> None:
        self.sent: list[dict[str, object]] = []
        self.fail = False

    def send(self, bodies: list[dict[str, object]]) -> None:
        if self.fail:
            raise RuntimeError("SQS is down")
        self.sent.extend(bodies)
