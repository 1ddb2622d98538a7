"""The hosted pay page over the in-memory ledger and the fake gateway: what the customer sees and where they go."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.domain.errors import PayLinkInvalid
from shared.domain.invoices import InvoiceStatus, PaymentStatus
from shared.domain.messages import Event, EventName
from shared.domain.payer_text import PayerText
from shared.services.checkout import PROMISE_REASON, CheckoutConfig, ReturnState
from shared.services.pay_page import (
    UNEXPLAINED,
    Notices,
    PayPageConfig,
    PayPageView,
    Problem,
    PromiseWindow,
    Redirect,
    ReturnView,
    SetupReturnView,
    pay,
    promise,
    returned,
    returned_from_setup,
    show_pay_page,
)
from shared.services.ports import Change
from tests.fakes import FakeGateway, FixedClock
from tests.fakes.pages import a_ledger_with, a_payable_setup, a_stored_pay_link
from tests.fakes.records import NOW, a_customer, an_invoice


def english(text: PayerText | None) -> str:
    """What the page says, before translation: its English with the placeholders as plain values."""
    assert text is not None
    return text.english()


CONFIG = PayPageConfig(
    checkout=CheckoutConfig(base_url="https://pay.example.test", payment_method_types=("card",)), promise_max_days=14
)
TODAY = date(2026, 11, 2)  # NOW in Europe/London, cus_1's zone


def test_the_page_shows_what_is_owed_and_the_promise_window() -> None:
    # Given an open invoice of USD 125.00 and a live pay link
    ledger, _, token = a_payable_setup()
    # When the customer opens it
    view = show_pay_page(ledger, FixedClock(NOW), CONFIG, token=token, notices=Notices())
    # Then the page shows the amount to pay in full, in the customer's locale, and offers a promise
    assert view.payable and view.problem is None
    assert (view.invoice.number, view.invoice.amount_remaining, view.invoice.currency) == ("N-inv_1", 12_500, "USD")
    assert view.minimum == 12_500
    assert view.locale == "en-GB" and view.lang == "en"
    assert view.promise == PromiseWindow(TODAY, TODAY + timedelta(days=14))
    assert view.plans == () and not view.in_plan and view.waiting is None


@pytest.mark.parametrize("case", ["unknown", "expired", "revoked", "empty", "too long", "invoice gone"])
def test_unknown_expired_and_revoked_links_look_the_same(case: str) -> None:
    # Given a pay link that cannot be used, for one reason or another
    invoice = an_invoice()
    ledger = a_ledger_with(a_customer(), invoice)
    token = {"unknown": "never-issued", "empty": "", "too long": "x" * 129}.get(case, "tok")
    if case == "expired":
        a_stored_pay_link(ledger, invoice, token=token, ttl=timedelta(seconds=-1))
    elif case == "revoked":
        a_stored_pay_link(ledger, invoice, token=token, revoked=True)
    elif case == "invoice gone":
        a_stored_pay_link(ledger, an_invoice("inv_missing"), token=token)
    # When the customer opens it, Then they learn only that the link is not valid
    with pytest.raises(PayLinkInvalid) as raised:
        show_pay_page(ledger, FixedClock(NOW), CONFIG, token=token, notices=Notices())
    assert raised.value.message == "this payment link is not valid"


def test_paying_in_full_sends_the_customer_to_checkout_for_what_remains() -> None:
    # Given an open invoice
    ledger, invoice, token = a_payable_setup()
    gateway = FakeGateway()
    # When the customer presses Pay without typing an amount
    outcome = pay(ledger, gateway, FixedClock(NOW), CONFIG, token=token, amount_text="", notices=Notices())
    # Then they go to a Checkout Session for the whole remainder, and the attempt is recorded
    assert isinstance(outcome, Redirect)
    [request] = gateway.checkout_requests
    assert (request.amount, request.currency) == (12_500, "USD")
    assert outcome.url.endswith("cs_fake_1") and outcome.invoice_id == invoice.id
    assert request.idempotency_scope == f"payportal-checkout-{outcome.checkout_ref}"
    stored = ledger.get_checkout(invoice.id, outcome.checkout_ref or "")
    assert stored is not None and stored.amount == 12_500 and stored.session_id == "cs_fake_1"


def test_a_double_click_gives_the_same_checkout_session() -> None:
    # Given a customer who pressed Pay once
    ledger, _, token = a_payable_setup()
    gateway, clock = FakeGateway(), FixedClock(NOW)
    first = pay(ledger, gateway, clock, CONFIG, token=token, amount_text="", notices=Notices())
    # When they press it again a second later
    clock.instant = NOW + timedelta(seconds=1)
    second = pay(ledger, gateway, clock, CONFIG, token=token, amount_text="", notices=Notices())
    # Then both land on the same session, asked of Stripe once
    assert isinstance(first, Redirect) and isinstance(second, Redirect)
    assert first.url == second.url and first.checkout_ref == second.checkout_ref
    assert len(gateway.checkout_requests) == 1
    assert len(ledger.checkouts) == 1


def test_a_payment_being_confirmed_keeps_a_second_tab_from_opening_another() -> None:
    # Given a customer who completed Checkout in one tab (Stripe has not told us yet)
    ledger, _, token = a_payable_setup(allow_partial=True, min_partial_amount=1_000)
    gateway, clock = FakeGateway(), FixedClock(NOW)
    first = pay(ledger, gateway, clock, CONFIG, token=token, amount_text="", notices=Notices())
    assert isinstance(first, Redirect)
    gateway.pay(ledger.checkouts[(first.invoice_id, first.checkout_ref or "")].session_id)
    # When the second tab pays another amount
    second = pay(ledger, gateway, clock, CONFIG, token=token, amount_text="50.00", notices=Notices())
    # Then it stays on the page with the reason, and Stripe was asked for nothing more
    assert isinstance(second, PayPageView) and second.problem is Problem.CONFLICT
    assert english(second.amount_error) == "A payment for this invoice is being confirmed. Please check back shortly."
    assert len(gateway.checkout_requests) == 1


@pytest.mark.parametrize(
    ("amount_text", "error"),
    [
        ("10.00", "Enter at least USD 2000."),
        ("125.01", "Enter at most USD 12500, what remains to pay."),
        ("abc", "Enter an amount such as 25.00."),
        ("-5", "Enter an amount greater than zero."),
        ("1.001", "Amounts in USD have at most 2 decimals."),
    ],
)
def test_an_amount_that_cannot_be_paid_comes_back_on_the_page(amount_text: str, error: str) -> None:
    # Given an invoice that allows partial payments of at least USD 20.00
    ledger, _, token = a_payable_setup(allow_partial=True, min_partial_amount=2_000)
    gateway = FakeGateway()
    # When the customer types an amount that cannot be paid
    outcome = pay(ledger, gateway, FixedClock(NOW), CONFIG, token=token, amount_text=amount_text, notices=Notices())
    # Then the same page shows the problem next to what they typed, and no session is made
    assert isinstance(outcome, PayPageView)
    assert (outcome.problem, english(outcome.amount_error), outcome.amount_entered) == (
        Problem.INVALID,
        error,
        amount_text,
    )
    assert outcome.minimum == 2_000
    assert gateway.checkout_requests == [] and ledger.checkouts == {}


def test_a_partial_amount_at_the_minimum_goes_to_checkout_for_that_amount() -> None:
    ledger, _, token = a_payable_setup(allow_partial=True, min_partial_amount=2_000)
    gateway = FakeGateway()
    outcome = pay(ledger, gateway, FixedClock(NOW), CONFIG, token=token, amount_text="US$20.00", notices=Notices())
    assert isinstance(outcome, Redirect)
    assert [r.amount for r in gateway.checkout_requests] == [2_000]


@pytest.mark.parametrize(("amount_text", "amount"), [("1.234,56", 123_456), ("50", 5_000), ("100,00 $", 10_000)])
def test_a_german_customer_types_an_amount_the_german_way(amount_text: str, amount: int) -> None:
    # Given a customer whose locale is de-DE, owing USD 2,000.00, partial payments allowed
    invoice = an_invoice(amount_due=200_000, allow_partial=True, min_partial_amount=2_000)
    ledger = a_ledger_with(a_customer(locale="de-DE"), invoice)
    token = a_stored_pay_link(ledger, invoice)
    gateway = FakeGateway()
    # When they type an amount with German separators
    outcome = pay(ledger, gateway, FixedClock(NOW), CONFIG, token=token, amount_text=amount_text, notices=Notices())
    # Then Checkout is for exactly that amount
    assert isinstance(outcome, Redirect)
    assert [r.amount for r in gateway.checkout_requests] == [amount]


@pytest.mark.parametrize("amount_text", ["1e999999", "1e2", "1_0", "\u0661\u0660", "NaN", "9" * 5_000, "12,50"])
def test_what_no_person_types_as_money_comes_back_with_the_pages_message(amount_text: str) -> None:
    ledger, _, token = a_payable_setup(allow_partial=True, min_partial_amount=100)
    gateway = FakeGateway()
    outcome = pay(ledger, gateway, FixedClock(NOW), CONFIG, token=token, amount_text=amount_text, notices=Notices())
    assert isinstance(outcome, PayPageView)
    assert (outcome.problem, english(outcome.amount_error)) == (Problem.INVALID, "Enter an amount such as 25.00.")
    assert gateway.checkout_requests == []


@settings(max_examples=200)
@given(st.text(max_size=30))
def test_anything_in_the_amount_field_is_checkout_or_the_page_with_its_message(amount_text: str) -> None:
    ledger, _, token = a_payable_setup(allow_partial=True, min_partial_amount=100)
    text = amount_text.strip()
    outcome = pay(ledger, FakeGateway(), FixedClock(NOW), CONFIG, token=token, amount_text=text, notices=Notices())
    assert isinstance(outcome, Redirect) or (outcome.problem is Problem.INVALID and outcome.amount_error)
    # and the page says what is wrong in the payer's words, never the catch-all
    assert isinstance(outcome, Redirect) or outcome.amount_error != UNEXPLAINED


def test_an_invoice_without_partial_payments_must_be_paid_in_full() -> None:
    ledger, _, token = a_payable_setup()
    outcome = pay(ledger, FakeGateway(), FixedClock(NOW), CONFIG, token=token, amount_text="50.00", notices=Notices())
    assert isinstance(outcome, PayPageView)
    assert english(outcome.amount_error) == "This invoice must be paid in full."


@pytest.mark.parametrize(
    "fields",
    [
        {"status": InvoiceStatus.PAID, "amount_paid": 12_500},
        {"status": InvoiceStatus.VOID},
    ],
    ids=["paid", "void"],
)
def test_a_paid_or_void_invoice_cannot_be_paid_again(fields: dict[str, object]) -> None:
    # Given an invoice with nothing left to collect
    ledger, _, token = a_payable_setup(**fields)
    gateway = FakeGateway()
    # When the customer presses Pay (an old tab, say)
    outcome = pay(ledger, gateway, FixedClock(NOW), CONFIG, token=token, amount_text="", notices=Notices())
    # Then the settled page says so as a conflict, and Stripe is not asked for anything
    assert isinstance(outcome, PayPageView)
    assert outcome.problem is Problem.CONFLICT and not outcome.payable and outcome.promise is None
    assert gateway.checkout_requests == []


def test_a_promise_pauses_reminders_to_the_end_of_that_day_in_the_customers_zone() -> None:
    # Given an open invoice
    ledger, invoice, token = a_payable_setup()
    # When the customer promises to pay by a date within the window
    outcome = promise(ledger, FixedClock(NOW), CONFIG, token=token, date_text="2026-11-10", notices=Notices())
    # Then they see the confirmation, reminders pause until local midnight after that day, the operator hears
    assert isinstance(outcome, Redirect) and outcome.url == f"/pay/{token}?promised=2026-11-10"
    stored = ledger.get_invoice(invoice.id)
    assert stored is not None and stored.hold is not None
    assert stored.hold.reason == PROMISE_REASON
    assert stored.hold.until == datetime(2026, 11, 11, 0, 0, tzinfo=UTC)  # GMT in November
    assert stored.next_action_at == stored.hold.until and stored.promised_at == NOW
    [message] = ledger.outbox_messages()
    assert isinstance(message.body, Event) and message.body.name is EventName.INVOICE_PROMISE_TO_PAY
    assert message.body.detail["promised_date"] == "2026-11-10"
    assert [(a.subject_id, a.action) for a in ledger.audit] == [(invoice.id, "invoice.promise_to_pay")]


def test_a_promise_in_summer_ends_at_local_midnight_not_utc() -> None:
    # Given the same customer in British Summer Time
    ledger, invoice, token = a_payable_setup()
    summer = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)
    ledger.pay_links.clear()
    token = a_stored_pay_link(ledger, invoice, ttl=timedelta(days=400))
    # When they promise to pay by 3 July
    promise(ledger, FixedClock(summer), CONFIG, token=token, date_text="2026-07-03", notices=Notices())
    # Then the pause ends at midnight in London, an hour before midnight UTC
    stored = ledger.get_invoice(invoice.id)
    assert stored is not None and stored.hold is not None
    assert stored.hold.until == datetime(2026, 7, 3, 23, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("date_text", "error"),
    [
        ("soon", "Choose the date you will pay by."),
        ("2026-11-17", "Choose a date between 2026-11-02 and 2026-11-16."),
        ("2026-11-01", "Choose a date between 2026-11-02 and 2026-11-16."),
    ],
)
def test_a_promise_outside_the_window_comes_back_on_the_page(date_text: str, error: str) -> None:
    ledger, invoice, token = a_payable_setup()
    outcome = promise(ledger, FixedClock(NOW), CONFIG, token=token, date_text=date_text, notices=Notices())
    assert isinstance(outcome, PayPageView)
    assert (outcome.problem, english(outcome.promise_error)) == (Problem.INVALID, error)
    assert ledger.get_invoice(invoice.id) == invoice and ledger.outbox_messages() == []


def test_a_running_promise_may_move_but_never_past_fourteen_days_from_the_first() -> None:
    # Given a customer who promised on 2 November
    ledger, invoice, token = a_payable_setup()
    clock = FixedClock(NOW)
    promise(ledger, clock, CONFIG, token=token, date_text="2026-11-05", notices=Notices())
    # When, two days later, they move the date
    clock.instant = NOW + timedelta(days=2)
    moved = promise(ledger, clock, CONFIG, token=token, date_text="2026-11-16", notices=Notices())
    too_far = promise(ledger, clock, CONFIG, token=token, date_text="2026-11-17", notices=Notices())
    # Then the window is still counted from the first promise
    assert isinstance(moved, Redirect)
    assert isinstance(too_far, PayPageView) and too_far.promise == PromiseWindow(date(2026, 11, 4), date(2026, 11, 16))
    stored = ledger.get_invoice(invoice.id)
    assert stored is not None and stored.promised_at == NOW


def test_once_a_promise_lapses_unpaid_no_other_promise_is_offered() -> None:
    # Given a promise whose day has passed unpaid
    ledger, _, token = a_payable_setup()
    clock = FixedClock(NOW)
    promise(ledger, clock, CONFIG, token=token, date_text="2026-11-03", notices=Notices())
    clock.instant = NOW + timedelta(days=3)
    # When the customer tries to promise again
    outcome = promise(ledger, clock, CONFIG, token=token, date_text="2026-11-06", notices=Notices())
    # Then the page no longer offers a promise and says why
    assert isinstance(outcome, PayPageView)
    assert outcome.promise is None
    assert english(outcome.promise_error) == "You have already promised to pay this invoice; please pay it now."


@pytest.mark.parametrize(
    ("status", "state"),
    [
        (PaymentStatus.SUCCEEDED, ReturnState.RECEIVED),
        (PaymentStatus.FAILED, ReturnState.FAILED),
        (PaymentStatus.PENDING, ReturnState.PROCESSING),
        (None, ReturnState.PROCESSING),
    ],
)
def test_the_return_page_reads_the_attempt_and_needs_no_pay_link(status: PaymentStatus | None, state: str) -> None:
    # Given a Checkout opened from a pay link, and what Stripe has told us about it so far
    ledger, invoice, token = a_payable_setup()
    gateway, clock = FakeGateway(), FixedClock(NOW)
    started = pay(ledger, gateway, clock, CONFIG, token=token, amount_text="", notices=Notices())
    assert isinstance(started, Redirect) and started.checkout_ref
    attempt = ledger.checkouts[(invoice.id, started.checkout_ref)]
    ledger.commit(Change(checkout=replace(attempt, payment_status=status)))
    # When the customer comes back, in a browser without the pay link's cookie
    view = returned(ledger, clock, invoice_id=invoice.id, ref=attempt.ref, cancelled=False, cookie_token=None)
    # Then the page says where the payment stands, links to itself and to no pay link
    assert isinstance(view, ReturnView)
    assert view.state == state and view.token is None
    assert view.check_again == f"/pay/return/{invoice.id}/{attempt.ref}"
    stored = ledger.get_invoice("inv_1")
    assert stored is not None and stored.status is InvoiceStatus.OPEN


def test_back_from_checkout_the_browser_that_came_from_the_link_gets_back_to_it() -> None:
    ledger, invoice, token = a_payable_setup()
    gateway, clock = FakeGateway(), FixedClock(NOW)
    started = pay(ledger, gateway, clock, CONFIG, token=token, amount_text="", notices=Notices())
    assert isinstance(started, Redirect) and started.checkout_ref
    ref = started.checkout_ref
    # Paid: the page links back to the invoice; cancelled: straight back to the pay page
    view = returned(ledger, clock, invoice_id=invoice.id, ref=ref, cancelled=False, cookie_token=token)
    assert isinstance(view, ReturnView) and view.token == token
    back = returned(ledger, clock, invoice_id=invoice.id, ref=ref, cancelled=True, cookie_token=token)
    assert isinstance(back, Redirect) and back.url == f"/pay/{token}?cancelled=1"
    # A cookie holding another invoice's link, or one that does not work, links nowhere
    ledger.commit(Change(new_invoice=an_invoice("inv_2", number="N-2")))
    other = a_stored_pay_link(ledger, ledger.invoices["inv_2"], token="tok-of-inv-2")
    for cookie in (other, "never-issued"):
        view = returned(ledger, clock, invoice_id=invoice.id, ref=ref, cancelled=True, cookie_token=cookie)
        assert isinstance(view, ReturnView) and view.token is None and view.state is None


def test_back_from_saving_a_card_goes_to_the_page_with_the_notice_only_with_the_link() -> None:
    ledger, invoice, token = a_payable_setup()
    clock = FixedClock(NOW)
    back = returned_from_setup(ledger, clock, invoice_id=invoice.id, notice="card=saved", cookie_token=token)
    assert isinstance(back, Redirect) and back.url == f"/pay/{token}?card=saved"
    assert returned_from_setup(ledger, clock, invoice_id=invoice.id, notice="", cookie_token=None) == SetupReturnView(
        "en-GB"
    )
    unknown = returned_from_setup(ledger, clock, invoice_id="inv_nope", notice="", cookie_token=None)
    assert unknown == SetupReturnView("en") and unknown.lang == "en"
