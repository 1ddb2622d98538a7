"""The charge run over the in-memory ledger and the fake gateway: one off-session PaymentIntent per
(installment, attempt), under a key that makes a retry safe; held or disputed invoices pause their plan;
autopay sends its notice first; recurring charges are invoiced in the same run."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from shared.clock import FixedClock
from shared.domain.invoices import Hold, InvoiceStatus
from shared.domain.messages import AutopayNoticeEmail, Event, EventName, PlanNews, PlanUpdateEmail
from shared.domain.plan_lifecycle import autopay_plan
from shared.domain.records import Autopay, Installment, InstallmentStatus, Plan, PlanKind, PlanStatus
from shared.services.charges import CLAIM_WAIT, PAUSE_RECHECK, SETTLE_WAIT, ChargeReport, charge_plan, run_charges
from shared.services.gateway import ChargeOutcome
from shared.services.ports import Change
from tests.fakes import FakeGateway, InMemoryLedger
from tests.fakes.records import NOW, a_customer, a_plan, a_recurring, an_invoice

CLOCK = FixedClock(NOW)
PAID_FIRST = Installment(1, date(2026, 10, 2), 4_000, InstallmentStatus.PAID, 1, "pi_1")


def due_plan(second: Installment | None = None, *, third: bool = False) -> Plan:
    """plan_1 of inv_1: installment 1 paid, installment 2 (40.00) due now, and perhaps a third on 2 December."""
    second = second or Installment(2, date(2026, 11, 2), 4_000)
    later = (Installment(3, date(2026, 12, 2), 4_500),) if third else ()
    return a_plan(installments=(PAID_FIRST, second, *later), next_action_at=NOW)


def ledger_with(plan: Plan, *, stripe_customer: str | None = "cus_stripe_1", **invoice_fields: Any) -> InMemoryLedger:
    ledger = InMemoryLedger()
    invoice = an_invoice(
        amount_due=sum(i.amount for i in plan.installments),
        amount_paid=4_000,
        status=InvoiceStatus.PARTIALLY_PAID,
        active_plan=plan.id,
        next_action_at=None,
    )
    customer = a_customer(stripe_customer_id=stripe_customer)
    ledger.commit(Change(new_customer=customer, new_invoice=replace(invoice, **invoice_fields), new_plan=plan))
    return ledger


def stored_plan(ledger: InMemoryLedger, plan_id: str = "plan_1") -> Plan:
    plan = ledger.get_plan("inv_1", plan_id)
    assert plan is not None
    return plan


def test_a_due_installment_is_charged_once_under_its_attempts_key() -> None:
    ledger, gateway = ledger_with(due_plan()), FakeGateway()

    report = run_charges(ledger, gateway, CLOCK)

    [charge] = gateway.charges
    assert (charge.stripe_customer_id, charge.amount, charge.currency) == ("cus_stripe_1", 4_000, "USD")
    assert charge.idempotency_key == "payportal-installment-plan_1-2-1"
    assert charge.metadata == {
        "invoice_id": "inv_1",
        "customer_id": "cus_1",
        "plan_id": "plan_1",
        "installment": "2",
        "attempt": "1",
    }
    charging = stored_plan(ledger).installments[1]
    assert (charging.status, charging.attempts, charging.payment_intent_id) == (
        InstallmentStatus.CHARGING,
        1,
        "pi_fake_1",
    )
    assert stored_plan(ledger).next_action_at == NOW + SETTLE_WAIT
    # the claim, then the PaymentIntent Stripe created for it
    assert ledger.audit_actions("inv_1") == ["plan.charge_attempted", "plan.charge_created"]
    assert ledger.audit[-1].details["payment_intent"] == "pi_fake_1"
    assert (report.examined, report.charged, report.complete) == (1, 1, True)
    assert ledger.get_invoice_payments("inv_1") == []  # the money is recorded by webhook


def test_a_second_run_charges_nothing_more() -> None:
    ledger, gateway = ledger_with(due_plan()), FakeGateway()
    run_charges(ledger, gateway, CLOCK)

    report = run_charges(ledger, gateway, FixedClock(NOW + SETTLE_WAIT))

    # The charge in flight waits for its webhook; reconciliation, not this run, looks at it after SETTLE_WAIT
    assert len(gateway.charges) == 1 and report.examined == 0
    assert stored_plan(ledger).outcome_check_at == NOW + SETTLE_WAIT


def test_a_charge_in_flight_handed_to_the_run_is_left_waiting() -> None:
    ledger, gateway = ledger_with(due_plan()), FakeGateway()
    run_charges(ledger, gateway, CLOCK)

    report = ChargeReport()
    charge_plan(ledger, gateway, stored_plan(ledger), NOW + SETTLE_WAIT, report)

    assert len(gateway.charges) == 1
    assert report.waiting == 1 and stored_plan(ledger).next_action_at == NOW + 2 * SETTLE_WAIT


def test_a_run_that_died_after_claiming_asks_stripe_again_with_the_same_key() -> None:
    claimed = Installment(2, date(2026, 11, 2), 4_000, InstallmentStatus.CHARGING, 1, None)
    ledger, gateway = ledger_with(due_plan(claimed)), FakeGateway()

    run_charges(ledger, gateway, CLOCK)

    [charge] = gateway.charges
    assert charge.idempotency_key == "payportal-installment-plan_1-2-1"
    assert stored_plan(ledger).installments[1].attempts == 1
    assert ledger.audit_actions("inv_1") == ["plan.charge_created"]  # no new attempt was claimed


def test_a_failed_installment_is_retried_as_the_next_attempt() -> None:
    failed = Installment(2, date(2026, 11, 2), 4_000, InstallmentStatus.FAILED, 1, "pi_old", "insufficient_funds")
    ledger, gateway = ledger_with(due_plan(failed)), FakeGateway()

    run_charges(ledger, gateway, CLOCK)

    [charge] = gateway.charges
    assert charge.idempotency_key == "payportal-installment-plan_1-2-2" and charge.metadata["attempt"] == "2"
    assert stored_plan(ledger).installments[1].attempts == 2


def test_a_plan_claimed_by_another_run_is_a_conflict_and_not_charged() -> None:
    ledger, gateway = ledger_with(due_plan()), FakeGateway()
    stale = due_plan()
    run_charges(ledger, gateway, CLOCK)
    report = ChargeReport()

    charge_plan(ledger, gateway, stale, NOW, report)

    assert report.conflicts == 1 and len(gateway.charges) == 1


def test_a_decline_at_once_is_counted_and_its_intent_noted_for_the_webhook() -> None:
    ledger, gateway = ledger_with(due_plan()), FakeGateway()
    gateway.charge_outcomes.append(ChargeOutcome("pi_declined", "failed", code="card_declined"))

    report = run_charges(ledger, gateway, CLOCK)

    assert (report.failed_at_stripe, report.charged) == (1, 0)
    assert stored_plan(ledger).installments[1].payment_intent_id == "pi_declined"


def test_an_invoice_on_hold_pauses_its_plan() -> None:
    ledger, gateway = ledger_with(due_plan(), hold=Hold(reason="customer called")), FakeGateway()

    report = run_charges(ledger, gateway, CLOCK)

    assert gateway.charges == [] and report.paused == 1
    assert stored_plan(ledger).next_action_at == NOW + PAUSE_RECHECK


def test_a_disputed_invoice_pauses_its_plan() -> None:
    ledger, gateway = ledger_with(due_plan(), open_disputes=frozenset({"dp_1"})), FakeGateway()

    report = run_charges(ledger, gateway, CLOCK)

    assert gateway.charges == [] and report.paused == 1
    assert stored_plan(ledger).installments[1].status is InstallmentStatus.SCHEDULED


def test_a_hold_that_has_ended_does_not_pause() -> None:
    ended = Hold(reason="until Monday", until=NOW - timedelta(hours=1))
    ledger, gateway = ledger_with(due_plan(), hold=ended), FakeGateway()

    run_charges(ledger, gateway, CLOCK)

    assert len(gateway.charges) == 1


def test_a_customer_without_a_stripe_customer_defaults_the_plan_back_to_dunning() -> None:
    ledger, gateway = ledger_with(due_plan(), stripe_customer=None), FakeGateway()

    run_charges(ledger, gateway, CLOCK)

    assert gateway.charges == [] and stored_plan(ledger).status is PlanStatus.DEFAULTED
    invoice = ledger.get_invoice("inv_1")
    assert invoice is not None and invoice.active_plan is None and invoice.next_action_at == NOW


def test_a_card_expiring_before_the_next_installment_asks_for_a_new_one() -> None:
    ledger, gateway = ledger_with(due_plan(third=True)), FakeGateway()
    gateway.charge_outcomes.append(ChargeOutcome("pi_2", "succeeded", card_expires=(2026, 11)))

    run_charges(ledger, gateway, CLOCK)

    notices = [m.body for m in ledger.outbox_messages() if isinstance(m.body, PlanUpdateEmail)]
    assert notices == [
        PlanUpdateEmail(
            invoice_id="inv_1",
            plan_id="plan_1",
            installment=3,
            amount=4_500,
            news=PlanNews.CARD_EXPIRING,
            due_on=date(2026, 12, 2),
        )
    ]


def test_a_card_good_through_the_next_installment_needs_no_notice() -> None:
    ledger, gateway = ledger_with(due_plan(third=True)), FakeGateway()
    gateway.charge_outcomes.append(ChargeOutcome("pi_2", "succeeded", card_expires=(2026, 12)))

    run_charges(ledger, gateway, CLOCK)

    assert ledger.outbox_messages() == []


def autopay_ledger(**invoice_fields: Any) -> tuple[InMemoryLedger, Plan]:
    """cus_1 is on autopay; inv_1 (USD 125.00) is due today and carried by its one-charge autopay plan."""
    ledger = InMemoryLedger()
    customer = a_customer(stripe_customer_id="cus_stripe_1", autopay=Autopay(enabled_at=NOW))
    invoice = an_invoice(due_date=date(2026, 11, 2), **invoice_fields)
    plan = autopay_plan(invoice, customer, NOW, notice_days=3)
    ledger.commit(Change(new_customer=customer, new_invoice=replace(invoice, active_plan=plan.id), new_plan=plan))
    return ledger, plan


def test_autopay_tells_the_customer_before_it_charges() -> None:
    ledger, plan = autopay_ledger()
    gateway = FakeGateway()

    report = run_charges(ledger, gateway, CLOCK)

    assert gateway.charges == [] and report.notices == 1
    noticed = stored_plan(ledger, plan.id)
    assert noticed.notice_sent and noticed.next_action_at == NOW + timedelta(days=1)  # at least a day's notice
    notices = [m.body for m in ledger.outbox_messages() if isinstance(m.body, AutopayNoticeEmail)]
    assert notices == [AutopayNoticeEmail("inv_1", 12_500, NOW + timedelta(days=1))]


def test_autopay_charges_what_is_owed_at_the_charge_time() -> None:
    # Given the notice went out, and since then 25.00 was paid on the page
    ledger, plan = autopay_ledger(amount_paid=2_500, status=InvoiceStatus.PARTIALLY_PAID)
    gateway = FakeGateway()
    run_charges(ledger, gateway, CLOCK)
    later = FixedClock(NOW + timedelta(days=1))

    run_charges(ledger, gateway, later)

    [charge] = gateway.charges
    assert charge.amount == 10_000 and charge.idempotency_key == f"payportal-installment-{plan.id}-1-1"
    assert stored_plan(ledger, plan.id).installments[0].amount == 10_000


def test_an_autopay_invoice_paid_another_way_completes_its_plan_without_a_charge() -> None:
    ledger, plan = autopay_ledger(amount_paid=12_500, status=InvoiceStatus.PAID)
    gateway = FakeGateway()

    run_charges(ledger, gateway, CLOCK)

    assert gateway.charges == [] and stored_plan(ledger, plan.id).status is PlanStatus.COMPLETED


def test_a_recurring_charges_due_period_is_invoiced_in_the_run() -> None:
    ledger = InMemoryLedger()
    ledger.commit(Change(new_customer=a_customer(), new_recurring=a_recurring(next_action_at=NOW)))

    report = run_charges(ledger, FakeGateway(), CLOCK)

    assert report.invoiced == 1
    [invoice] = ledger.list_customer_invoices("cus_1", 10, None).items
    assert (invoice.amount_due, invoice.currency, invoice.due_date) == (9_900, "EUR", date(2026, 12, 1))
    events = [m.body for m in ledger.outbox_messages() if isinstance(m.body, Event)]
    assert EventName.RECURRING_INVOICED in [e.name for e in events]
    recurring = ledger.get_recurring("rec_1")
    assert recurring is not None and recurring.periods_created == 2


def test_an_autopay_customers_recurring_period_gets_its_notice_in_the_same_run() -> None:
    # Given the period due today belongs to a customer on autopay
    ledger = InMemoryLedger()
    customer = a_customer(stripe_customer_id="cus_stripe_1", autopay=Autopay(enabled_at=NOW))
    due_today = a_recurring(start_date=date(2026, 10, 2), next_action_at=NOW)
    ledger.commit(Change(new_customer=customer, new_recurring=due_today))

    report = run_charges(ledger, FakeGateway(), CLOCK)

    [invoice] = ledger.list_customer_invoices("cus_1", 10, None).items
    assert invoice.active_plan is not None
    plan = stored_plan_of(ledger, invoice.id, invoice.active_plan)
    assert plan.kind is PlanKind.AUTOPAY and plan.notice_sent
    assert (report.invoiced, report.notices) == (1, 1)


def stored_plan_of(ledger: InMemoryLedger, invoice_id: str, plan_id: str) -> Plan:
    plan = ledger.get_plan(invoice_id, plan_id)
    assert plan is not None
    return plan


def test_a_customer_with_no_saved_card_is_not_counted_as_charged() -> None:
    ledger, gateway = ledger_with(due_plan()), FakeGateway()
    gateway.charge_outcomes.append(ChargeOutcome(None, "no_payment_method"))

    report = run_charges(ledger, gateway, CLOCK)

    assert report.charged == 0


def test_a_plan_with_no_saved_card_to_charge_returns_the_invoice_to_dunning() -> None:
    ledger, gateway = ledger_with(due_plan()), FakeGateway()
    gateway.charge_outcomes.append(ChargeOutcome(None, "no_payment_method"))

    run_charges(ledger, gateway, CLOCK)
    run_charges(ledger, gateway, FixedClock(NOW + CLAIM_WAIT))

    assert stored_plan(ledger).status is PlanStatus.DEFAULTED
    invoice = ledger.get_invoice("inv_1")
    assert invoice is not None and invoice.active_plan is None and invoice.in_dunning
