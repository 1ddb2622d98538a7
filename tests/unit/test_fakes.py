"""The fakes of the other ports behave as their adapters do where services rely on it; the in-memory
leases run on a clock a test can move."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.domain.messages import Event, EventName, OutboxMessage
from shared.domain.records import Customer
from shared.services.gateway import ChargeOutcome, CheckoutSessionRequest, OffSessionCharge, SessionClosed
from shared.services.ports import Change, Claim, DomainEvent, Email, OutboxBusy
from tests.fakes import FakeGateway, InMemoryLedger, RecordingMailer, RecordingPublisher

NOW = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


def checkout_request(key: str, amount: int = 12_500) -> CheckoutSessionRequest:
    return CheckoutSessionRequest(
        stripe_customer_id="cus_fake_1",
        amount=amount,
        currency="usd",
        description="Invoice N-1",
        payment_method_types=("card",),
        success_url="https://pay.example.com/done",
        cancel_url="https://pay.example.com/pay",
        metadata={"invoice_id": "inv_1"},
        idempotency_scope=key,
    )


def charge(key: str) -> OffSessionCharge:
    return OffSessionCharge("cus_fake_1", 6_250, "usd", "Installment 2", {"plan_id": "plan_1"}, key)


def test_the_gateway_answers_a_retry_with_the_same_session() -> None:
    gateway = FakeGateway()

    first, retried, other = (gateway.create_checkout_session(checkout_request(k)) for k in ("k1", "k1", "k2"))
    other_amount = gateway.create_checkout_session(checkout_request("k1", amount=6_000))

    assert first == retried and len({first.id, other.id, other_amount.id}) == 3
    assert len(gateway.checkout_requests) == 4


def test_the_gateway_expires_only_what_is_not_complete() -> None:
    gateway = FakeGateway()
    open_one, paid_one = (gateway.create_checkout_session(checkout_request(k)) for k in ("k1", "k2"))
    gateway.pay(paid_one.id)

    assert gateway.expire_checkout_session(open_one.id) is SessionClosed.EXPIRED
    assert gateway.expire_checkout_session(paid_one.id) is SessionClosed.COMPLETE
    assert gateway.session_status == {open_one.id: "expired", paid_one.id: "complete"}


def test_the_gateway_charges_as_queued_and_a_retry_gets_the_same_outcome() -> None:
    # Given a decline queued for the next new charge
    declined = ChargeOutcome(payment_intent_id="pi_declined", status="failed", code="card_declined")
    gateway = FakeGateway()
    gateway.charge_outcomes.append(declined)

    # When a charge is made, retried under its idempotency key, then another made
    outcomes = [gateway.charge_off_session(charge(k)) for k in ("k1", "k1", "k2")]

    # Then the retry sees the decline again, and the next charge succeeds
    assert outcomes[:2] == [declined, declined]
    assert outcomes[2].status == "succeeded" and outcomes[2].payment_intent_id


def test_the_gateway_keeps_one_stripe_customer_per_customer() -> None:
    gateway = FakeGateway()
    new = Customer("cus_1", "a@example.com", "Ada", None, "UTC", "en-US", NOW)
    known = Customer("cus_2", "b@example.com", "Bo", None, "UTC", "en-US", NOW, stripe_customer_id="cus_known")

    assert gateway.ensure_customer(new) == gateway.ensure_customer(new)
    assert gateway.ensure_customer(known) == "cus_known"


def test_the_mailer_and_publisher_record_in_order_or_fail_as_told() -> None:
    mailer, publisher = RecordingMailer(), RecordingPublisher()
    email = Email(to="a@example.com", subject="Receipt", text="Paid", html="<p>Paid</p>")

    mailer.send(email, message_id="msg_1")
    publisher.publish(DomainEvent(id="msg_2", detail_type="payment.succeeded", detail={}))
    mailer.failure = publisher.failure = ConnectionError("SES is down")

    with pytest.raises(ConnectionError):
        mailer.send(email, message_id="msg_3")
    with pytest.raises(ConnectionError):
        publisher.publish(DomainEvent(id="msg_4", detail_type="payment.failed", detail={}))
    assert mailer.to("a@example.com") == [email]
    assert publisher.detail_types() == ["payment.succeeded"]


def test_the_in_memory_leases_run_on_the_clock_it_is_given() -> None:
    # Given a ledger whose lease clock a test moves, and a message claimed for 60 seconds
    now = [NOW]
    ledger = InMemoryLedger(wall_clock=lambda: now[0])
    message = OutboxMessage(Event(EventName.INVOICE_CREATED, {}), NOW)
    ledger.commit(Change(outbox=[message]))
    ledger.claim(message.id, 60, "token-a")

    # Then the lease holds for its 60 seconds and is free after them
    now[0] = NOW + timedelta(seconds=60)
    with pytest.raises(OutboxBusy):
        ledger.claim(message.id, 60, "token-b")
    now[0] = NOW + timedelta(seconds=61)
    assert ledger.claim(message.id, 60, "token-b") == Claim(message, taken_over=True)
    assert ledger.outbox[message.id].attempts == 2
