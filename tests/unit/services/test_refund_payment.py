"""The operator refunds a payment over fakes: once per Idempotency-Key at Stripe and in the ledger, never
more than is refundable, a credit unless the balance is reopened, and the invoice's credit in one call."""

from __future__ import annotations

from dataclasses import replace

import pytest

from shared.clock import FixedClock
from shared.domain.errors import InvalidAmount, InvalidStateTransition, NotFound, RefundExceedsRefundable, RefundRefused
from shared.domain.invoices import InvoiceStatus, PaymentStatus
from shared.domain.messages import Event, EventName, RefundEmail
from shared.domain.records import RefundStatus
from shared.services.once import MissingIdempotencyKey
from shared.services.ports import Change
from shared.services.refunds import RefundAsk, RefundMade, refund_payment_once
from shared.services.stripe_events.engine import Outcome
from shared.services.stripe_events.refunds import record_refunds
from tests.fakes import FakeGateway, InMemoryLedger
from tests.fakes.records import NOW, a_customer, a_payment, an_invoice
from tests.fakes.run_once import InMemoryRunOnce
from tests.fakes.stripe_facts import a_refund_fact

CLOCK = FixedClock(NOW)
ASK = RefundAsk(amount=5_000, reason="requested_by_customer", reopen_balance=False)


def paid_ledger(amount_paid: int = 12_500) -> InMemoryLedger:
    """Given inv_1 (USD 125.00) paid `amount_paid` by pi_1."""
    ledger = InMemoryLedger()
    status = InvoiceStatus.PAID if amount_paid >= 12_500 else InvoiceStatus.PARTIALLY_PAID
    invoice = an_invoice(amount_paid=amount_paid, status=status, next_action_at=None)
    ledger.commit(Change(new_customer=a_customer(), new_invoice=invoice, payment=a_payment(amount=amount_paid)))
    return ledger


def refund(
    ledger: InMemoryLedger,
    gateway: FakeGateway,
    ask: RefundAsk = ASK,
    *,
    key: str | None = "k1",
    once: InMemoryRunOnce | None = None,
    payment_id: str = "pi_1",
) -> RefundMade:
    return refund_payment_once(
        ledger,
        gateway,
        CLOCK,
        once or InMemoryRunOnce(),
        payment_id,
        ask,
        key=key,
        fingerprint={"amount": ask.amount},
        actor="arn:aws:iam::1:user/ops",
    )


def test_a_partial_refund_is_made_at_stripe_and_recorded_at_once() -> None:
    ledger, gateway = paid_ledger(), FakeGateway()

    made = refund(ledger, gateway)

    [asked] = gateway.refund_requests
    assert (asked.payment_intent_id, asked.amount, asked.currency) == ("pi_1", 5_000, "USD")
    assert asked.metadata["reopen_balance"] == "false" and asked.idempotency_key.startswith("payportal-refund-rfq_")
    assert made.payment.state == "partially_refunded" and made.payment.amount_refunded == 5_000
    assert made.invoice.status is InvoiceStatus.PAID and made.invoice.amount_refunded == 5_000
    assert [m.name for m in ledger.outbox_messages()] == [EventName.PAYMENT_REFUNDED, RefundEmail.template]
    assert ledger.audit[-1].actor == "operator:arn:aws:iam::1:user/ops"


def test_without_an_amount_the_rest_is_refunded() -> None:
    ledger, gateway = paid_ledger(), FakeGateway()
    refund(ledger, gateway, key="k1")

    made = refund(ledger, gateway, replace(ASK, amount=None), key="k2")

    assert made.refund.amount == 7_500 and made.payment.state == "refunded"


def test_reopen_balance_makes_the_amount_owed_again() -> None:
    ledger, gateway = paid_ledger(), FakeGateway()

    made = refund(ledger, gateway, replace(ASK, reopen_balance=True))

    assert gateway.refund_requests[0].metadata["reopen_balance"] == "true"
    assert made.invoice.status is InvoiceStatus.PARTIALLY_PAID and made.invoice.amount_remaining == 5_000
    assert made.invoice.next_action_at == NOW


def test_a_retry_with_the_same_key_refunds_once() -> None:
    ledger, gateway, once = paid_ledger(), FakeGateway(), InMemoryRunOnce()
    first = refund(ledger, gateway, once=once)

    again = refund(ledger, gateway, once=once)

    assert again.refund == first.refund and len(gateway.refund_requests) == 1
    assert ledger.payments[("inv_1", "pi_1")].amount_refunded == 5_000


def test_a_retry_after_the_once_record_was_lost_finds_the_refund_made() -> None:
    ledger, gateway = paid_ledger(), FakeGateway()
    first = refund(ledger, gateway, once=InMemoryRunOnce())

    again = refund(ledger, gateway, replace(ASK, amount=None), once=InMemoryRunOnce())  # "the rest" now differs

    assert again.refund.id == first.refund.id and len(gateway.refund_requests) == 1


