"""The WebhookEndpoints contract, run over the in-memory fake (tests/unit/test_webhook_endpoints_contract.py)
and over DynamoWebhookEndpoints in moto (tests/integration/test_webhook_endpoints_contract.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from shared.domain.records import AuditEntry, AuditSubject
from shared.domain.webhooks import (
    DisabledReason,
    FailedDelivery,
    SigningSecret,
    WebhookEndpoint,
    failed_delivery_id,
    failed_once_more,
    new_secret_value,
    rotated,
)
from shared.services.ports import ChangeRejected, InvalidCursor, Rejection
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

    def test_a_failed_delivery_is_kept_with_the_endpoint_it_counts_against(self, endpoints: WebhookEndpoints) -> None:
        endpoint = an_endpoint()
        endpoints.create(endpoint, audit(endpoint.id, "webhook_endpoint.created"))
        delivery = a_failure(endpoint.id, "msg_1")
        after = failed_once_more(endpoint, AT)
        endpoints.record_failure(delivery, after, None)
        assert endpoints.get_failed(endpoint.id, delivery.id) == delivery
        assert endpoints.get(endpoint.id) == after and after.consecutive_failures == 1
        # The same delivery recorded again (its message handled twice) changes nothing
        with pytest.raises(ChangeRejected) as again:
            endpoints.record_failure(delivery, failed_once_more(after, AT), None)
        assert again.value.reason is Rejection.EXISTS and endpoints.get(endpoint.id) == after
        # Another over a stale endpoint writes nothing either
        with pytest.raises(ChangeRejected) as stale:
            endpoints.record_failure(a_failure(endpoint.id, "msg_2"), after, None)
        assert stale.value.reason is Rejection.STALE_WEBHOOK_ENDPOINT
        assert endpoints.get_failed(endpoint.id, a_failure(endpoint.id, "msg_2").id) is None

    def test_failed_deliveries_page_oldest_first_and_a_taken_one_is_gone(self, endpoints: WebhookEndpoints) -> None:
        endpoint = an_endpoint()
        endpoints.create(endpoint, audit(endpoint.id, "webhook_endpoint.created"))
        failures = [a_failure(endpoint.id, f"msg_{n}", queued_ms=1_000 + n) for n in range(5)]
        current = endpoint
        for failure in reversed(failures):
            current = failed_once_more(current, AT)
            endpoints.record_failure(failure, current, None)
        seen, cursor = [], None
        while True:
            page = endpoints.failed_deliveries(endpoint.id, 2, cursor)
            seen.extend(page.items)
            cursor = page.next_cursor
            if cursor is None:
                break
        assert seen == failures
        endpoints.take_failed(failures[0])
        assert endpoints.get_failed(endpoint.id, failures[0].id) is None
        with pytest.raises(ChangeRejected):
            endpoints.take_failed(failures[0])
        endpoints.restore_failed(failures[0])
        assert endpoints.get_failed(endpoint.id, failures[0].id) == failures[0]
        with pytest.raises(InvalidCursor):
            endpoints.failed_deliveries(endpoint.id, 2, "bm90IGEgY3Vyc29y")


def a_failure(endpoint_id: str, event_id: str, *, queued_ms: int = 1_000) -> FailedDelivery:
    event: dict[str, object] = {
        "type": "invoice.paid",
        "id": event_id,
        "timestamp": "2027-03-01T09:00:00Z",
        "data": {"id": event_id},
    }
    return FailedDelivery(
        id=failed_delivery_id(endpoint_id, event_id, "sqs-1", queued_ms),
        endpoint_id=endpoint_id,
        event=event,
        attempts=12,
        last_status=503,
        excerpt="down",
        failed_at=AT,
    )
