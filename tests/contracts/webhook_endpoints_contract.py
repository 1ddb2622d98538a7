"""The WebhookEndpoints contract, run over the in-memory fake (tests/unit/test_webhook_endpoints_contract.py)
and over DynamoWebhookEndpoints in moto (tests/integration/test_webhook_endpoints_contract.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from shared.domain.records import AuditEntry, AuditSubject
from shared.domain.webhooks import DisabledReason, SigningSecret, WebhookEndpoint, new_secret_value, rotated
from shared.services.ports import ChangeRejected, Rejection
from shared.services.webhook_ports import WebhookEndpoints

AT = datetime(2027, 3, 1, 9, tzinfo=UTC)


def an_endpoint(endpoint_id: str = "whe_1", **overrides: object) -> WebhookEndpoint:
    base = WebhookEndpoint(
        id=endpoint_id,
        url="https://hooks.example.com/payportal",
        events=("invoice.paid", "payment.succeeded"),
        description="CRM",
        secrets=(SigningSecret(id="sec_1", value=new_secret_value(), created_at=AT),),
        created_at=AT,
        updated_at=AT,
    )
    return replace(base, **overrides)  # type: ignore[arg-type]


def audit(endpoint_id: str, action: str) -> AuditEntry:
    return AuditEntry(subject=AuditSubject.WEBHOOK_ENDPOINT, subject_id=endpoint_id, action=action, actor="arn", at=AT)


class WebhookEndpointsContract:
    def test_a_created_endpoint_reads_back_as_it_was(self, endpoints: WebhookEndpoints) -> None:
        endpoint = an_endpoint()
        endpoints.create(endpoint, audit(endpoint.id, "webhook_endpoint.created"))
        assert endpoints.get(endpoint.id) == endpoint
        assert endpoints.all() == [endpoint]

    def test_creating_the_same_id_twice_is_refused(self, endpoints: WebhookEndpoints) -> None:
        first = an_endpoint()
        endpoints.create(first, audit("whe_1", "webhook_endpoint.created"))
        with pytest.raises(ChangeRejected) as refused:
            endpoints.create(an_endpoint(url="https://other.example.com/"), audit("whe_1", "webhook_endpoint.created"))
        assert refused.value.reason is Rejection.EXISTS
        assert endpoints.get("whe_1") == first

    def test_an_update_over_the_version_read_is_kept_and_a_stale_one_refused(self, endpoints: WebhookEndpoints) -> None:
        endpoint = an_endpoint()
        endpoints.create(endpoint, audit(endpoint.id, "webhook_endpoint.created"))
        later = AT + timedelta(hours=1)
        disabled = endpoint.next_version(later, enabled=False, disabled_reason=DisabledReason.FAILING)
        endpoints.update(disabled, audit(endpoint.id, "webhook_endpoint.disabled"))
        assert endpoints.get(endpoint.id) == disabled
        with pytest.raises(ChangeRejected) as refused:
            endpoints.update(endpoint.next_version(later, description="lost"), None)
        assert refused.value.reason is Rejection.STALE_WEBHOOK_ENDPOINT
        assert endpoints.get(endpoint.id) == disabled

    def test_a_rotated_endpoint_keeps_both_secrets_with_the_old_ones_expiry(self, endpoints: WebhookEndpoints) -> None:
        endpoint = an_endpoint()
        endpoints.create(endpoint, audit(endpoint.id, "webhook_endpoint.created"))
        new = SigningSecret(id="sec_2", value=new_secret_value(), created_at=AT)
        endpoints.update(rotated(endpoint, new, AT), audit(endpoint.id, "webhook_endpoint.secret_rotated"))
        stored = endpoints.get(endpoint.id)
        assert stored is not None and [s.id for s in stored.secrets] == ["sec_1", "sec_2"]
        assert stored.secrets[0].expires_at == AT + timedelta(hours=24) and stored.current_secret == new

    def test_a_deleted_endpoint_is_gone_and_deleting_a_changed_one_is_refused(
        self, endpoints: WebhookEndpoints
    ) -> None:
        first, second = an_endpoint("whe_1"), an_endpoint("whe_2", created_at=AT + timedelta(seconds=1))
        endpoints.create(first, audit(first.id, "webhook_endpoint.created"))
        endpoints.create(second, audit(second.id, "webhook_endpoint.created"))
        endpoints.delete(first, audit(first.id, "webhook_endpoint.deleted"))
        assert endpoints.get(first.id) is None and endpoints.all() == [second]
        with pytest.raises(ChangeRejected):
            endpoints.delete(replace(second, version=7), audit(second.id, "webhook_endpoint.deleted"))
        with pytest.raises(ChangeRejected):
            endpoints.delete(first, audit(first.id, "webhook_endpoint.deleted"))

    def test_an_unknown_id_is_none(self, endpoints: WebhookEndpoints) -> None:
        assert endpoints.get("whe_never") is None and endpoints.all() == []
