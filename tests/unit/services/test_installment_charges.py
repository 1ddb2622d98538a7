"""Off-session installment charges settled by webhook over the in-memory ledger: a paid installment moves
the plan on, a soft decline is retried on a schedule, a hard decline defaults the plan and returns the
invoice to dunning."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from shared.clock import FixedClock
from shared.domain.invoices import InvoiceStatus, PaymentStatus
from shared.domain.messages import Event, EventName, PlanNews, PlanUpdateEmail, ReceiptEmail
from shared.domain.records import Installment, InstallmentStatus, Plan, PlanStatus
from shared.services.ports import Change
from shared.services.stripe_events.engine import Outcome
from shared.services.stripe_events.facts import PaymentIntentFact
from shared.services.stripe_events.installment_charges import record_charge
from tests.fakes import InMemoryLedger
from tests.fakes.records import NOW, a_customer, a_plan, an_invoice
from tests.fakes.stripe_facts import an_installment_charge_fact

CLOCK = FixedClock(NOW)


def charging_plan(attempt: int = 1, *, count: int = 2) -> Plan:
    """Installment 1 paid; installment 2 being charged off-session (attempt `attempt`); more scheduled."""
    paid = Installment(1, date(2026, 10, 2), 6_250, InstallmentStatus.PAID, 1, "pi_1")
    charging = Installment(2, date(2026, 11, 2), 6_250, InstallmentStatus.CHARGING, attempt, f"pi_inst_2_{attempt}")
    later = tuple(Installment(n, date(2026, 9 + n, 2), 6_250) for n in range(3, count + 1))
    return a_plan(installments=(paid, charging, *later), next_action_at=None)


def ledger_with(plan: Plan) -> InMemoryLedger:
    """Given inv_1 (USD 125.00 for a two-installment plan, more with `count`) has its first installment paid."""
    ledger = InMemoryLedger()
    owed = sum(i.amount for i in plan.installments)
    invoice = an_invoice(
        amount_due=owed,
        amount_paid=6_250,
        status=InvoiceStatus.PARTIALLY_PAID,
        active_plan=plan.id,
        next_action_at=None,
    )
    ledger.commit(Change(new_customer=a_customer(), new_invoice=invoice, new_plan=plan))
    return ledger


def event_names(ledger: InMemoryLedger) -> list[str]:
    return [m.name for m in ledger.outbox_messages() if isinstance(m.body, Event)]


def plan_updates(ledger: InMemoryLedger) -> list[PlanUpdateEmail]:
    return [m.body for m in ledger.outbox_messages() if isinstance(m.body, PlanUpdateEmail)]


def stored_plan(ledger: InMemoryLedger) -> Plan:
    plan = ledger.get_plan("inv_1", "plan_1")
    assert plan is not None
    return plan


def test_the_last_installment_paid_completes_the_plan_and_pays_the_invoice() -> None:
    ledger = ledger_with(charging_plan())

    outcome = record_charge(ledger, CLOCK, an_installment_charge_fact())

    assert outcome is Outcome.APPLIED
    plan = stored_plan(ledger)
    assert plan.status is PlanStatus.COMPLETED and plan.next_action_at is None
    assert plan.installments[1].status is InstallmentStatus.PAID
    invoice = ledger.get_invoice("inv_1")
    assert invoice is not None and invoice.status is InvoiceStatus.PAID and invoice.amount_paid == 12_500
    assert invoice.active_plan is None and invoice.next_action_at is None
    [payment] = ledger.get_invoice_payments("inv_1")
    assert (payment.key, payment.status, payment.amount) == ("pi_inst_2_1", PaymentStatus.SUCCEEDED, 6_250)
    assert event_names(ledger) == [
        EventName.PAYMENT_SUCCEEDED,
        EventName.PLAN_INSTALLMENT_PAID,
        EventName.INVOICE_PAID,
        EventName.PLAN_COMPLETED,
    ]
    receipts = [m.body for m in ledger.outbox_messages() if isinstance(m.body, ReceiptEmail)]
    assert receipts == [ReceiptEmail("inv_1", "pi_inst_2_1", 6_250, paid_at=NOW)]
    assert ledger.audit_actions("inv_1") == ["plan.installment_paid"]


def test_an_installment_paid_with_more_to_come_waits_for_the_next_date() -> None:
    ledger = ledger_with(charging_plan(count=3))

    record_charge(ledger, CLOCK, an_installment_charge_fact())

    plan = stored_plan(ledger)
    assert plan.status is PlanStatus.ACTIVE
    assert plan.next_action_at is not None and plan.next_action_at.date() == date(2026, 12, 2)
    invoice = ledger.get_invoice("inv_1")
    assert invoice is not None and invoice.status is InvoiceStatus.PARTIALLY_PAID and invoice.amount_remaining == 6_250
    assert invoice.active_plan == "plan_1"
    assert EventName.PLAN_COMPLETED not in event_names(ledger)


def test_the_same_charge_event_twice_pays_once() -> None:
    ledger = ledger_with(charging_plan())
    record_charge(ledger, CLOCK, an_installment_charge_fact())

    outcome = record_charge(ledger, CLOCK, an_installment_charge_fact())

    assert outcome is Outcome.DUPLICATE_EVENT
    invoice = ledger.get_invoice("inv_1")
    assert invoice is not None and invoice.amount_paid == 12_500
    assert len(ledger.get_invoice_payments("inv_1")) == 1


@pytest.mark.parametrize(
    "fact",
    [
        an_installment_charge_fact(amount=6_000),
        an_installment_charge_fact(currency="EUR"),
        an_installment_charge_fact(installment=7),
    ],
    ids=["amount", "currency", "unknown installment"],
)
def test_a_charge_that_does_not_match_the_installment_is_flagged(fact: PaymentIntentFact) -> None:
    ledger = ledger_with(charging_plan())

    outcome = record_charge(ledger, CLOCK, fact)

    assert outcome is Outcome.FLAGGED
    assert ledger.audit_actions("inv_1") == ["stripe_event.flagged"]
    invoice = ledger.get_invoice("inv_1")
    assert invoice is not None and invoice.amount_paid == 6_250
    assert stored_plan(ledger) == charging_plan() and ledger.get_invoice_payments("inv_1") == []


@pytest.mark.parametrize(("attempt", "days"), [(1, 3), (2, 5), (3, 7)])
def test_a_soft_decline_is_retried_after_3_5_then_7_days(attempt: int, days: int) -> None:
    ledger = ledger_with(charging_plan(attempt))
    fact = an_installment_charge_fact(
        succeeded=False, attempt=attempt, payment_intent_id=f"pi_inst_2_{attempt}", decline_code="insufficient_funds"
    )

    outcome = record_charge(ledger, CLOCK, fact)

    assert outcome is Outcome.APPLIED
    plan = stored_plan(ledger)
    assert plan.status is PlanStatus.ACTIVE and plan.next_action_at == NOW + timedelta(days=days)
    assert plan.installments[1].status is InstallmentStatus.FAILED
    assert plan.installments[1].failure == "insufficient_funds"
    assert [u.news for u in plan_updates(ledger)] == [PlanNews.RETRYING]
    assert event_names(ledger) == [EventName.PAYMENT_FAILED, EventName.PLAN_INSTALLMENT_FAILED]
    assert ledger.audit_actions("inv_1") == ["plan.installment_failed"]


def test_a_soft_decline_on_the_last_attempt_defaults_the_plan() -> None:
    ledger = ledger_with(charging_plan(4))
    fact = an_installment_charge_fact(
        succeeded=False, attempt=4, payment_intent_id="pi_inst_2_4", decline_code="insufficient_funds"
    )

    record_charge(ledger, CLOCK, fact)

    assert stored_plan(ledger).status is PlanStatus.DEFAULTED
    assert [u.news for u in plan_updates(ledger)] == [PlanNews.DEFAULTED]


@pytest.mark.parametrize(("attempt", "status", "days"), [(1, PlanStatus.ACTIVE, 2), (2, PlanStatus.ACTIVE, 4)])
def test_custom_retry_days_set_the_next_attempt(attempt: int, status: PlanStatus, days: int) -> None:
    ledger = ledger_with(charging_plan(attempt))
    fact = an_installment_charge_fact(
        succeeded=False, attempt=attempt, payment_intent_id=f"pi_inst_2_{attempt}", decline_code="do_not_honor"
    )

    record_charge(ledger, CLOCK, fact, retry_days=(2, 4))

    plan = stored_plan(ledger)
    assert plan.status is status and plan.next_action_at == NOW + timedelta(days=days)


def test_custom_retry_days_run_out_and_default_the_plan() -> None:
    ledger = ledger_with(charging_plan(3))
    fact = an_installment_charge_fact(
        succeeded=False, attempt=3, payment_intent_id="pi_inst_2_3", decline_code="do_not_honor"
    )

    record_charge(ledger, CLOCK, fact, retry_days=(2, 4))

    assert stored_plan(ledger).status is PlanStatus.DEFAULTED


def test_a_hard_decline_defaults_the_plan_and_returns_the_invoice_to_dunning() -> None:
    ledger = ledger_with(charging_plan())

    outcome = record_charge(ledger, CLOCK, an_installment_charge_fact(succeeded=False, decline_code="stolen_card"))

    assert outcome is Outcome.APPLIED
    plan = stored_plan(ledger)
    assert plan.status is PlanStatus.DEFAULTED and plan.next_action_at is None
    invoice = ledger.get_invoice("inv_1")
    assert invoice is not None and invoice.active_plan is None and invoice.next_action_at == NOW
    assert invoice.amount_paid == 6_250 and invoice.in_dunning
    assert event_names(ledger) == [
        EventName.PAYMENT_FAILED,
        EventName.PLAN_INSTALLMENT_FAILED,
        EventName.PLAN_DEFAULTED,
    ]
    [update] = plan_updates(ledger)
    assert (update.news, update.installment, update.amount, update.next_attempt_at) == (
        PlanNews.DEFAULTED,
        2,
        6_250,
        None,
    )
    assert ledger.audit_actions("inv_1") == ["plan.defaulted"]


def test_authentication_required_asks_the_customer_and_waits_the_longest_retry() -> None:
    ledger = ledger_with(charging_plan())
    fact = an_installment_charge_fact(succeeded=False, error_code="authentication_required")

    record_charge(ledger, CLOCK, fact)

    plan = stored_plan(ledger)
    assert plan.status is PlanStatus.ACTIVE and plan.next_action_at == NOW + timedelta(days=7)
    [update] = plan_updates(ledger)
    assert update.news is PlanNews.ACTION_REQUIRED and update.next_attempt_at == NOW + timedelta(days=7)


def test_a_failure_reported_after_the_success_changes_nothing() -> None:
    ledger = ledger_with(charging_plan())
    record_charge(ledger, CLOCK, an_installment_charge_fact())

    outcome = record_charge(
        ledger, CLOCK, an_installment_charge_fact("evt_ic_2", succeeded=False, decline_code="card_declined")
    )

    assert outcome is Outcome.NO_CHANGE
    assert stored_plan(ledger).status is PlanStatus.COMPLETED
    [payment] = ledger.get_invoice_payments("inv_1")
    assert payment.status is PaymentStatus.SUCCEEDED


def test_an_old_attempts_late_failure_is_recorded_but_leaves_the_plan_alone() -> None:
    # Given installment 2 is on its second attempt; the first attempt's failure arrives only now
    plan = charging_plan(2)
    ledger = ledger_with(plan)
    fact = an_installment_charge_fact(succeeded=False, attempt=1, payment_intent_id="pi_inst_2_1", decline_code="x")

    outcome = record_charge(ledger, CLOCK, fact)

    assert outcome is Outcome.APPLIED
    assert stored_plan(ledger) == plan
    [payment] = ledger.get_invoice_payments("inv_1")
    assert payment.status is PaymentStatus.FAILED
    assert event_names(ledger) == [EventName.PAYMENT_FAILED] and plan_updates(ledger) == []


def test_the_last_installment_paid_with_a_late_fee_still_owing_returns_the_invoice_to_dunning() -> None:
    # Given a 10.00 late fee was added after the plan was made
    plan = charging_plan()
    ledger = InMemoryLedger()
    invoice = an_invoice(
        amount_due=13_500, amount_paid=6_250, status=InvoiceStatus.PARTIALLY_PAID, active_plan="plan_1"
    )
    ledger.commit(Change(new_invoice=replace(invoice, next_action_at=None), new_plan=plan))

    record_charge(ledger, CLOCK, an_installment_charge_fact())

    assert stored_plan(ledger).status is PlanStatus.COMPLETED
    owing = ledger.get_invoice("inv_1")
    assert owing is not None and owing.amount_remaining == 1_000 and owing.status is InvoiceStatus.PARTIALLY_PAID
    assert owing.active_plan is None and owing.next_action_at == NOW and owing.in_dunning


def test_an_installment_that_brings_in_more_than_is_owed_keeps_the_excess_as_credit_and_says_so() -> None:
    # Given the customer paid 50.00 of the last installment's 62.50 another way meanwhile (the invoice now
    # owes 12.50), and the charge run's 62.50 lands
    ledger = ledger_with(charging_plan())
    invoice = ledger.invoices["inv_1"]
    ledger.commit(Change(invoice_update=replace(invoice, amount_paid=11_250, version=invoice.version + 1)))

    record_charge(ledger, CLOCK, an_installment_charge_fact())

    stored = ledger.get_invoice("inv_1")
    assert stored is not None and (stored.amount_paid, stored.amount_credit) == (17_500, 5_000)
    assert "invoice.overpaid" in ledger.audit_actions("inv_1")
    assert EventName.INVOICE_OVERPAID in event_names(ledger)
