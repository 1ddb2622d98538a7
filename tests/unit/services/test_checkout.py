"""Checkout: from a pay link to a Stripe Checkout Session, and the promise-to-pay rules behind the page."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.domain.errors import InvalidStateTransition, InvoiceNotPayable, PayLinkInvalid
from shared.domain.invoices import Hold, InvoiceStatus
from shared.services.checkout import (
    CheckoutConfig,
    ReturnState,
    latest_promise_date,
    open_pay_link,
    promise_to_pay,
    return_state,
    start_checkout,
)
from tests.fakes import FakeGateway, FixedClock
from tests.fakes.pages import a_payable_setup
from tests.fakes.records import NOW, an_invoice

CONFIG = CheckoutConfig(base_url="https://pay.example.test", payment_method_types=("card", "us_bank_account"))


def test_a_session_is_asked_for_with_the_invoice_the_customer_and_the_return_urls() -> None:
    # Given a customer Stripe does not know yet
    ledger, invoice, token = a_payable_setup()
    gateway, clock = FakeGateway(), FixedClock(NOW)
    page = open_pay_link(ledger, clock, token)
    # When Checkout starts
    attempt = start_checkout(ledger, gateway, clock, CONFIG, page=page, token=token, amount=None)
    # Then Stripe gets one request carrying what the webhook will need, and the Stripe customer is remembered
    [request] = gateway.checkout_requests
    assert request.stripe_customer_id == "cus_fake_1"
    assert request.description == "Invoice N-inv_1: Consulting, November"
    assert request.payment_method_types == ("card", "us_bank_account")
    assert request.metadata == {"invoice_id": invoice.id, "checkout_ref": attempt.ref, "customer_id": "cus_1"}
    assert request.success_url == f"https://pay.example.test/pay/{token}/return?session_id={{CHECKOUT_SESSION_ID}}"
    assert request.cancel_url == f"https://pay.example.test/pay/{token}?cancelled=1"
    stored_customer = ledger.get_customer("cus_1")
    assert stored_customer is not None and stored_customer.stripe_customer_id == "cus_fake_1"
    assert ledger.get_checkout(invoice.id, attempt.ref) == attempt


def test_a_known_stripe_customer_is_not_created_again() -> None:
    ledger, _, token = a_payable_setup()
    ledger.remember_stripe_customer("cus_1", "cus_known")
    gateway, clock = FakeGateway(), FixedClock(NOW)
    start_checkout(ledger, gateway, clock, CONFIG, page=open_pay_link(ledger, clock, token), token=token, amount=None)
    assert [r.stripe_customer_id for r in gateway.checkout_requests] == ["cus_known"]
    assert gateway.stripe_customers == {}


def test_another_amount_or_a_changed_invoice_gets_a_session_of_its_own() -> None:
    # Given an invoice open to partial payments, and a first attempt for USD 50.00
    ledger, invoice, token = a_payable_setup(allow_partial=True, min_partial_amount=1_000)
    gateway, clock = FakeGateway(), FixedClock(NOW)
    page = open_pay_link(ledger, clock, token)
    first = start_checkout(ledger, gateway, clock, CONFIG, page=page, token=token, amount=5_000)
    # When the customer asks for another amount, or the invoice changed meanwhile (a payment landed)
    other_amount = start_checkout(ledger, gateway, clock, CONFIG, page=page, token=token, amount=6_000)
    changed = replace(page, invoice=replace(invoice, amount_paid=1_000, status=InvoiceStatus.PARTIALLY_PAID, version=2))
    after_change = start_checkout(ledger, gateway, clock, CONFIG, page=changed, token=token, amount=5_000)
    # Then each is a session of its own
    assert len({first.ref, other_amount.ref, after_change.ref}) == 3
    assert len({first.session_id, other_amount.session_id, after_change.session_id}) == 3


def test_the_same_click_after_the_double_click_window_gets_a_new_session() -> None:
    ledger, _, token = a_payable_setup()
    gateway, clock = FakeGateway(), FixedClock(NOW)
    page = open_pay_link(ledger, clock, token)
    first = start_checkout(ledger, gateway, clock, CONFIG, page=page, token=token, amount=None)
    clock.instant = NOW + timedelta(hours=1)
    later = start_checkout(ledger, gateway, clock, CONFIG, page=page, token=token, amount=None)
    assert first.ref != later.ref


@pytest.mark.parametrize(
    ("fields", "amount"),
    [
        ({"status": InvoiceStatus.PAID, "amount_paid": 12_500}, None),
        ({"status": InvoiceStatus.VOID}, None),
        ({}, 12_501),
        ({"allow_partial": True, "min_partial_amount": 5_000}, 4_999),
        ({}, 100),
    ],
    ids=["paid", "void", "above what is owed", "below the minimum", "partial not allowed"],
)
def test_what_cannot_be_paid_never_reaches_stripe(fields: dict[str, object], amount: int | None) -> None:
    ledger, _, token = a_payable_setup(**fields)
    gateway, clock = FakeGateway(), FixedClock(NOW)
    with pytest.raises(InvoiceNotPayable):
        start_checkout(
            ledger, gateway, clock, CONFIG, page=open_pay_link(ledger, clock, token), token=token, amount=amount
        )
    assert gateway.checkout_requests == [] and ledger.checkouts == {}


def test_money_is_still_welcome_on_a_written_off_invoice() -> None:
    ledger, _, token = a_payable_setup(status=InvoiceStatus.UNCOLLECTIBLE)
    gateway, clock = FakeGateway(), FixedClock(NOW)
    attempt = start_checkout(
        ledger, gateway, clock, CONFIG, page=open_pay_link(ledger, clock, token), token=token, amount=None
    )
    assert attempt.amount == 12_500


def test_an_expired_link_cannot_open_the_page_even_if_it_worked_a_moment_ago() -> None:
    ledger, _, token = a_payable_setup()
    open_pay_link(ledger, FixedClock(NOW + timedelta(days=30) - timedelta(seconds=1)), token)
    with pytest.raises(PayLinkInvalid):
        open_pay_link(ledger, FixedClock(NOW + timedelta(days=30)), token)


def test_back_without_a_session_id_on_a_paid_invoice_reads_as_received() -> None:
    ledger, _, token = a_payable_setup(status=InvoiceStatus.PAID, amount_paid=12_500)
    _, state = return_state(ledger, FixedClock(NOW), token=token, session_id=None)
    assert state is ReturnState.RECEIVED


def test_no_promise_is_offered_while_the_operator_holds_the_invoice() -> None:
    held = an_invoice(hold=Hold(reason="disputed by phone"))
    assert latest_promise_date(held, "Europe/London", NOW, 14) is None
    assert latest_promise_date(an_invoice(), "Europe/London", NOW, 14) == date(2026, 11, 16)
    assert latest_promise_date(an_invoice(status=InvoiceStatus.PAID, amount_paid=12_500), "UTC", NOW, 14) is None


def test_a_promise_on_a_held_invoice_is_refused_as_a_domain_error() -> None:
    ledger, _, token = a_payable_setup(hold=Hold(reason="disputed by phone"))
    page = open_pay_link(ledger, FixedClock(NOW), token)
    with pytest.raises(InvalidStateTransition, match="already paused"):
        promise_to_pay(ledger, FixedClock(NOW), page, promised=date(2026, 11, 5), max_days=14)


def test_a_promise_on_a_paid_invoice_is_not_payable() -> None:
    ledger, _, token = a_payable_setup(status=InvoiceStatus.PAID, amount_paid=12_500)
    page = open_pay_link(ledger, FixedClock(NOW), token)
    with pytest.raises(InvoiceNotPayable):
        promise_to_pay(ledger, FixedClock(NOW), page, promised=date(2026, 11, 5), max_days=14)


@given(
    amount_due=st.integers(min_value=1, max_value=10_000_000),
    paid_percent=st.integers(min_value=0, max_value=99),
    minimum=st.integers(min_value=1, max_value=20_000),
    asked=st.integers(min_value=-10, max_value=20_000_000),
)
def test_a_partial_payment_never_asks_for_more_than_is_owed_nor_less_than_the_minimum(
    amount_due: int, paid_percent: int, minimum: int, asked: int
) -> None:
    # Given a partly paid invoice open to partial payments
    paid = amount_due * paid_percent // 100
    status = InvoiceStatus.PARTIALLY_PAID if paid else InvoiceStatus.OPEN
    ledger, _, token = a_payable_setup(
        amount_due=amount_due, amount_paid=paid, status=status, allow_partial=True, min_partial_amount=minimum
    )
    gateway, clock = FakeGateway(), FixedClock(NOW)
    # When the customer asks to pay any amount
    try:
        start_checkout(
            ledger, gateway, clock, CONFIG, page=open_pay_link(ledger, clock, token), token=token, amount=asked
        )
    except InvoiceNotPayable:
        refused = True
    else:
        refused = False
    # Then Stripe is asked only for an amount between the minimum and what remains
    remaining = amount_due - paid
    allowed = min(minimum, remaining) <= asked <= remaining
    assert refused is not allowed
    assert [r.amount for r in gateway.checkout_requests] == ([] if refused else [asked])
