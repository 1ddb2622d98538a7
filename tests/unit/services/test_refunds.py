"""Refunds from Stripe's events over the in-memory ledger: each applied once, in any order, the payment
ending with Stripe's amount_refunded; a credit by default, owed again with reopen_balance."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from shared.clock import FixedClock
from shared.domain.invoices import InvoiceStatus, PaymentStatus
from shared.domain.messages import Event, EventName, RefundEmail
from shared.domain.records import RefundStatus
from shared.services.ports import Change
from shared.services.stripe_events.engine import Outcome
from shared.services.stripe_events.facts import RefundFact
from shared.services.stripe_events.refunds import record_refunds
from tests.fakes import InMemoryLedger
from tests.fakes.records import NOW, a_customer, a_payment, an_invoice
from tests.fakes.stripe_facts import a_charge_refunded_fact, a_refund_fact, a_refund_seen

CLOCK = FixedClock(NOW)


def paid_ledger(amount_paid: int = 12_500) -> InMemoryLedger:
    """Given inv_1 (USD 125.00) paid `amount_paid` by pi_1."""
    ledger = InMemoryLedger()
    status = InvoiceStatus.PAID if amount_paid >= 12_500 else InvoiceStatus.PARTIALLY_PAID
    invoice = an_invoice(amount_paid=amount_paid, status=status, next_action_at=None)
    ledger.commit(Change(new_customer=a_customer(), new_invoice=invoice, payment=a_payment(amount=amount_paid)))
    return ledger


def event_names(ledger: InMemoryLedger) -> list[str]:
    return [m.name for m in ledger.outbox_messages() if isinstance(m.body, Event)]


def refund_emails(ledger: InMemoryLedger) -> list[RefundEmail]:
    return [m.body for m in ledger.outbox_messages() if isinstance(m.body, RefundEmail)]


def test_a_dashboard_refund_is_a_credit_the_invoice_stays_settled() -> None:
    ledger = paid_ledger()

    outcome = record_refunds(ledger, CLOCK, a_refund_fact(amount=5_000))

    assert outcome is Outcome.APPLIED
    payment = ledger.payments[("inv_1", "pi_1")]
    assert payment.amount_refunded == 5_000 and payment.state == "partially_refunded"
    invoice = ledger.get_invoice("inv_1")
    assert invoice is not None and invoice.amount_refunded == 5_000 and invoice.status is InvoiceStatus.PAID
    assert invoice.amount_remaining == 0 and invoice.next_action_at is None
    assert event_names(ledger) == [EventName.PAYMENT_REFUNDED]
    assert refund_emails(ledger) == [RefundEmail("inv_1", "pi_1", "re_1", 5_000)]
    assert ledger.audit_actions("inv_1") == ["refund.succeeded"]


def test_a_refund_that_reopens_the_balance_is_owed_again_and_dunning_resumes() -> None:
    ledger = paid_ledger()

    record_refunds(ledger, CLOCK, a_refund_fact(amount=5_000, reopens_balance=True))

    invoice = ledger.get_invoice("inv_1")
    assert invoice is not None and invoice.status is InvoiceStatus.PARTIALLY_PAID
    assert invoice.amount_remaining == 5_000 and invoice.amount_refunded == 5_000 and invoice.in_dunning
    assert invoice.next_action_at == NOW


def test_a_full_refund_marks_the_payment_refunded() -> None:
    ledger = paid_ledger()

    record_refunds(ledger, CLOCK, a_refund_fact(amount=12_500))

    assert ledger.payments[("inv_1", "pi_1")].state == "refunded"


def test_the_same_event_twice_is_applied_once() -> None:
    ledger = paid_ledger()
    record_refunds(ledger, CLOCK, a_refund_fact())

    again = record_refunds(ledger, CLOCK, a_refund_fact())

    assert again is Outcome.DUPLICATE_EVENT
    assert ledger.payments[("inv_1", "pi_1")].amount_refunded == 5_000 and len(refund_emails(ledger)) == 1


def test_charge_refunded_and_refund_updated_for_one_refund_count_it_once() -> None:
    ledger = paid_ledger()
    record_refunds(ledger, CLOCK, a_charge_refunded_fact("evt_ch_1", a_refund_seen("re_1", RefundStatus.SUCCEEDED)))

    second = record_refunds(ledger, CLOCK, a_refund_fact("evt_re_2", "re_1", RefundStatus.SUCCEEDED))

    assert second is Outcome.NO_CHANGE
    invoice = ledger.get_invoice("inv_1")
    assert invoice is not None and invoice.amount_refunded == 5_000 and len(refund_emails(ledger)) == 1


def test_a_pending_refund_that_fails_gives_the_money_back_and_tells_the_operator() -> None:
    ledger = paid_ledger()
    record_refunds(ledger, CLOCK, a_refund_fact("evt_re_1", status=RefundStatus.PENDING, reopens_balance=True))

    outcome = record_refunds(ledger, CLOCK, a_refund_fact("evt_re_2", status=RefundStatus.FAILED))

    assert outcome is Outcome.APPLIED
    invoice = ledger.get_invoice("inv_1")
    assert invoice is not None and invoice.amount_refunded == 0 and invoice.amount_remaining == 0
    assert invoice.status is InvoiceStatus.PAID and invoice.next_action_at is None
    assert event_names(ledger) == [EventName.PAYMENT_REFUNDED, EventName.REFUND_FAILED]
    assert ledger.payments[("inv_1", "pi_1")].state == "succeeded"


def test_a_late_created_after_failed_changes_nothing_and_sends_no_email() -> None:
    ledger = paid_ledger()
    record_refunds(ledger, CLOCK, a_refund_fact("evt_re_2", status=RefundStatus.FAILED))

    late = record_refunds(ledger, CLOCK, a_refund_fact("evt_re_1", status=RefundStatus.PENDING))

    assert late is Outcome.NO_CHANGE
    assert ledger.payments[("inv_1", "pi_1")].amount_refunded == 0 and refund_emails(ledger) == []
    assert event_names(ledger) == [EventName.REFUND_FAILED]


def test_charge_refunded_without_its_refunds_listed_moves_nothing() -> None:
    ledger = paid_ledger()

    outcome = record_refunds(ledger, CLOCK, a_charge_refunded_fact("evt_ch_1"))

    assert outcome is Outcome.NO_CHANGE and ledger.payments[("inv_1", "pi_1")].refunds == ()


def test_a_refund_of_a_payment_payportal_did_not_take_is_ignored() -> None:
    ledger = paid_ledger()

    assert record_refunds(ledger, CLOCK, a_refund_fact(payment_intent_id="pi_other")) is Outcome.IGNORED


def test_refunds_beyond_the_payment_are_flagged_and_move_nothing() -> None:
    ledger = paid_ledger()
    record_refunds(ledger, CLOCK, a_refund_fact("evt_re_1", "re_1", amount=10_000))

    outcome = record_refunds(ledger, CLOCK, a_refund_fact("evt_re_2", "re_2", amount=5_000))

    assert outcome is Outcome.FLAGGED
    assert ledger.payments[("inv_1", "pi_1")].amount_refunded == 10_000
    assert "stripe_event.flagged" in ledger.audit_actions("inv_1")


def test_a_refund_in_another_currency_is_flagged() -> None:
    ledger = paid_ledger()
    fact = a_refund_fact()
    other = RefundFact(fact.event, "pi_1", (a_refund_seen(currency="EUR"),))

    assert record_refunds(ledger, CLOCK, other) is Outcome.FLAGGED


def test_refunding_an_overpayment_s_credit_clears_the_credit() -> None:
    ledger = paid_ledger(15_000)  # USD 25.00 paid beyond the USD 125.00 due
    invoice = ledger.get_invoice("inv_1")
    assert invoice is not None and invoice.amount_credit == 2_500

    record_refunds(ledger, CLOCK, a_refund_fact(amount=2_500))

    invoice = ledger.get_invoice("inv_1")
    assert invoice is not None and invoice.amount_credit == 0 and invoice.status is InvoiceStatus.PAID


# ----- convergence ------------------------------------------------------------------------------------------

# Two partial refunds as Stripe reports them: re_1 (USD 30.00) created then succeeded; re_2 (USD 20.00)
# created, then failed. Each event also comes as charge.refunded listing the charge's refunds at that moment.
_HISTORY: tuple[RefundFact, ...] = (
    a_refund_fact("evt_1", "re_1", RefundStatus.PENDING, amount=3_000),
    a_charge_refunded_fact("evt_2", a_refund_seen("re_1", RefundStatus.PENDING, amount=3_000)),
    a_refund_fact("evt_3", "re_1", RefundStatus.SUCCEEDED, amount=3_000),
    a_refund_fact("evt_4", "re_2", RefundStatus.PENDING, amount=2_000, reopens_balance=True),
    a_charge_refunded_fact(
        "evt_5",
        a_refund_seen("re_1", RefundStatus.SUCCEEDED, amount=3_000),
        a_refund_seen("re_2", RefundStatus.PENDING, amount=2_000, reopens_balance=True),
    ),
    a_refund_fact("evt_6", "re_2", RefundStatus.SUCCEEDED, amount=2_000, reopens_balance=True),
)
_FAILED_SECOND = a_refund_fact("evt_7", "re_2", RefundStatus.FAILED, amount=2_000)


@settings(max_examples=300, deadline=None)
@given(data=st.data(), second_fails=st.booleans())
def test_two_partial_refunds_each_delivered_twice_in_any_order_leave_stripe_s_amount_refunded(
    data: st.DataObject, second_fails: bool
) -> None:
    history = (*_HISTORY, _FAILED_SECOND) if second_fails else _HISTORY
    deliveries = data.draw(st.permutations(history * 2))
    ledger = paid_ledger()

    for fact in deliveries:
        record_refunds(ledger, CLOCK, fact)

    stripe_amount_refunded = 3_000 if second_fails else 5_000
    payment = ledger.payments[("inv_1", "pi_1")]
    invoice = ledger.get_invoice("inv_1")
    assert payment.amount_refunded == stripe_amount_refunded
    assert invoice is not None and invoice.amount_refunded == stripe_amount_refunded
    assert invoice.amount_remaining == (0 if second_fails else 2_000)  # only re_2 reopens the balance
    assert invoice.status is (InvoiceStatus.PAID if second_fails else InvoiceStatus.PARTIALLY_PAID)
    emails = [e.refund_id for e in refund_emails(ledger)]
    assert len(emails) == len(set(emails)) and "re_1" in emails  # never twice; re_2 only if seen before failing
    assert event_names(ledger).count(EventName.REFUND_FAILED) == (1 if second_fails else 0)


def test_a_refund_that_overtakes_the_debits_success_is_kept_for_later_then_applies() -> None:
    """Found by tests/unit/services/test_convergence.py: flagged, it was recorded and its redelivery a duplicate."""
    ledger = InMemoryLedger()
    pending = a_payment(status=PaymentStatus.PENDING)
    ledger.commit(Change(new_customer=a_customer(), new_invoice=an_invoice(), payment=pending))

    early = record_refunds(ledger, CLOCK, a_refund_fact(amount=5_000))

    assert early is Outcome.RETRY_LATER
    assert "evt_re_1" not in ledger.stripe_events and ledger.audit_actions() == [] and ledger.outbox_messages() == []
    ledger.commit(Change(payment=a_payment(status=PaymentStatus.SUCCEEDED)))
    assert record_refunds(ledger, CLOCK, a_refund_fact(amount=5_000)) is Outcome.APPLIED
    assert ledger.payments[("inv_1", "pi_1")].amount_refunded == 5_000
