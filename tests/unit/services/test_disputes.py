"""Disputes (chargebacks) over the in-memory ledger: dunning stops while one is open, a lost one takes the
money back and holds the invoice, and a late "created" cannot reopen a closed dispute."""

from __future__ import annotations

from dataclasses import replace

from shared.clock import FixedClock
from shared.domain.invoices import InvoiceStatus, PaymentStatus
from shared.domain.messages import Event, EventName
from shared.domain.records import DisputeStatus
from shared.services.ports import Change
from shared.services.stripe_events.disputes import LOST_HOLD_REASON, record_dispute
from shared.services.stripe_events.engine import Outcome
from tests.fakes import InMemoryLedger
from tests.fakes.records import NOW, a_customer, a_payment, an_invoice
from tests.fakes.stripe_facts import a_dispute_fact

CLOCK = FixedClock(NOW)


def paid_ledger(amount_paid: int = 12_500) -> InMemoryLedger:
    """Given inv_1 (USD 125.00) was paid `amount_paid` by PaymentIntent pi_1."""
    ledger = InMemoryLedger()
    status = InvoiceStatus.PAID if amount_paid >= 12_500 else InvoiceStatus.PARTIALLY_PAID
    invoice = an_invoice(amount_paid=amount_paid, status=status, next_action_at=None if amount_paid >= 12_500 else NOW)
    ledger.commit(Change(new_customer=a_customer(), new_invoice=invoice, payment=a_payment(amount=amount_paid)))
    return ledger


def event_names(ledger: InMemoryLedger) -> list[str]:
    return [m.name for m in ledger.outbox_messages() if isinstance(m.body, Event)]


def test_an_opened_dispute_stops_dunning_and_tells_the_operator() -> None:
    ledger = paid_ledger(5_000)

    outcome = record_dispute(ledger, CLOCK, a_dispute_fact(amount=5_000))

    assert outcome is Outcome.APPLIED
    invoice = ledger.get_invoice("inv_1")
    assert invoice is not None and invoice.open_disputes == frozenset({"dp_1"}) and invoice.next_action_at is None
    assert not invoice.in_dunning and invoice.amount_paid == 5_000
    assert event_names(ledger) == [EventName.INVOICE_DISPUTED]
    assert ledger.audit_actions("inv_1") == ["dispute.open"]


def test_a_won_dispute_keeps_the_money_and_resumes_dunning_for_what_is_owed() -> None:
    ledger = paid_ledger(5_000)
    record_dispute(ledger, CLOCK, a_dispute_fact(amount=5_000))

    outcome = record_dispute(ledger, CLOCK, a_dispute_fact("evt_dp_2", DisputeStatus.WON, amount=5_000))

    assert outcome is Outcome.APPLIED
    invoice = ledger.get_invoice("inv_1")
    assert invoice is not None and invoice.open_disputes == frozenset() and invoice.amount_paid == 5_000
    assert invoice.next_action_at == NOW and invoice.hold is None
    assert event_names(ledger) == [EventName.INVOICE_DISPUTED, EventName.INVOICE_DISPUTE_CLOSED]
    assert ledger.audit_actions("inv_1") == ["dispute.open", "dispute.won"]


def test_a_lost_dispute_takes_the_money_back_and_holds_the_invoice() -> None:
    ledger = paid_ledger()
    record_dispute(ledger, CLOCK, a_dispute_fact())

    outcome = record_dispute(ledger, CLOCK, a_dispute_fact("evt_dp_2", DisputeStatus.LOST))

    assert outcome is Outcome.APPLIED
    invoice = ledger.get_invoice("inv_1")
    assert invoice is not None and invoice.amount_paid == 0 and invoice.status is InvoiceStatus.OPEN
    assert invoice.hold is not None and invoice.hold.reason == LOST_HOLD_REASON
    assert invoice.next_action_at is None and invoice.open_disputes == frozenset()
    assert ledger.audit_actions("inv_1") == ["dispute.open", "dispute.lost"]


