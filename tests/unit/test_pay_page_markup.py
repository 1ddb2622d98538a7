"""The pay page as the customer sees it: what they just did confirmed at the top, an installment plan's
schedule instead of a promise form, in their language, within the page's budget (no script, under 30 KB)."""

from __future__ import annotations

from datetime import date

import pytest

from shared.clock import FixedClock
from shared.domain.invoices import InvoiceStatus
from shared.domain.records import Installment, InstallmentStatus, PlanKind
from shared.rendering import render
from shared.services.checkout import CheckoutConfig
from shared.services.pay_page import (
    PLAN_DATES_APPLY,
    Notices,
    PayPageConfig,
    PayPageView,
    Problem,
    ScheduledPayment,
    promise,
    show_pay_page,
)
from shared.services.ports import Change
from tests.fakes.pages import a_ledger_with, a_payable_setup, a_stored_pay_link
from tests.fakes.records import NOW, a_customer, a_plan, an_invoice

CONFIG = PayPageConfig(
    checkout=CheckoutConfig(base_url="https://pay.example.test", payment_method_types=("card",)), promise_max_days=14
)
THREE = (
    Installment(1, date(2026, 11, 2), 4_000, InstallmentStatus.PAID, 1, "pi_1"),
    Installment(2, date(2026, 12, 2), 4_000, InstallmentStatus.SCHEDULED),
    Installment(3, date(2027, 1, 2), 4_500, InstallmentStatus.SCHEDULED),
)


def html_of(view: PayPageView) -> str:
    return render(
        "pay.html",
        view=view,
        lang=view.lang,
        business_name="Acme",
        support_contact="help@acme.test",
        support_href="mailto:help@acme.test",
        account_url="https://pay.acme.test/account",
    )


def on_a_plan(locale: str = "en-GB", **plan_fields: object) -> tuple[PayPageView, str]:
    invoice = an_invoice(amount_paid=4_000, status=InvoiceStatus.PARTIALLY_PAID, active_plan="plan_1")
    ledger = a_ledger_with(a_customer(locale=locale), invoice)
    ledger.commit(Change(new_plan=a_plan(**({"installments": THREE} | plan_fields))))
    token = a_stored_pay_link(ledger, invoice)
    return show_pay_page(ledger, FixedClock(NOW), CONFIG, token=token, notices=Notices()), token


def test_an_invoice_on_an_installment_plan_shows_its_schedule_instead_of_a_promise_form() -> None:
    view, _ = on_a_plan()

    assert view.schedule == (
        ScheduledPayment(1, date(2026, 11, 2), 4_000, paid=True, failed=False),
        ScheduledPayment(2, date(2026, 12, 2), 4_000, paid=False, failed=False),
        ScheduledPayment(3, date(2027, 1, 2), 4_500, paid=False, failed=False),
    )
    assert view.promise is None
    html = html_of(view)
    assert "Your installment plan" in html and 'action="/pay/tok-of-the-test/promise"' not in html
    assert "<li>US$40.00 on 2 November 2026: paid</li>" in html
    assert "<li>US$45.00 on 2 January 2027: to be charged</li>" in html


def test_a_failed_installment_is_marked_in_the_schedule_beside_the_form_to_pay_it() -> None:
    failed = (THREE[0], Installment(2, date(2026, 12, 2), 4_000, InstallmentStatus.FAILED, 1, "pi_2"), THREE[2])
    view, _ = on_a_plan(installments=failed)

    assert [p.failed for p in view.schedule] == [False, True, False] and view.waiting is not None
    assert "not charged, to pay now" in html_of(view)


def test_an_autopay_charge_is_no_schedule_and_keeps_the_page_as_it_was() -> None:
    view, _ = on_a_plan(kind=PlanKind.AUTOPAY)
    assert view.schedule == ()
    assert "This invoice is being paid in installments." in html_of(view)


def test_a_promise_posted_while_a_plan_runs_is_refused_with_the_reason() -> None:
    invoice = an_invoice(amount_paid=4_000, status=InvoiceStatus.PARTIALLY_PAID, active_plan="plan_1")
    ledger = a_ledger_with(a_customer(), invoice)
    ledger.commit(Change(new_plan=a_plan(installments=THREE)))
    token = a_stored_pay_link(ledger, invoice)

    outcome = promise(ledger, FixedClock(NOW), CONFIG, token=token, date_text="2026-11-05", notices=Notices())

    assert isinstance(outcome, PayPageView)
    assert (outcome.problem, outcome.promise_error) == (Problem.CONFLICT, PLAN_DATES_APPLY)
    assert ledger.get_invoice("inv_1") == invoice and ledger.outbox_messages() == []


@pytest.mark.parametrize(
    ("notices", "said"),
    [
        (Notices(cancelled=True), "Payment cancelled. You have not been charged."),
        (Notices(promised=date(2026, 11, 9)), "Thank you. We will not send reminders until 9 November 2026."),
        (Notices(autopay_started=True), "Your card is being saved; autopay starts once Stripe confirms it."),
        (Notices(autopay_stopped=True), "Autopay is off. Your future invoices are not charged automatically."),
    ],
)
def test_what_the_customer_just_did_is_confirmed_at_the_top(notices: Notices, said: str) -> None:
    ledger, _, token = a_payable_setup()
    html = html_of(show_pay_page(ledger, FixedClock(NOW), CONFIG, token=token, notices=notices))

    assert said in html
    assert html.index(said) < html.index("Amount due") < html.index("<form")  # before the amount and any form


def test_a_german_customer_reads_the_plan_page_in_german_within_the_pages_budget() -> None:
    view, _ = on_a_plan(locale="de-DE")
    html = html_of(view)

    assert '<html lang="de">' in html and "Ihr Ratenplan" in html
    assert "<li>40,00\u00a0$ am 2. November 2026: bezahlt</li>" in html
    assert "<script" not in html and len(html.encode()) < 30_000
