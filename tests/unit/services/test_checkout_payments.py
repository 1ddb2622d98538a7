"""Payments taken on Checkout, recorded from Stripe's facts over the in-memory ledger: money lands once,
a fact that does not match what we recorded is flagged, and any order of events converges."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from shared.clock import FixedClock
from shared.domain.invoices import InvoiceStatus, PaymentStatus
from shared.domain.messages import Event, EventName, PaymentFailedEmail, ReceiptEmail
from shared.domain.records import Installment, InstallmentStatus, OpenCheckout, PlanStatus
from shared.services.ports import Change
from shared.services.stripe_events.checkout_payments import record_failed_intent, record_session
from shared.services.stripe_events.engine import Outcome
from shared.services.stripe_events.facts import CheckoutSessionFact, SessionState, Tags
from tests.fakes import InMemoryLedger
from tests.fakes.records import NOW, a_checkout, a_customer, a_plan, an_invoice
from tests.fakes.stripe_facts import a_session_fact, an_intent_fact, checkout_tags

CLOCK = FixedClock(NOW)


def ledger_with(**invoice_fields: Any) -> InMemoryLedger:
    """Given customer cus_1 owes inv_1 (USD 125.00) and was sent to Checkout session cs_1 for all of it."""
    ledger = InMemoryLedger()
    ledger.commit(Change(new_customer=a_customer(), new_invoice=an_invoice(**invoice_fields), checkout=a_checkout()))
    return ledger


def event_names(ledger: InMemoryLedger) -> list[str]:
    return [m.name for m in ledger.outbox_messages() if isinstance(m.body, Event)]


def test_a_paid_session_pays_the_invoice_with_a_receipt() -> None:
    ledger = ledger_with()

    outcome = record_session(ledger, CLOCK, a_session_fact())

    assert outcome is Outcome.APPLIED
    invoice = ledger.get_invoice("inv_1")
    assert invoice is not None and invoice.status is InvoiceStatus.PAID and invoice.amount_paid == 12_500
    [payment] = ledger.get_invoice_payments("inv_1")
    assert (payment.key, payment.status, payment.amount, payment.checkout_session_id) == (
        "pi_1",
        PaymentStatus.SUCCEEDED,
        12_500,
        "cs_1",
    )
    assert event_names(ledger) == [EventName.PAYMENT_SUCCEEDED, EventName.INVOICE_PAID]
    receipts = [m.body for m in ledger.outbox_messages() if isinstance(m.body, ReceiptEmail)]
    assert receipts == [ReceiptEmail("inv_1", "pi_1", 12_500, paid_at=NOW)]
    assert ledger.audit_actions("inv_1") == ["payment.succeeded"]
    assert ledger.stripe_events["evt_1"].outcome == "applied"


def test_the_same_event_twice_is_a_duplicate_and_pays_once() -> None:
    ledger = ledger_with()
    record_session(ledger, CLOCK, a_session_fact())

    outcome = record_session(ledger, CLOCK, a_session_fact())

    assert outcome is Outcome.DUPLICATE_EVENT
    invoice = ledger.get_invoice("inv_1")
    assert invoice is not None and invoice.amount_paid == 12_500
    assert len(ledger.get_invoice_payments("inv_1")) == 1
    assert len(ledger.outbox_messages()) == 3 and ledger.audit_actions() == ["payment.succeeded"]


@pytest.mark.parametrize(
    ("fact", "reason"),
    [
        (a_session_fact(amount=1_250), "amount 1250 does not match 12500"),
        (a_session_fact(currency="EUR"), "currency EUR does not match USD"),
        (a_session_fact(session_id="cs_other"), "session does not match the one recorded"),
        (a_session_fact(tags=checkout_tags(checkout_ref="chk_unknown")), "no checkout session recorded"),
        (a_session_fact(tags=checkout_tags(invoice_id="inv_unknown")), "unknown invoice"),
    ],
)
def test_a_session_that_does_not_match_the_record_is_flagged_and_moves_no_money(
    fact: CheckoutSessionFact, reason: str
) -> None:
    ledger = ledger_with()

    outcome = record_session(ledger, CLOCK, fact)

    assert outcome is Outcome.FLAGGED
    invoice = ledger.get_invoice("inv_1")
    assert invoice is not None and invoice.amount_paid == 0 and invoice.status is InvoiceStatus.OPEN
    assert ledger.get_invoice_payments("inv_1") == [] and ledger.outbox_messages() == []
    [audit] = ledger.audit
    assert audit.action == "stripe_event.flagged" and reason in str(audit.details["reason"])
    assert ledger.stripe_events["evt_1"].outcome == "flagged"


def test_a_session_payportal_did_not_create_is_ignored_and_not_recorded() -> None:
    ledger = ledger_with()

    outcome = record_session(ledger, CLOCK, a_session_fact(tags=Tags()))

    assert outcome is Outcome.IGNORED
    assert ledger.stripe_events == {} and ledger.get_invoice_payments("inv_1") == []


def test_a_bank_debit_waits_as_pending_then_pays_when_it_succeeds() -> None:
    ledger = ledger_with()

    waiting = record_session(ledger, CLOCK, a_session_fact(paid=False))
    pending_invoice = ledger.get_invoice("inv_1")
    [pending] = ledger.get_invoice_payments("inv_1")
    succeeded = record_session(ledger, CLOCK, a_session_fact("evt_2", SessionState.ASYNC_SUCCEEDED))

    assert (waiting, succeeded) == (Outcome.APPLIED, Outcome.APPLIED)
    assert pending.status is PaymentStatus.PENDING
    assert pending_invoice is not None and pending_invoice.amount_paid == 0
    invoice = ledger.get_invoice("inv_1")
    assert invoice is not None and invoice.status is InvoiceStatus.PAID and invoice.amount_paid == 12_500
    [payment] = ledger.get_invoice_payments("inv_1")
    assert payment.status is PaymentStatus.SUCCEEDED


def test_the_debit_succeeding_before_the_session_completes_converges() -> None:
    ledger = ledger_with()

    first = record_session(ledger, CLOCK, a_session_fact("evt_2", SessionState.ASYNC_SUCCEEDED))
    late = record_session(ledger, CLOCK, a_session_fact("evt_1", paid=False))

    assert (first, late) == (Outcome.APPLIED, Outcome.NO_CHANGE)
    invoice = ledger.get_invoice("inv_1")
    assert invoice is not None and invoice.amount_paid == 12_500 and invoice.status is InvoiceStatus.PAID
    [payment] = ledger.get_invoice_payments("inv_1")
    assert payment.status is PaymentStatus.SUCCEEDED
    assert ledger.stripe_events["evt_1"].outcome == "no_change"


def test_a_failed_intent_after_the_payment_succeeded_changes_nothing() -> None:
    ledger = ledger_with()
    record_session(ledger, CLOCK, a_session_fact())

    outcome = record_failed_intent(ledger, CLOCK, an_intent_fact(succeeded=False, decline_code="card_declined"))

    assert outcome is Outcome.NO_CHANGE
    [payment] = ledger.get_invoice_payments("inv_1")
    invoice = ledger.get_invoice("inv_1")
    assert payment.status is PaymentStatus.SUCCEEDED and payment.failure_reason is None
    assert invoice is not None and invoice.amount_paid == 12_500
    assert EventName.PAYMENT_FAILED not in event_names(ledger)


def test_a_declined_checkout_intent_is_recorded_as_failed_and_announced() -> None:
    ledger = ledger_with()

    outcome = record_failed_intent(ledger, CLOCK, an_intent_fact(succeeded=False, decline_code="insufficient_funds"))

    assert outcome is Outcome.APPLIED
    [payment] = ledger.get_invoice_payments("inv_1")
    assert payment.status is PaymentStatus.FAILED and payment.failure_reason == "insufficient_funds"
    invoice = ledger.get_invoice("inv_1")
    assert invoice is not None and invoice.amount_paid == 0 and invoice.status is InvoiceStatus.OPEN
    assert event_names(ledger) == [EventName.PAYMENT_FAILED]
    assert ledger.audit_actions("inv_1") == ["payment.failed"]


def test_a_returned_bank_debit_fails_the_payment() -> None:
    ledger = ledger_with()
    record_session(ledger, CLOCK, a_session_fact(paid=False))

    outcome = record_session(ledger, CLOCK, a_session_fact("evt_2", SessionState.ASYNC_FAILED))

    assert outcome is Outcome.APPLIED
    [payment] = ledger.get_invoice_payments("inv_1")
    assert payment.status is PaymentStatus.FAILED and payment.failure_reason == "async_payment_failed"
    assert event_names(ledger) == [EventName.PAYMENT_FAILED]
    # and the customer, who left Checkout thinking it was paid, is told, with a link to pay another way
    emails = [m.body for m in ledger.outbox_messages() if isinstance(m.body, PaymentFailedEmail)]
    assert emails == [PaymentFailedEmail("inv_1", "pi_1", 12_500)]


@pytest.mark.parametrize(
    "fact",
    [a_session_fact(amount=None), a_session_fact(currency=None), a_session_fact(amount=None, currency=None)],
    ids=["no amount", "no currency", "neither"],
)
def test_a_paid_session_that_does_not_say_what_was_paid_is_flagged(fact: CheckoutSessionFact) -> None:
    ledger = ledger_with()

    assert record_session(ledger, CLOCK, fact) is Outcome.FLAGGED

    invoice = ledger.get_invoice("inv_1")
    assert invoice is not None and invoice.amount_paid == 0 and ledger.get_invoice_payments("inv_1") == []
    assert ledger.stripe_events["evt_1"].detail == "the event does not say what amount and currency were paid"


def test_an_expired_session_is_recorded_and_moves_nothing() -> None:
    ledger = ledger_with()

    outcome = record_session(ledger, CLOCK, a_session_fact(state=SessionState.EXPIRED, paid=False))

    assert outcome is Outcome.APPLIED
    assert ledger.stripe_events["evt_1"].detail == "session expired"
    assert ledger.get_invoice_payments("inv_1") == [] and ledger.outbox_messages() == []


def test_a_partial_payment_leaves_the_rest_owing() -> None:
    ledger = InMemoryLedger()
    partial = replace(a_checkout(), amount=5_000)
    ledger.commit(Change(new_invoice=an_invoice(allow_partial=True, min_partial_amount=1_000), checkout=partial))

    outcome = record_session(ledger, CLOCK, a_session_fact(amount=5_000))

    assert outcome is Outcome.APPLIED
    invoice = ledger.get_invoice("inv_1")
    assert invoice is not None and invoice.status is InvoiceStatus.PARTIALLY_PAID
    assert (invoice.amount_paid, invoice.amount_remaining) == (5_000, 7_500)
    assert event_names(ledger) == [EventName.PAYMENT_SUCCEEDED, EventName.INVOICE_PARTIALLY_PAID]


def test_an_overpayment_is_kept_as_credit_and_audited() -> None:
    # Given 100.00 of the 125.00 is paid already, and the customer pays the full 125.00 again on Checkout
    ledger = ledger_with(amount_paid=10_000, status=InvoiceStatus.PARTIALLY_PAID)

    outcome = record_session(ledger, CLOCK, a_session_fact())

    assert outcome is Outcome.APPLIED
    invoice = ledger.get_invoice("inv_1")
    assert invoice is not None and invoice.status is InvoiceStatus.PAID
    assert (invoice.amount_paid, invoice.amount_credit) == (22_500, 10_000)
    assert ledger.audit_actions("inv_1") == ["payment.succeeded", "invoice.overpaid"]
    [overpaid] = [a for a in ledger.audit if a.action == "invoice.overpaid"]
    assert overpaid.details == {"credit": 10_000, "currency": "USD"}
    # and the operator hears of it, with what was added, to refund it or keep it
    [news] = [m.body for m in ledger.outbox_messages() if isinstance(m.body, Event) and m.name == "invoice.overpaid"]
    assert (news.detail["amount_credit"], news.detail["credit_added"], news.detail["payment_id"]) == (
        10_000,
        10_000,
        "pi_1",
    )


def test_a_plans_first_installment_paid_on_checkout_activates_the_plan() -> None:
    # Given the customer chose two installments of 62.50 and is paying the first on Checkout
    ledger = InMemoryLedger()
    plan = a_plan(
        status=PlanStatus.AWAITING_FIRST,
        installments=(Installment(1, date(2026, 11, 2), 6_250), Installment(2, date(2026, 12, 2), 6_250)),
        next_action_at=None,
    )
    first = replace(a_checkout(), amount=6_250)
    ledger.commit(Change(new_invoice=an_invoice(next_action_at=NOW), checkout=first, new_plan=plan))

    outcome = record_session(ledger, CLOCK, a_session_fact(amount=6_250, tags=checkout_tags(plan_id="plan_1")))

    assert outcome is Outcome.APPLIED
    active = ledger.get_plan("inv_1", "plan_1")
    assert active is not None and active.status is PlanStatus.ACTIVE
    assert (
        active.installments[0].status is InstallmentStatus.PAID and active.installments[0].payment_intent_id == "pi_1"
    )
    assert active.next_action_at is not None and active.next_action_at.date() == date(2026, 12, 2)
    invoice = ledger.get_invoice("inv_1")
    assert invoice is not None and invoice.amount_paid == 6_250 and invoice.active_plan == "plan_1"
    assert invoice.next_action_at is None  # no reminders while the plan runs
    assert EventName.PLAN_CREATED in event_names(ledger) and EventName.PLAN_INSTALLMENT_PAID in event_names(ledger)
    assert "plan.created" in ledger.audit_actions("inv_1")


def test_an_installment_paid_on_checkout_after_failing_off_session_completes_the_plan() -> None:
    # Given installment 1 of 2 is paid, and installment 2 failed off-session (the customer pays it on Checkout)
    ledger = InMemoryLedger()
    invoice = an_invoice(amount_paid=6_250, status=InvoiceStatus.PARTIALLY_PAID, active_plan="plan_1")
    second = replace(a_checkout("chk_2", "cs_2"), amount=6_250)
    ledger.commit(Change(new_invoice=invoice, checkout=second, new_plan=a_plan()))
    tags = checkout_tags(checkout_ref="chk_2", plan_id="plan_1", installment=2)

    outcome = record_session(
        ledger, CLOCK, a_session_fact(session_id="cs_2", payment_intent_id="pi_9", amount=6_250, tags=tags)
    )

    assert outcome is Outcome.APPLIED
    plan = ledger.get_plan("inv_1", "plan_1")
    assert plan is not None and plan.status is PlanStatus.COMPLETED and plan.next_action_at is None
    assert plan.installments[1].status is InstallmentStatus.PAID and plan.installments[1].payment_intent_id == "pi_9"
    paid = ledger.get_invoice("inv_1")
    assert paid is not None and paid.status is InvoiceStatus.PAID and paid.amount_paid == 12_500
    assert paid.active_plan is None
    names = event_names(ledger)
    assert EventName.PLAN_COMPLETED in names and EventName.PLAN_INSTALLMENT_PAID in names


def test_an_installment_paid_on_checkout_after_its_plan_defaulted_counts_the_money_only() -> None:
    ledger = InMemoryLedger()
    defaulted = a_plan(status=PlanStatus.DEFAULTED, next_action_at=None)
    invoice = an_invoice(amount_paid=6_250, status=InvoiceStatus.PARTIALLY_PAID, next_action_at=NOW)
    second = replace(a_checkout("chk_2", "cs_2"), amount=6_250)
    ledger.commit(Change(new_invoice=invoice, checkout=second, new_plan=defaulted))
    tags = checkout_tags(checkout_ref="chk_2", plan_id="plan_1", installment=2)

    outcome = record_session(
        ledger, CLOCK, a_session_fact(session_id="cs_2", payment_intent_id="pi_9", amount=6_250, tags=tags)
    )

    assert outcome is Outcome.APPLIED
    assert ledger.get_plan("inv_1", "plan_1") == defaulted
    paid = ledger.get_invoice("inv_1")
    assert paid is not None and paid.status is InvoiceStatus.PAID and paid.amount_paid == 12_500
    assert EventName.PLAN_INSTALLMENT_PAID not in event_names(ledger)


def ledger_with_open_checkouts() -> InMemoryLedger:
    """Given inv_1 whose first session (cs_1, opened as version 1) was replaced by cs_2 (version 2)."""
    ledger = InMemoryLedger()
    first = replace(a_checkout(), opened_as=1)
    second = replace(a_checkout("chk_2", "cs_2"), opened_as=2)
    ledger.commit(Change(new_customer=a_customer(), new_invoice=an_invoice(), checkout=first))
    ledger.commit(Change(checkout=second, open_checkout=OpenCheckout("inv_1", 1, first, "pay:12500")))
    ledger.commit(Change(open_checkout=OpenCheckout("inv_1", 2, second, "pay:12500")))
    return ledger


def test_a_payment_on_a_session_that_was_replaced_is_flagged_and_moves_no_money() -> None:
    ledger = ledger_with_open_checkouts()

    outcome = record_session(ledger, CLOCK, a_session_fact())

    assert outcome is Outcome.FLAGGED
    invoice = ledger.get_invoice("inv_1")
    assert invoice is not None and invoice.amount_paid == 0 and ledger.get_invoice_payments("inv_1") == []
    assert ledger.stripe_events["evt_1"].detail == "paid on a Checkout Session that was expired or replaced"
    assert ledger.audit_actions("inv_1") == ["stripe_event.flagged"]


def test_the_open_session_paid_closes_the_invoices_open_checkout_and_records_its_outcome() -> None:
    ledger = ledger_with_open_checkouts()

    fact = a_session_fact(session_id="cs_2", paid=False, tags=checkout_tags(checkout_ref="chk_2"))
    record_session(ledger, CLOCK, fact)  # a bank debit: completed, money on its way
    settled = a_session_fact("evt_2", SessionState.ASYNC_SUCCEEDED, session_id="cs_2", tags=fact.tags)
    outcome = record_session(ledger, CLOCK, settled)

    assert outcome is Outcome.APPLIED
    assert ledger.open_checkouts["inv_1"] == OpenCheckout("inv_1", 3, None, "")
    assert ledger.checkouts[("inv_1", "chk_2")].payment_status is PaymentStatus.SUCCEEDED
    invoice = ledger.get_invoice("inv_1")
    assert invoice is not None and invoice.status is InvoiceStatus.PAID


def test_a_session_that_expired_leaves_no_payable_session_and_a_late_payment_on_it_is_flagged() -> None:
    ledger = ledger_with_open_checkouts()
    tags = checkout_tags(checkout_ref="chk_2")

    expired = record_session(ledger, CLOCK, a_session_fact("evt_x", SessionState.EXPIRED, session_id="cs_2", tags=tags))
    late = record_session(ledger, CLOCK, a_session_fact("evt_y", session_id="cs_2", tags=tags))

    assert expired is Outcome.APPLIED and ledger.open_checkouts["inv_1"].current is None
    assert late is Outcome.FLAGGED
    invoice = ledger.get_invoice("inv_1")
    assert invoice is not None and invoice.amount_paid == 0


def test_a_debits_failure_told_first_by_its_payment_intent_still_closes_the_session_and_tells_the_customer() -> None:
    """Found by tests/unit/services/test_convergence.py: with payment_intent.payment_failed first, the session's
    own events changed nothing, so the session stayed payable and `pending` and the customer, who left
    Checkout thinking it was paid, was never told."""
    ledger = ledger_with()
    ledger.commit(Change(open_checkout=OpenCheckout("inv_1", 1, a_checkout(), "pay:12500")))
    record_failed_intent(ledger, CLOCK, an_intent_fact("evt_pi", succeeded=False, decline_code="debit_returned"))

    failed = record_session(ledger, CLOCK, a_session_fact("evt_2", SessionState.ASYNC_FAILED, paid=False))
    completed = record_session(ledger, CLOCK, a_session_fact("evt_1", paid=False))

    assert (failed, completed) == (Outcome.NO_CHANGE, Outcome.NO_CHANGE)
    assert ledger.checkouts[("inv_1", "chk_1")].payment_status is PaymentStatus.FAILED
    assert ledger.open_checkouts["inv_1"].current is None
    [payment] = ledger.get_invoice_payments("inv_1")
    assert payment.status is PaymentStatus.FAILED
    emails = [m.body for m in ledger.outbox_messages() if isinstance(m.body, PaymentFailedEmail)]
    assert emails == [PaymentFailedEmail("inv_1", "pi_1", 12_500)]
    assert event_names(ledger) == [EventName.PAYMENT_FAILED]