def test_a_created_event_arriving_after_closed_does_not_reopen_the_dispute() -> None:
    ledger = paid_ledger()
    record_dispute(ledger, CLOCK, a_dispute_fact("evt_dp_2", DisputeStatus.WON))

    late = record_dispute(ledger, CLOCK, a_dispute_fact("evt_dp_1", DisputeStatus.OPEN))

    assert late is Outcome.NO_CHANGE
    invoice = ledger.get_invoice("inv_1")
    assert invoice is not None and invoice.open_disputes == frozenset() and invoice.amount_paid == 12_500
    assert ledger.disputes[("inv_1", "dp_1")].status is DisputeStatus.WON
    assert event_names(ledger) == [EventName.INVOICE_DISPUTE_CLOSED]


def test_the_same_dispute_event_twice_is_applied_once() -> None:
    ledger = paid_ledger()
    record_dispute(ledger, CLOCK, a_dispute_fact())

    outcome = record_dispute(ledger, CLOCK, a_dispute_fact())

    assert outcome is Outcome.DUPLICATE_EVENT
    assert event_names(ledger) == [EventName.INVOICE_DISPUTED] and ledger.audit_actions() == ["dispute.open"]


def test_a_dispute_of_a_payment_payportal_did_not_take_is_ignored() -> None:
    ledger = paid_ledger()

    outcome = record_dispute(ledger, CLOCK, a_dispute_fact(payment_intent_id="pi_elsewhere"))

    assert outcome is Outcome.IGNORED
    assert ledger.disputes == {} and ledger.stripe_events == {}


def test_a_dispute_in_another_currency_is_flagged_and_changes_nothing() -> None:
    ledger = paid_ledger()

    outcome = record_dispute(ledger, CLOCK, a_dispute_fact(currency="EUR"))

    assert outcome is Outcome.FLAGGED
    invoice = ledger.get_invoice("inv_1")
    assert invoice is not None and invoice.open_disputes == frozenset()
    assert ledger.disputes == {} and ledger.audit_actions("inv_1") == ["stripe_event.flagged"]


def test_a_lost_dispute_that_overtakes_the_debits_success_waits_for_it() -> None:
    """Found by tests/unit/services/test_convergence.py: applied to a pending debit, the loss took back nothing
    (amount_paid stayed 0) and the success then counted the money, leaving the invoice paid."""
    ledger = InMemoryLedger()
    pending = a_payment(status=PaymentStatus.PENDING)
    ledger.commit(Change(new_customer=a_customer(), new_invoice=an_invoice(), payment=pending))

    early = record_dispute(ledger, CLOCK, a_dispute_fact("evt_dp_2", DisputeStatus.LOST))

    assert early is Outcome.RETRY_LATER and ledger.disputes == {} and "evt_dp_2" not in ledger.stripe_events
    invoice = ledger.get_invoice("inv_1")
    assert invoice is not None
    ledger.commit(Change(payment=a_payment(), invoice_update=invoice.with_payment(12_500)))  # the success, then
    assert record_dispute(ledger, CLOCK, a_dispute_fact("evt_dp_2", DisputeStatus.LOST)) is Outcome.APPLIED
    invoice = ledger.get_invoice("inv_1")
    assert invoice is not None and invoice.amount_paid == 0 and invoice.status is InvoiceStatus.OPEN


def test_a_lost_dispute_after_a_refund_that_reopened_the_balance_counts_only_what_is_settled() -> None:
    """Found by tests/unit/services/test_convergence.py: the loss read `amount_paid` and not what was left
    after the reopening refund, so the same history in two orders ended partially paid and open."""
    ledger = InMemoryLedger()
    invoice = an_invoice(amount_paid=12_500, amount_refunded=2_500, amount_reopened=2_500)
    invoice = replace(invoice, status=InvoiceStatus.PARTIALLY_PAID, next_action_at=NOW)
    ledger.commit(Change(new_customer=a_customer(), new_invoice=invoice, payment=a_payment()))

    record_dispute(ledger, CLOCK, a_dispute_fact("evt_dp_2", DisputeStatus.LOST, amount=10_000))

    after = ledger.get_invoice("inv_1")
    assert after is not None and after.amount_paid == 2_500 and after.amount_settled == 0
    assert after.status is InvoiceStatus.OPEN and after.amount_remaining == 12_500
