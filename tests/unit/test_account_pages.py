"""The account's pages as rendered: their size with a long history, and the language chosen before sign-in."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from functions.account.pages import CsrfRefused, check_fetch_site, check_token, language
from shared.domain.invoices import InvoiceStatus
from shared.rendering import render
from shared.services import account_statement
from tests.fakes.pages import a_ledger_with
from tests.fakes.records import a_customer, an_invoice
from tests.unit.services.test_account import Account


def test_a_statement_of_ten_open_and_thirty_settled_invoices_stays_under_30_kb() -> None:
    # Given a customer with a long history (ids as the operator API makes them)
    open_ones = [
        an_invoice(
            f"inv_{n:032x}",
            number=f"INV-2026-{n:05d}",
            description="Monthly consulting retainer, all hours",
            due_date=date(2026, 10, 1) + timedelta(days=n),
        )
        for n in range(10)
    ]
    settled = [
        an_invoice(f"inv_s{n:031x}", number=f"INV-2025-{n:05d}", status=InvoiceStatus.PAID, amount_paid=12_500)
        for n in range(30)
    ]
    account = Account(a_ledger_with(a_customer(), *open_ones, *settled))
    session = account.sign_in(account.code()).session
    view = account_statement.statement(
        account.ledger, account.clock, session, notices=account_statement.Notices(), promise_max_days=14
    )
    # When the statement is rendered
    html = render("account/statement.html", view=view, csrf="x" * 43, lang="en", business_name="Acme Consulting",
                  support_contact="billing@acme.example")  # fmt: skip
    # Then it lists them all, with no script, in under 30 KB
    assert html.count('action="/account/invoices/') == 20 and html.count("INV-2025-") == 30
    assert "<script" not in html and len(html.encode()) < 30_000


@pytest.mark.parametrize(
    ("header", "served"),
    [
        (None, "en"),
        ("", "en"),
        ("de-DE,de;q=0.9,en;q=0.8", "de"),
        ("ja, pt-BR;q=0.7, es;q=0.8", "es"),
        ("fr;q=0, de;q=0.1", "de"),
        ("zh-CN", "en"),
        ("de;q=abc, fr", "fr"),
        ("x" * 10_000, "en"),
        ("PT", "pt"),
    ],
)
def test_the_language_before_sign_in_is_the_browsers_first_of_ours(header: str | None, served: str) -> None:
    assert language(header) == served


@pytest.mark.parametrize(
    ("expected", "given", "site"),
    [
        ("token-1", None, "same-origin"),  # no token
        ("token-1", "", "same-origin"),
        ("token-1", "token-2", "same-origin"),  # another session's
        (None, "token-1", "same-origin"),  # no session, no form cookie
        ("", "", None),
        ("token-1", "token-1", "cross-site"),  # the right token from another site
        ("token-1", "token-1", "same-site"),  # a sibling subdomain
    ],
)
def test_a_form_without_its_token_or_from_another_site_is_refused(
    expected: str | None, given: str | None, site: str | None
) -> None:
    with pytest.raises(CsrfRefused):
        check_fetch_site(site)
        check_token(expected, given)


@pytest.mark.parametrize("site", ["same-origin", "none", None])
def test_a_form_with_its_token_from_our_own_page_passes(site: str | None) -> None:
    check_fetch_site(site)
    check_token("token-1", "token-1")
