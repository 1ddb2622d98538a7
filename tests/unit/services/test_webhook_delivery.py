"""Webhook deliveries over the fakes: fan-out, one attempt, the retry schedule, failures kept and counted,
a success starting the count anew, a replay that cannot be queued leaving the failure where it was."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks import Webhook

from shared.clock import FixedClock, SystemClock
from shared.domain.webhooks import DISABLE_AFTER_FAILURES
from shared.services.webhook_delivery import (
    MAX_ATTEMPTS,
    RETRY_DELAYS,
    Attempt,
    DeliveryTask,
    Outcome,
    WebhookEvent,
    deliver,
    fan_out,
    retry_failed_once,
)
from tests.contracts.webhook_endpoints_contract import an_endpoint, audit
from tests.fakes.run_once import InMemoryRunOnce
from tests.fakes.webhooks import FakeQueue, FakeSender, FakeWebhookEndpoints

CLOCK = FixedClock(datetime(2027, 3, 1, 9, tzinfo=UTC))
EVENT = WebhookEvent("invoice.paid", "msg_1", "2027-03-01T09:00:00Z", {"id": "msg_1", "invoice_id": "inv_1"})


@pytest.fixture
def endpoints() -> FakeWebhookEndpoints:
    store = FakeWebhookEndpoints()
    store.create(an_endpoint("whe_1", events=("invoice.paid",)), audit("whe_1", "webhook_endpoint.created"))
    store.create(an_endpoint("whe_2", events=("*",)), audit("whe_2", "webhook_endpoint.created"))
    store.create(an_endpoint("whe_3", events=("payment.failed",)), audit("whe_3", "webhook_endpoint.created"))
    return store


def attempt(number: int, message: str = "m-1") -> Attempt:
    return Attempt(number=number, message_id=message, first_queued_ms=1_000)


def send(endpoints: FakeWebhookEndpoints, sender: FakeSender, number: int, endpoint_id: str = "whe_1") -> Outcome:
    task = DeliveryTask(endpoint_id, EVENT)
    return deliver(endpoints, sender, CLOCK, task, attempt(number), wall_clock=SystemClock()).outcome


def test_retries_span_more_than_three_days() -> None:
    assert sum(RETRY_DELAYS) > 3 * 24 * 3600 and max(RETRY_DELAYS) <= 43_200 and MAX_ATTEMPTS == 12
    assert list(RETRY_DELAYS) == sorted(RETRY_DELAYS)


def test_an_event_fans_out_to_the_subscribed_endpoints_only(endpoints: FakeWebhookEndpoints) -> None:
    assert [t.endpoint_id for t in fan_out(endpoints, EVENT)] == ["whe_1", "whe_2"]


def test_a_delivery_is_signed_with_the_endpoints_secret(endpoints: FakeWebhookEndpoints) -> None:
    sender = FakeSender(204)
    assert send(endpoints, sender, 1) is Outcome.DELIVERED
    [(url, body, headers)] = sender.sent
    secret = endpoints.endpoints["whe_1"].current_secret.value
    assert url == "https://hooks.example.com/payportal"
    assert Webhook(secret).verify(body, headers) == {"type": "invoice.paid", "timestamp": EVENT.timestamp,
                                                     "data": EVENT.data}  # fmt: skip


def test_failures_retry_then_are_kept_and_five_in_a_row_disable(endpoints: FakeWebhookEndpoints) -> None:
    sender = FakeSender(500)
    assert send(endpoints, sender, 1) is Outcome.RETRY
    for n in range(DISABLE_AFTER_FAILURES):
        task = DeliveryTask("whe_1", WebhookEvent("invoice.paid", f"msg_{n}", EVENT.timestamp, EVENT.data))
        result = deliver(endpoints, sender, CLOCK, task, attempt(MAX_ATTEMPTS, f"m-{n}"), wall_clock=SystemClock())
        assert result.outcome is Outcome.FAILED
        assert result.disabled_endpoint is (n == DISABLE_AFTER_FAILURES - 1)
    endpoint = endpoints.endpoints["whe_1"]
    assert not endpoint.enabled and endpoint.consecutive_failures == DISABLE_AFTER_FAILURES
    assert len(endpoints.failed) == DISABLE_AFTER_FAILURES
    assert endpoints.audit[-1].action == "webhook_endpoint.disabled"


def test_a_success_starts_the_count_anew(endpoints: FakeWebhookEndpoints) -> None:
    send(endpoints, FakeSender(500), MAX_ATTEMPTS)
    assert endpoints.endpoints["whe_1"].consecutive_failures == 1
    send(endpoints, FakeSender(200), 1)
    assert endpoints.endpoints["whe_1"].consecutive_failures == 0


def test_a_deleted_endpoint_gets_nothing(endpoints: FakeWebhookEndpoints) -> None:
    endpoint = endpoints.endpoints["whe_1"]
    endpoints.delete(endpoint, audit("whe_1", "webhook_endpoint.deleted"))
    sender = FakeSender(200)
    assert send(endpoints, sender, 1) is Outcome.DROPPED and sender.sent == []


def test_a_replay_that_cannot_be_queued_leaves_the_failure_listed(endpoints: FakeWebhookEndpoints) -> None:
    send(endpoints, FakeSender(500), MAX_ATTEMPTS)
    [failed] = endpoints.failed.values()
    queue, once = FakeQueue(), InMemoryRunOnce()
    queue.fail = True
    with pytest.raises(RuntimeError):
        retry_failed_once(endpoints, queue, once, "whe_1", failed.id, key="k", actor="arn")
    assert endpoints.get_failed("whe_1", failed.id) == failed
    queue.fail = False
    assert retry_failed_once(endpoints, queue, once, "whe_1", failed.id, key="k2", actor="arn") == failed.id
    assert endpoints.get_failed("whe_1", failed.id) is None
    assert DeliveryTask.from_message(queue.sent[0]).event == EVENT  # type: ignore[arg-type]


def test_a_rotation_signs_with_both_secrets_for_a_day(endpoints: FakeWebhookEndpoints) -> None:
    from shared.domain.webhooks import SigningSecret, new_secret_value, rotated

    old = endpoints.endpoints["whe_1"]
    new = SigningSecret(id="sec_2", value=new_secret_value(), created_at=CLOCK.now())
    endpoints.update(rotated(old, new, datetime.now(UTC) - timedelta(hours=1)), None)
    sender = FakeSender(200)
    send(endpoints, sender, 1)
    [(_, body, headers)] = sender.sent
    assert len(headers["webhook-signature"].split(" ")) == 2
    assert Webhook(old.current_secret.value).verify(body, headers) and Webhook(new.value).verify(body, headers)
