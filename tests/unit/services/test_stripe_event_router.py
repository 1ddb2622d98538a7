"""The router sends each Stripe fact to its use case, and ignores (without recording) what payportal does
not act on."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from shared.clock import FixedClock
from shared.domain.invoices import InvoiceStatus, PaymentStatus
from shared.domain.messages import Event, EventName
from shared.domain.records import DisputeStatus, Installment, InstallmentStatus, PlanStatus
from shared.services.ports import Change
from shared.services.stripe_events.engine import Outcome
from shared.services.stripe_events.facts import OtherEvent, SetupPurpose
from shared.services.stripe_events.router import record_stripe_event
from tests.fakes import InMemoryLedger
from tests.fakes.records import NOW, a_checkout, a_customer, a_payment, a_plan, an_invoice
from tests.fakes.stripe_facts import (
    a_dispute_fact,
    a_session_fact,
    a_setup_fact,
    an_event_meta,
    an_installment_charge_fact,
    an_intent_fact,
    checkout_tags,
)

CLOCK = FixedClock(NOW)


def ledger_with_checkout() -> InMemoryLedger:
    ledger = InMemoryLedger()
    ledger.commit(Change(new_customer=a_customer(), new_invoice=an_invoice(), checkout=a_checkout()))
    return ledger


def test_a_checkout_session_fact_pays_the_invoice() -> None:
    ledger = ledger_with_checkout()

    assert record_stripe_event(ledger, CLOCK, a_session_fact()) is Outcome.APPLIED
    invoice = ledger.get_invoice("inv_1")
    assert invoice is not None and invoice.status is InvoiceStatus.PAID


def test_an_autopay_setup_session_turns_autopay_on() -> None:
    ledger = ledger_with_checkout()

    assert record_stripe_event(ledger, CLOCK, a_setup_fact()) is Outcome.APPLIED
    customer = ledger.get_customer("cus_1")
    assert customer is not None and customer.autopay is not None


def test_other_setup_sessions_are_ignored_and_not_recorded() -> None:
    ledger = ledger_with_checkout()

    card_update = record_stripe_event(ledger, CLOCK, a_setup_fact(purpose=SetupPurpose.CARD_UPDATE))
    unfinished = record_stripe_event(ledger, CLOCK, a_setup_fact("evt_setup_2", completed=False))

    assert (card_update, unfinished) == (Outcome.IGNORED, Outcome.IGNORED)
    customer = ledger.get_customer("cus_1")
    assert customer is not None and customer.autopay is None and ledger.stripe_events == {}


def test_an_installment_charge_reaches_the_plan_with_the_retry_days_given() -> None:
    ledger = InMemoryLedger()
    charging = Installment(2, date(2026, 11, 2), 6_250, InstallmentStatus.CHARGING, 1, "pi_inst_2_1")
    plan = a_plan(installments=(a_plan().installments[0], charging))
    invoice = an_invoice(amount_paid=6_250, status=InvoiceStatus.PARTIALLY_PAID, active_plan="plan_1")
    ledger.commit(Change(new_invoice=invoice, new_plan=plan))
    fact = an_installment_charge_fact(succeeded=False, decline_code="insufficient_funds")

    assert record_stripe_event(ledger, CLOCK, fact, retry_days=(1, 2)) is Outcome.APPLIED
    stored = ledger.get_plan("inv_1", "plan_1")
    assert stored is not None and stored.status is PlanStatus.ACTIVE
    assert stored.next_action_at == NOW + timedelta(days=1)


def test_a_failed_checkout_intent_fails_the_payment() -> None:
    ledger = ledger_with_checkout()

    assert record_stripe_event(ledger, CLOCK, an_intent_fact(succeeded=False)) is Outcome.APPLIED
    [payment] = ledger.get_invoice_payments("inv_1")
    assert payment.status is PaymentStatus.FAILED


def test_a_succeeded_checkout_intent_is_ignored_the_session_records_it() -> None:
    ledger = ledger_with_checkout()

    assert record_stripe_event(ledger, CLOCK, an_intent_fact()) is Outcome.IGNORED
    assert ledger.get_invoice_payments("inv_1") == [] and ledger.stripe_events == {}


def test_the_intent_of_a_checkout_session_paying_an_installment_is_the_sessions_not_an_off_session_charge() -> None:
    """Found by tests/unit/services/test_convergence.py: its PaymentIntent carries the session's plan tags, so
    arriving before the session's events it was recorded as an off-session charge (other events, other
    detail), and after them it was not: two orders, two outboxes."""
    ledger = InMemoryLedger()
    invoice = an_invoice(amount_paid=6_250, status=InvoiceStatus.PARTIALLY_PAID, active_plan="plan_1")
    checkout = replace(a_checkout(), amount=6_250)  # installment 2, declined off-session, paid on Checkout
    ledger.commit(Change(new_customer=a_customer(), new_invoice=invoice, new_plan=a_plan(), checkout=checkout))
    tags = checkout_tags(plan_id="plan_1", installment=2)

    succeeded = record_stripe_event(ledger, CLOCK, an_intent_fact("evt_pi_ok", amount=6_250, tags=tags))
    failed = record_stripe_event(ledger, CLOCK, an_intent_fact("evt_pi_no", succeeded=False, amount=6_250, tags=tags))

    assert succeeded is Outcome.IGNORED  # the session's completed event records the payment
    assert failed is Outcome.APPLIED  # as a Checkout payment's failure
    assert ledger.get_plan("inv_1", "plan_1") == a_plan()
    [news] = [m.body for m in ledger.outbox_messages() if isinstance(m.body, Event)]
    assert news.name is EventName.PAYMENT_FAILED and "installment" not in news.detail


def test_a_dispute_fact_opens_the_dispute() -> None:
    ledger = InMemoryLedger()
    paid = an_invoice(amount_paid=12_500, status=InvoiceStatus.PAID)
    ledger.commit(Change(new_invoice=paid, payment=a_payment()))

    assert record_stripe_event(ledger, CLOCK, a_dispute_fact()) is Outcome.APPLIED
    assert ledger.disputes[("inv_1", "dp_1")].status is DisputeStatus.OPEN


def test_an_event_payportal_does_not_act_on_is_ignored() -> None:
    ledger = ledger_with_checkout()
    before = ledger.get_invoice("inv_1")

    outcome = record_stripe_event(ledger, CLOCK, OtherEvent(an_event_meta(type="customer.updated", object_id="cus_x")))

    assert outcome is Outcome.IGNORED
    assert ledger.stripe_events == {} and ledger.get_invoice("inv_1") == before


@pytest.mark.parametrize(
    ("event_live", "stack_live"), [(True, False), (False, True)], ids=["live on test", "test on live"]
)
def test_an_event_of_the_other_stripe_mode_is_flagged_and_moves_nothing(event_live: bool, stack_live: bool) -> None:
    ledger = ledger_with_checkout()
    fact = replace(a_session_fact(), event=replace(a_session_fact().event, livemode=event_live))

    assert record_stripe_event(ledger, CLOCK, fact, livemode=stack_live) is Outcome.FLAGGED

    invoice = ledger.get_invoice("inv_1")
    assert invoice is not None and invoice.amount_paid == 0 and ledger.get_invoice_payments("inv_1") == []
    modes = {True: "live", False: "test"}
    assert (
        ledger.stripe_events["evt_1"].detail == f"a {modes[event_live]}-mode event on a {modes[stack_live]}-mode stack"
    )
    # The same event again is a duplicate, not applied
    assert record_stripe_event(ledger, CLOCK, fact, livemode=stack_live) is Outcome.DUPLICATE_EVENT


def test_a_live_event_on_a_live_stack_is_applied() -> None:
    ledger = ledger_with_checkout()
    fact = replace(a_session_fact(), event=replace(a_session_fact().event, livemode=True))

    assert record_stripe_event(ledger, CLOCK, fact, livemode=True) is Outcome.APPLIED
