"""In-memory stand-ins for the outbound webhooks' ports (shared.services.webhook_ports)."""

from __future__ import annotations

from shared.domain.records import AuditEntry
from shared.domain.webhooks import WebhookEndpoint
from shared.services.ports import ChangeRejected, Rejection


class FakeWebhookEndpoints:
    def __init__(self) -> None:
        self.endpoints: dict[str, WebhookEndpoint] = {}
        self.audit: list[AuditEntry] = []

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
