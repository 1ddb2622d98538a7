"""Installment plans chosen on the pay page, over the in-memory ledger and the fake gateway."""

from __future__ import annotations

from typing import Any

import pytest

from shared.clock import FixedClock
from shared.domain.errors import InvoiceNotPayable
from shared.domain.invoices import InvoiceStatus
from shared.domain.plans import InvalidPlan, PlanOffer
from shared.domain.records import InstallmentStatus, PlanStatus
from shared.services.checkout import CheckoutConfig, PayPage
from shared.services.plans import (
    choices_for,
    start_card_update,
    start_installment_checkout,
    start_plan,
    waiting_installment,
)
from shared.services.ports import Change
from tests.fakes import FakeGateway, InMemoryLedger
from tests.fakes.records import NOW, a_customer, a_plan, an_invoice

CLOCK = FixedClock(NOW)
CONFIG = CheckoutConfig(base_url="https://pay.example.test", payment_method_types=("card",))
OFFER = PlanOffer(max_installments=3, min_installment_amount=1_000)


def given_page(**invoice_fields: Any) -> tuple[InMemoryLedger, PayPage]:
    ledger = InMemoryLedger()
    customer, invoice = a_customer(), an_invoice(**({"plan_offer": OFFER} | invoice_fields))
    ledger.commit(Change(new_customer=customer, new_invoice=invoice))
    return ledger, PayPage(invoice=invoice, customer=customer)


def test_an_offered_invoice_shows_its_plans() -> None:
    _, page = given_page()

    keys = [c.key for c in choices_for(page, NOW)]

    assert "monthly-3" in keys and "monthly-2" in keys


@pytest.mark.parametrize(
    "fields",
    [{"plan_offer": None}, {"active_plan": "plan_1"}, {"open_disputes": frozenset({"dp_1"})}],
    ids=["not offered", "a plan runs", "disputed"],
)
def test_no_plans_are_shown_when_none_may_start(fields: dict[str, Any]) -> None:
    _, page = given_page(**fields)

    assert choices_for(page, NOW) == ()


def test_choosing_a_plan_stores_it_and_opens_checkout_for_the_first_installment() -> None:
    ledger, page = given_page()
    gateway = FakeGateway()

    attempt = start_plan(ledger, gateway, CLOCK, CONFIG, page=page, key="monthly-3")

    [request] = gateway.checkout_requests
    plan_id = request.metadata["plan_id"]
    plan = ledger.get_plan("inv_1", plan_id)
    assert plan is not None and plan.status is PlanStatus.AWAITING_FIRST
    assert len(plan.installments) == 3 and sum(i.amount for i in plan.installments) == 12_500
    assert request.save_card and request.amount == plan.installments[0].amount == attempt.amount
    assert ledger.get_checkout("inv_1", attempt.ref) == attempt
    invoice = ledger.get_invoice("inv_1")
    assert invoice is not None and invoice.active_plan is None  # active only once the first is paid


def test_a_bhd_plan_is_split_into_amounts_stripe_can_charge_summing_to_what_remains() -> None:
    # Given a BHD 12.340 invoice of which 2.000 is paid (three decimals; Stripe wants the last digit 0)
    ledger, page = given_page(currency="BHD", amount_due=12_340, amount_paid=2_000, status=InvoiceStatus.PARTIALLY_PAID)
    gateway = FakeGateway()
    # When the customer picks three monthly installments
    start_plan(ledger, gateway, CLOCK, CONFIG, page=page, key="monthly-3")
    # Then every installment ends in 0 and together they are exactly what remains
    [request] = gateway.checkout_requests
    plan = ledger.get_plan("inv_1", request.metadata["plan_id"])
    assert plan is not None
    assert [i.amount for i in plan.installments] == [3_460, 3_440, 3_440]
    assert sum(i.amount for i in plan.installments) == 10_340 and request.amount == 3_460


def test_a_double_click_on_a_plan_opens_the_same_session_and_stores_one_plan() -> None:
    ledger, page = given_page()
    gateway = FakeGateway()

    first = start_plan(ledger, gateway, CLOCK, CONFIG, page=page, key="monthly-3")
    second = start_plan(ledger, gateway, CLOCK, CONFIG, page=page, key="monthly-3")

    assert first == second
    assert len(ledger.plans) == 1 and len(gateway.checkout_requests) == 1


def test_a_plan_cannot_start_on_an_invoice_without_an_offer() -> None:
    ledger, page = given_page(plan_offer=None)

    with pytest.raises(InvalidPlan):
        start_plan(ledger, FakeGateway(), CLOCK, CONFIG, page=page, key="monthly-3")


def test_a_plan_cannot_start_on_a_paid_invoice() -> None:
    ledger, page = given_page(amount_paid=12_500, status=InvoiceStatus.PAID)
    gateway = FakeGateway()

    with pytest.raises(InvoiceNotPayable):
        start_plan(ledger, gateway, CLOCK, CONFIG, page=page, key="monthly-2")
    assert gateway.checkout_requests == [] and ledger.plans == {}


def given_failed_installment() -> tuple[InMemoryLedger, PayPage]:
    """Installment 2 of plan_1 (62.50) failed off-session."""
    ledger = InMemoryLedger()
    customer = a_customer()
    invoice = an_invoice(amount_paid=6_250, status=InvoiceStatus.PARTIALLY_PAID, active_plan="plan_1")
    ledger.commit(Change(new_customer=customer, new_invoice=invoice, new_plan=a_plan()))
    return ledger, PayPage(invoice=invoice, customer=customer)


def test_a_failed_installment_can_be_paid_on_checkout() -> None:
    ledger, page = given_failed_installment()
    gateway = FakeGateway()

    attempt = start_installment_checkout(ledger, gateway, CLOCK, CONFIG, page=page)

    [request] = gateway.checkout_requests
    assert request.amount == attempt.amount == 6_250 and request.save_card
    assert request.metadata["plan_id"] == "plan_1" and request.metadata["installment"] == "2"
    assert ledger.get_checkout("inv_1", attempt.ref) == attempt
    waiting = waiting_installment(ledger, page.invoice)
    assert waiting is not None and waiting[1].number == 2 and waiting[1].status is InstallmentStatus.FAILED


def test_no_installment_to_pay_when_none_failed() -> None:
    ledger, page = given_page()

    with pytest.raises(InvoiceNotPayable):
        start_installment_checkout(ledger, FakeGateway(), CLOCK, CONFIG, page=page)
    assert waiting_installment(ledger, page.invoice) is None


def test_a_card_update_opens_a_setup_session_that_returns_to_the_page() -> None:
    ledger, page = given_failed_installment()
    gateway = FakeGateway()

    url = start_card_update(ledger, gateway, CLOCK, CONFIG, page=page)

    [request] = gateway.setup_requests
    assert request.metadata["purpose"] == "card_update"
    assert request.success_url == "https://pay.example.test/pay/return/inv_1?card=saved"  # no pay link in it
    assert url.endswith("cs_fake_setup_1")