def test_a_timeout_after_stripe_refunded_is_retried_under_the_same_stripe_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given Stripe refunded, then the request died before the ledger recorded it
    ledger, gateway = paid_ledger(), FakeGateway()
    commit = ledger.commit

    def dies(_change: Change) -> None:
        monkeypatch.setattr(ledger, "commit", commit)
        raise TimeoutError

    monkeypatch.setattr(ledger, "commit", dies)
    with pytest.raises(TimeoutError):
        refund(ledger, gateway)

    # When the caller retries with the same key
    made = refund(ledger, gateway)

    # Then Stripe was asked twice under one idempotency key (so refunded once), and the ledger counts it once
    first, second = gateway.refund_requests
    assert first == second and made.refund.id == "re_fake_1"
    assert ledger.payments[("inv_1", "pi_1")].amount_refunded == 5_000


def test_the_refund_s_webhooks_after_the_reply_change_nothing() -> None:
    ledger, gateway = paid_ledger(), FakeGateway()
    made = refund(ledger, gateway)

    late = record_refunds(ledger, CLOCK, a_refund_fact("evt_1", made.refund.id, RefundStatus.SUCCEEDED))

    assert late is Outcome.NO_CHANGE
    assert len([m for m in ledger.outbox_messages() if isinstance(m.body, RefundEmail)]) == 1


def test_a_pending_refund_then_failing_alerts_and_gives_the_money_back() -> None:
    ledger, gateway = paid_ledger(), FakeGateway(refund_status=RefundStatus.PENDING)
    made = refund(ledger, gateway)

    record_refunds(ledger, CLOCK, a_refund_fact("evt_2", made.refund.id, RefundStatus.FAILED))

    assert ledger.payments[("inv_1", "pi_1")].amount_refunded == 0
    names = [m.name for m in ledger.outbox_messages() if isinstance(m.body, Event)]
    assert names == [EventName.PAYMENT_REFUNDED, EventName.REFUND_FAILED]


@pytest.mark.parametrize("amount", [12_501, 0, -1])
def test_more_than_is_refundable_or_nothing_is_refused(amount: int) -> None:
    ledger, gateway = paid_ledger(), FakeGateway()

    with pytest.raises(RefundExceedsRefundable):
        refund(ledger, gateway, replace(ASK, amount=amount))
    assert gateway.refund_requests == []


def test_a_fully_refunded_payment_has_nothing_left() -> None:
    ledger, gateway = paid_ledger(), FakeGateway()
    refund(ledger, gateway, replace(ASK, amount=None), key="k1")

    with pytest.raises(RefundExceedsRefundable):
        refund(ledger, gateway, replace(ASK, amount=None), key="k2")


def test_an_unknown_payment_is_not_found_and_a_missing_key_is_refused() -> None:
    ledger, gateway = paid_ledger(), FakeGateway()

    with pytest.raises(NotFound):
        refund(ledger, gateway, payment_id="pi_unknown")
    with pytest.raises(MissingIdempotencyKey):
        refund(ledger, gateway, key=None)


def test_a_payment_not_succeeded_cannot_be_refunded() -> None:
    ledger, gateway = InMemoryLedger(), FakeGateway()
    pending = a_payment(status=PaymentStatus.PENDING)
    ledger.commit(Change(new_customer=a_customer(), new_invoice=an_invoice(), payment=pending))

    with pytest.raises(InvalidStateTransition):
        refund(ledger, gateway)


def test_stripe_refusing_is_a_conflict_and_records_nothing() -> None:
    ledger, gateway = paid_ledger(), FakeGateway(refuse_refunds=True)

    with pytest.raises(RefundRefused):
        refund(ledger, gateway)
    assert ledger.payments[("inv_1", "pi_1")].refunds == ()


def test_an_overpayment_s_credit_is_refunded_in_one_call() -> None:
    ledger, gateway = paid_ledger(15_000), FakeGateway()

    made = refund(ledger, gateway, RefundAsk(amount=None, reason="duplicate", reopen_balance=False, credit=True))

    assert made.refund.amount == 2_500 and made.invoice.amount_credit == 0
    assert made.invoice.status is InvoiceStatus.PAID and made.invoice.amount_remaining == 0


def test_credit_is_refused_when_there_is_none_or_the_amount_differs() -> None:
    ledger, gateway = paid_ledger(), FakeGateway()
    with pytest.raises(InvalidAmount):
        refund(ledger, gateway, RefundAsk(amount=None, reason="duplicate", reopen_balance=False, credit=True))
    overpaid = paid_ledger(15_000)
    with pytest.raises(InvalidAmount):
        refund(overpaid, gateway, RefundAsk(amount=1_000, reason="duplicate", reopen_balance=False, credit=True))
