"""Autopay over the in-memory ledger: set up through a saved card, turned off with its pending charges
cancelled (their invoices back in dunning), and the notice that precedes each charge."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from shared.clock import FixedClock
from shared.domain.errors import NotFound
from shared.domain.messages import AutopayNoticeEmail, Event, EventName
from shared.domain.plan_lifecycle import autopay_plan, charge_at
from shared.domain.records import Autopay, Customer, InstallmentStatus, Plan, PlanStatus
from shared.services.autopay import MIN_NOTICE, disable_autopay, notice_change, start_autopay_setup
from shared.services.checkout import CheckoutConfig, PayPage
from shared.services.ports import Change
from tests.fakes import FakeGateway, InMemoryLedger
from tests.fakes.records import NOW, a_customer, an_invoice

CLOCK = FixedClock(NOW)
CONFIG = CheckoutConfig(base_url="https://pay.example.test", payment_method_types=("card",))


def on_autopay() -> Customer:
    return a_customer(stripe_customer_id="cus_stripe_1", autopay=Autopay(enabled_at=NOW), version=1)


def given_autopay_invoices(*plans_charging: bool) -> tuple[InMemoryLedger, list[Plan]]:
    """cus_1 is on autopay with one invoice per entry, each carried by its autopay plan; True: being charged."""
    ledger = InMemoryLedger()
    customer = on_autopay()
    ledger.commit(Change(new_customer=customer))
    plans = []
    for n, charging in enumerate(plans_charging, start=1):
        invoice = an_invoice(f"inv_{n}", due_date=date(2026, 11, 20))
        plan = autopay_plan(invoice, customer, NOW, notice_days=3)
        if charging:
            first = replace(plan.installments[0], status=InstallmentStatus.CHARGING, attempts=1)
            plan = replace(plan, installments=(first,))
        ledger.commit(Change(new_invoice=replace(invoice, active_plan=plan.id), new_plan=plan))
        plans.append(plan)
    return ledger, plans


def test_setting_up_autopay_opens_a_setup_session_for_the_customer() -> None:
    ledger = InMemoryLedger()
    customer, invoice = a_customer(), an_invoice()
    ledger.commit(Change(new_customer=customer, new_invoice=invoice))
    gateway = FakeGateway()

    url = start_autopay_setup(ledger, gateway, CLOCK, CONFIG, page=PayPage(invoice=invoice, customer=customer))

    [request] = gateway.setup_requests
    assert request.metadata["purpose"] == "autopay" and request.success_url.endswith("/pay/return/inv_1?autopay=on")
    assert url.endswith("cs_fake_setup_1")
    stored = ledger.get_customer("cus_1")
    assert stored is not None and stored.autopay is None  # on only when the webhook says the card is saved


def test_turning_autopay_off_cancels_the_charges_not_yet_made() -> None:
    ledger, [plan] = given_autopay_invoices(False)

    disabled = disable_autopay(ledger, CLOCK, "cus_1", actor="customer")

    assert disabled.autopay is None and ledger.get_customer("cus_1") == disabled
    cancelled = ledger.get_plan("inv_1", plan.id)
    assert cancelled is not None and cancelled.status is PlanStatus.CANCELLED and cancelled.next_action_at is None
    invoice = ledger.get_invoice("inv_1")
    assert invoice is not None and invoice.active_plan is None and invoice.next_action_at == NOW
    events = [m.body for m in ledger.outbox_messages() if isinstance(m.body, Event)]
    assert events == [Event(EventName.AUTOPAY_DISABLED, {"customer_id": "cus_1"})]
    assert ledger.audit_actions("cus_1") == ["autopay.disabled"]
    [cancel] = [a for a in ledger.audit if a.subject_id == "inv_1"]
    assert (cancel.action, cancel.details["status"]) == ("plan.cancelled", {"from": "active", "to": "cancelled"})


def test_a_charge_under_way_is_left_for_its_webhook() -> None:
    ledger, [pending, charging] = given_autopay_invoices(False, True)

    disable_autopay(ledger, CLOCK, "cus_1", actor="operator:ops@example.com")

    first, second = ledger.get_plan("inv_1", pending.id), ledger.get_plan("inv_2", charging.id)
    assert first is not None and first.status is PlanStatus.CANCELLED
    assert second == charging
    # the customer's autopay and the one plan cancelled, each by the operator; the charge under way untouched
    assert [(a.action, a.actor) for a in ledger.audit] == [
        ("autopay.disabled", "operator:ops@example.com"),
        ("plan.cancelled", "operator:ops@example.com"),
    ]
    assert ledger.audit_actions("inv_2") == []


def test_turning_off_autopay_that_is_off_changes_nothing() -> None:
    ledger = InMemoryLedger()
    ledger.commit(Change(new_customer=a_customer()))

    customer = disable_autopay(ledger, CLOCK, "cus_1", actor="customer")

    assert customer == ledger.get_customer("cus_1") and ledger.outbox_messages() == [] and ledger.audit == []


def test_turning_off_autopay_for_an_unknown_customer_is_not_found() -> None:
    with pytest.raises(NotFound):
        disable_autopay(InMemoryLedger(), CLOCK, "cus_missing", actor="customer")


def test_the_notice_names_the_charge_time_and_the_amount_owed() -> None:
    invoice = an_invoice(due_date=date(2026, 11, 20), amount_paid=2_500)
    plan = autopay_plan(invoice, on_autopay(), NOW, notice_days=3)

    change = notice_change(plan, invoice, NOW)

    charge_time = charge_at(date(2026, 11, 20), "Europe/London")
    assert change.plan_update is not None and change.plan_update.notice_sent
    assert change.plan_update.next_action_at == charge_time
    assert [m.body for m in change.outbox] == [AutopayNoticeEmail(invoice.id, 10_000, charge_time)]


def test_a_late_notice_still_gives_a_day_before_the_charge() -> None:
    invoice = an_invoice(due_date=date(2026, 11, 2))
    plan = autopay_plan(invoice, on_autopay(), NOW, notice_days=3)

    change = notice_change(plan, invoice, NOW)

    assert change.plan_update is not None and change.plan_update.next_action_at == NOW + MIN_NOTICE
    assert timedelta(days=1) == MIN_NOTICE
