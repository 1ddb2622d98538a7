"""Checkout: from a pay link to a Stripe Checkout Session, and the promise-to-pay rules behind the page."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.domain.errors import (
    ConcurrentUpdate,
    InvalidStateTransition,
    InvoiceNotPayable,
    NotFound,
    PayLinkInvalid,
    PaymentInProgress,
)
from shared.domain.invoices import Hold, InvoiceStatus, PaymentStatus
from shared.services.checkout import (
    CheckoutConfig,
    ReturnState,
    checkout_outcome,
    latest_promise_date,
    open_pay_link,
    promise_to_pay,
    start_checkout,
)
from shared.services.corrections import CreditNoteAsk, issue_credit_note_once
from shared.services.gateway import CheckoutSession, CheckoutSessionRequest
from shared.services.ports import Change
from tests.fakes import FakeGateway, FixedClock
from tests.fakes.pages import a_payable_setup, a_stored_pay_link
from tests.fakes.records import NOW, an_invoice
from tests.fakes.run_once import InMemoryRunOnce

CONFIG = CheckoutConfig(base_url="https://pay.example.test", payment_method_types=("card", "us_bank_account"))


def test_a_session_is_asked_for_with_the_invoice_the_customer_and_return_urls_without_the_pay_link() -> None:
    # Given a customer Stripe does not know yet
    ledger, invoice, token = a_payable_setup()
    gateway, clock = FakeGateway(), FixedClock(NOW)
    page = open_pay_link(ledger, clock, token)
    # When Checkout starts
    attempt = start_checkout(ledger, gateway, clock, CONFIG, page=page, amount=None)
    # Then Stripe gets one request carrying what the webhook will need, and the Stripe customer is remembered
    [request] = gateway.checkout_requests
    assert request.stripe_customer_id == "cus_fake_1"
    assert request.description == "Invoice N-inv_1: Consulting, November"
    assert request.payment_method_types == ("card", "us_bank_account")
    assert request.metadata == {"invoice_id": invoice.id, "checkout_ref": attempt.ref, "customer_id": "cus_1"}
    # and the URLs Stripe keeps (its dashboard, every checkout.session event) name the attempt, not the link
    back = f"https://pay.example.test/pay/return/{invoice.id}/{attempt.ref}"
    assert request.success_url == back + "?session_id={CHECKOUT_SESSION_ID}"
    assert request.cancel_url == back + "?cancelled=1"
    assert token not in repr(request)
    assert attempt.expires_at == NOW + timedelta(hours=24)  # Stripe's default lifetime
    stored_customer = ledger.get_customer("cus_1")
    assert stored_customer is not None and stored_customer.stripe_customer_id == "cus_fake_1"
    assert ledger.get_checkout(invoice.id, attempt.ref) == attempt
    assert ledger.open_checkouts[invoice.id].current == attempt


def test_a_known_stripe_customer_is_not_created_again() -> None:
    ledger, _, token = a_payable_setup()
    ledger.remember_stripe_customer("cus_1", "cus_known")
    gateway, clock = FakeGateway(), FixedClock(NOW)
    start_checkout(ledger, gateway, clock, CONFIG, page=open_pay_link(ledger, clock, token), amount=None)
    assert [r.stripe_customer_id for r in gateway.checkout_requests] == ["cus_known"]
    assert gateway.stripe_customers == {}


def test_two_clicks_across_any_time_boundary_get_the_one_open_session() -> None:
    # Given a session opened a second before a ten-minute boundary (the old double-click window's)
    ledger, _, token = a_payable_setup()
    gateway, clock = FakeGateway(), FixedClock(datetime(2026, 11, 2, 9, 59, 59, tzinfo=UTC))
    first = start_checkout(ledger, gateway, clock, CONFIG, page=open_pay_link(ledger, clock, token), amount=None)
    # When the same click comes two seconds later, and again from another email's link hours later
    clock.instant += timedelta(seconds=2)
    again = start_checkout(ledger, gateway, clock, CONFIG, page=open_pay_link(ledger, clock, token), amount=None)
    other_link = a_stored_pay_link(ledger, ledger.invoices[first.invoice_id], token="tok-of-another-email")
    clock.instant += timedelta(hours=5)
    later = start_checkout(ledger, gateway, clock, CONFIG, page=open_pay_link(ledger, clock, other_link), amount=None)
    # Then it is the same session each time: Stripe was asked once, and nothing was expired
    assert again == first and later == first
    assert len(gateway.checkout_requests) == 1 and gateway.expire_requests == []


def test_another_amount_expires_the_open_session_at_stripe_before_a_new_one_is_opened() -> None:
    # Given two tabs on an invoice open to partial payments: the first opened Checkout for USD 50.00
    ledger, invoice, token = a_payable_setup(allow_partial=True, min_partial_amount=1_000)
    gateway, clock = FakeGateway(), FixedClock(NOW)
    first = start_checkout(ledger, gateway, clock, CONFIG, page=open_pay_link(ledger, clock, token), amount=5_000)
    # When the second tab asks for USD 60.00
    second = start_checkout(ledger, gateway, clock, CONFIG, page=open_pay_link(ledger, clock, token), amount=6_000)
    # Then the first session was expired at Stripe first, and only the second can be paid
    assert gateway.expire_requests == [first.session_id]
    assert gateway.session_status == {first.session_id: "expired", second.session_id: "open"}
    assert ledger.open_checkouts[invoice.id].current == second and second.opened_as == first.opened_as + 1
    with pytest.raises(AssertionError, match="not open"):
        gateway.pay(first.session_id)


def test_a_session_the_customer_completed_meanwhile_is_not_replaced() -> None:
    # Given the customer paid the open session on Stripe's page, and its webhook has not arrived yet
    ledger, invoice, token = a_payable_setup(allow_partial=True, min_partial_amount=1_000)
    gateway, clock = FakeGateway(), FixedClock(NOW)
    first = start_checkout(ledger, gateway, clock, CONFIG, page=open_pay_link(ledger, clock, token), amount=5_000)
    gateway.pay(first.session_id)
    # When a second tab asks to pay another amount
    with pytest.raises(PaymentInProgress):
        start_checkout(ledger, gateway, clock, CONFIG, page=open_pay_link(ledger, clock, token), amount=6_000)
    # Then no second session exists: the payment must be confirmed first
    assert len(gateway.checkout_requests) == 1
    assert ledger.open_checkouts[invoice.id].current == first


def test_a_session_about_to_close_is_replaced_not_handed_out() -> None:
    ledger, _, token = a_payable_setup()
    gateway, clock = FakeGateway(), FixedClock(NOW)
    first = start_checkout(ledger, gateway, clock, CONFIG, page=open_pay_link(ledger, clock, token), amount=None)
    clock.instant = NOW + timedelta(hours=23, minutes=45)
    later = start_checkout(ledger, gateway, clock, CONFIG, page=open_pay_link(ledger, clock, token), amount=None)
    assert later.session_id != first.session_id and gateway.expire_requests == [first.session_id]
    clock.instant = NOW + timedelta(days=2)  # Stripe closed it by itself: nothing to expire
    last = start_checkout(ledger, gateway, clock, CONFIG, page=open_pay_link(ledger, clock, token), amount=None)
    assert last.session_id not in (first.session_id, later.session_id)
    assert gateway.expire_requests == [first.session_id]


def test_two_tabs_opening_at_the_same_instant_leave_one_payable_session() -> None:
    # Given a second tab that opens its session while the first is waiting for Stripe
    ledger, invoice, token = a_payable_setup(allow_partial=True, min_partial_amount=1_000)
    clock = FixedClock(NOW)
    gateway = FakeGateway()
    create = gateway.create_checkout_session
    calls: list[CheckoutSessionRequest] = []

    def create_while_the_other_tab_opens(request: CheckoutSessionRequest) -> CheckoutSession:
        calls.append(request)
        session = create(request)
        if len(calls) == 1:  # the other tab runs to its end while this first request is with Stripe
            start_checkout(ledger, gateway, clock, CONFIG, page=open_pay_link(ledger, clock, token), amount=6_000)
        return session

    gateway.create_checkout_session = create_while_the_other_tab_opens  # type: ignore[method-assign]
    # When the first tab's commit finds the other tab's session stored first
    mine = start_checkout(ledger, gateway, clock, CONFIG, page=open_pay_link(ledger, clock, token), amount=5_000)
    # Then exactly one session can be paid at Stripe, and it is the one the ledger holds
    payable = [sid for sid, status in gateway.session_status.items() if status == "open"]
    assert payable == [mine.session_id] == [ledger.open_checkouts[invoice.id].current.session_id]  # type: ignore[union-attr]


def test_checkout_ids_are_derived_from_the_invoice_the_purpose_and_the_open_checkout_version() -> None:
    ledger, invoice, token = a_payable_setup(allow_partial=True, min_partial_amount=1_000)
    gateway, clock = FakeGateway(), FixedClock(NOW)
    page = open_pay_link(ledger, clock, token)
    refs = [start_checkout(ledger, gateway, clock, CONFIG, page=page, amount=a).ref for a in (5_000, 6_000, 5_000)]
    assert len(set(refs)) == 3  # back to USD 50.00 is a new session: the first was expired
    changed = replace(page, invoice=replace(invoice, amount_paid=1_000, status=InvoiceStatus.PARTIALLY_PAID, version=2))
    assert start_checkout(ledger, gateway, clock, CONFIG, page=changed, amount=5_000).ref == refs[2]


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
        start_checkout(ledger, gateway, clock, CONFIG, page=open_pay_link(ledger, clock, token), amount=amount)
    assert gateway.checkout_requests == [] and ledger.checkouts == {}


def test_money_is_still_welcome_on_a_written_off_invoice() -> None:
    ledger, _, token = a_payable_setup(status=InvoiceStatus.UNCOLLECTIBLE)
    gateway, clock = FakeGateway(), FixedClock(NOW)
    attempt = start_checkout(ledger, gateway, clock, CONFIG, page=open_pay_link(ledger, clock, token), amount=None)
    assert attempt.amount == 12_500


def test_an_expired_link_cannot_open_the_page_even_if_it_worked_a_moment_ago() -> None:
    ledger, _, token = a_payable_setup()
    open_pay_link(ledger, FixedClock(NOW + timedelta(days=30) - timedelta(seconds=1)), token)
    with pytest.raises(PayLinkInvalid):
        open_pay_link(ledger, FixedClock(NOW + timedelta(days=30)), token)


def test_the_return_page_reads_the_attempt_with_the_invoice_in_one_state() -> None:
    ledger, invoice, token = a_payable_setup()
    gateway, clock = FakeGateway(), FixedClock(NOW)
    attempt = start_checkout(ledger, gateway, clock, CONFIG, page=open_pay_link(ledger, clock, token), amount=None)
    before = checkout_outcome(ledger, invoice_id=invoice.id, ref=attempt.ref)
    assert before.state is ReturnState.PROCESSING and before.invoice.amount_remaining == 12_500
    paid = ledger.invoices[invoice.id].with_payment(12_500)
    ledger.commit(Change(invoice_update=paid, checkout=replace(attempt, payment_status=PaymentStatus.SUCCEEDED)))
    after = checkout_outcome(ledger, invoice_id=invoice.id, ref=attempt.ref)
    assert after.state is ReturnState.RECEIVED and after.invoice.amount_remaining == 0
    with pytest.raises(NotFound):
        checkout_outcome(ledger, invoice_id=invoice.id, ref="chk_unknown")


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
        start_checkout(ledger, gateway, clock, CONFIG, page=open_pay_link(ledger, clock, token), amount=asked)
    except InvoiceNotPayable:
        refused = True
    else:
        refused = False
    # Then Stripe is asked only for an amount between the minimum and what remains
    remaining = amount_due - paid
    allowed = min(minimum, remaining) <= asked <= remaining
    assert refused is not allowed
    assert [r.amount for r in gateway.checkout_requests] == ([] if refused else [asked])


def test_a_credit_note_landing_while_a_session_is_opened_for_the_old_figure_leaves_nothing_payable() -> None:
    """Found in review: the session's commit was guarded by the open-checkout slot only, which a correction
    with no session open did not touch, so the customer could pay the figure from before the credit note."""
    # Given the pay page read the invoice (USD 125.00) and is asking Stripe for a session for all of it
    ledger, invoice, token = a_payable_setup()
    clock, gateway = FixedClock(NOW), FakeGateway()
    page = open_pay_link(ledger, clock, token)
    create = gateway.create_checkout_session

    def create_while_a_credit_note_lands(request: CheckoutSessionRequest) -> CheckoutSession:
        session = create(request)
        if len(gateway.session_status) == 1:  # the operator's credit note commits meanwhile
            issue_credit_note_once(
                ledger, gateway, clock, InMemoryRunOnce(), invoice.id, CreditNoteAsk(amount=2_500, reason="goodwill"),
                key="c1", fingerprint={}, actor="arn:aws:iam::1:user/ops",
            )  # fmt: skip
        return session

    gateway.create_checkout_session = create_while_a_credit_note_lands  # type: ignore[method-assign]
    # When the page's session commits after the credit note: it is refused, and the customer reloads
    with pytest.raises(ConcurrentUpdate):
        start_checkout(ledger, gateway, clock, CONFIG, page=page, amount=None)
    # Then no session for USD 125.00 can be paid
    assert [sid for sid, status in gateway.session_status.items() if status == "open"] == []
    assert ledger.open_checkouts[invoice.id].current is None
