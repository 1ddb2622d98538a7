"""The console's pages as markup: what a screen reader and a keyboard need (a language, one h1, a label for
every field, a name for every button, a title on the QR code), and nothing the CSP would block (no script, no
style attribute, only the one stylesheet whose hash the CSP names). Fast, on every template, without a
browser; axe-core and the keyboard walk check the pages as served, in Chromium (tests/e2e/test_accessibility.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from html.parser import HTMLParser
from typing import Any

import pytest

from shared.domain.console_roles import Action, Role, allowed_actions
from shared.domain.console_session import ConsoleSession, Stage
from shared.domain.records import AuditEntry, AuditSubject, Autopay
from shared.rendering import console_stylesheet, qr_svg, render
from shared.services import console_lists, console_policy, console_reports, console_users
from shared.services.console_pages import CustomerView, InvoiceView, TodayView
from shared.services.console_review import ReplayNotice, ReviewView
from shared.services.invoices import InvoiceDraft, create_invoice
from shared.services.lists import InvoiceRow
from shared.services.ports import Change
from shared.services.stripe_events.engine import Outcome
from tests.fakes import FixedClock, InMemoryLedger
from tests.fakes.console import FakeStaffAccounts
from tests.fakes.records import NOW, a_customer, a_payment, a_plan, an_event, an_invoice


class Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.labels_for: set[str] = set()
        self.buttons: list[str] = []
        self._button: list[str] | None = None
        self.text_in: dict[str, list[str]] = {}
        self._open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.tags.append((tag, found))
        self._open.append(tag)
        if tag == "label" and found.get("for"):
            self.labels_for.add(str(found["for"]))
        if tag == "button":
            self._button = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "button" and self._button is not None:
            self.buttons.append("".join(self._button).strip())
            self._button = None
        if self._open and self._open[-1] == tag:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        if self._button is not None:
            self._button.append(data)
        if self._open:
            self.text_in.setdefault(self._open[-1], []).append(data)


def staff(*roles: Role, stage: Stage = Stage.SIGNED_IN) -> ConsoleSession:
    return ConsoleSession(
        session_hash="h", stage=stage, username="ada@example.com", csrf_token="t", created_at=NOW, last_seen_at=NOW,
        staff_id="sub", email="ada@example.com", roles=frozenset(roles), totp_secret="JBSWY3DPEHPK3PXP",
    )  # fmt: skip


def pages() -> dict[str, str]:
    common: dict[str, Any] = {"base": "/console", "business_name": "Acme", "console_css": console_stylesheet()}
    admin = staff(Role.ADMIN)
    noted = AuditEntry(subject=AuditSubject.INVOICE, subject_id="inv_1", action="invoice.note_added",
                       actor="staff:sub:ada@example.com", at=NOW, details={"note": "Called <b>twice</b>"})  # fmt: skip
    invoice = InvoiceView(
        invoice=an_invoice(amount_paid=2_500), customer=a_customer(), payments=[a_payment(amount=2_500)],
        plan=a_plan(), timeline=[noted], actions=allowed_actions({Role.ADMIN}), now=NOW, form_key="k",
    )  # fmt: skip
    unpaid = replace(invoice, invoice=an_invoice(), payments=[], plan=None)
    row = InvoiceRow(an_invoice(), days_overdue=12)
    today = TodayView(reminders_due=[an_invoice()], flagged_events=[an_event()], failed_events=[], drift=[],
                      actions=frozenset({Action.VIEW}), currencies=["USD"], overdue=[row], promised=[row],
                      disputed=[])  # fmt: skip
    customer = CustomerView(customer=a_customer(), invoices=[an_invoice()], payments=[a_payment()], timeline=[],
                            actions=allowed_actions({Role.ADMIN}), now=NOW, form_key="k")  # fmt: skip
    ledger = InMemoryLedger()
    ledger.commit(Change(new_customer=a_customer()))
    for due, amount in ((date(2026, 9, 1), 12_345), (date(2026, 10, 20), 500), (date(2026, 12, 1), 99_000)):
        draft = InvoiceDraft("cus_1", f"N-{amount}", "USD", amount, due)
        create_invoice(ledger, FixedClock(NOW), draft, actor="ops")
    invoices = console_lists.invoices_page(ledger, FixedClock(NOW), admin, {})
    refused = console_lists.invoices_page(ledger, FixedClock(NOW), admin, {"status": ["paid"]})
    customers = console_lists.customers_page(ledger, admin, {})
    reports = console_reports.reports_page(ledger, FixedClock(NOW), admin, {})

    flagged = replace(an_event(), outcome="flagged", detail="a live-mode event on a test-mode stack")
    replayed = AuditEntry(subject=AuditSubject.STRIPE_EVENT, subject_id="evt_1", action="stripe_event.replayed",
                          actor="staff:sub:ada@example.com", at=NOW, details={"outcome": "applied"})  # fmt: skip
    review = ReviewView(flagged=[flagged], flagged_next="c1", failed=[replace(an_event("evt_2"), outcome="failed")],
                        failed_next=None, actions=allowed_actions({Role.ADMIN}),
                        replayed=ReplayNotice(Outcome.APPLIED, an_event(), [replayed]))  # fmt: skip
    for_viewer = replace(review, actions=frozenset({Action.VIEW}), replayed=None)
    policy = console_policy.policy_page(ledger, FixedClock(NOW), admin, {})
    policy_refused = console_policy.submit_policy(
        ledger, FixedClock(NOW), admin, {"steps-0-offset_days": ["x"], "steps-0-template": ["overdue"]}
    ).view
    policy_viewer = console_policy.policy_page(ledger, FixedClock(NOW), staff(Role.VIEWER), {})
    accounts = FakeStaffAccounts()
    accounts.add("ada@example.com", "admin", username="sub")
    accounts.add("bob@example.com", "collector")
    accounts.invite("carol@example.com", "viewer")
    users = console_users.users_page(accounts, admin)
    pending = staff(stage=Stage.ENROL_TOTP)
    qr = qr_svg("otpauth://totp/Acme:ada?secret=JBSWY3DPEHPK3PXP", title="QR code")
    steps: dict[str, Any] = {"csrf": "t", "problem": None, **common}
    return {
        "sign_in": render("console/sign_in.html", csrf="t", problem="That did not work.", **common),
        "new_password": render("console/new_password.html", session=staff(stage=Stage.NEW_PASSWORD), **steps),
        "enrol": render("console/enrol.html", session=pending, setup_key="JBSWY3DPEHPK3PXP", qr=qr, **steps),
        "code": render("console/code.html", session=staff(stage=Stage.TOTP), **steps),
        "today": render("console/today.html", session=admin, csrf="t", view=today, **common),
        "invoice": render("console/invoice.html", session=admin, csrf="t", view=invoice, done="held", **common),
        "invoice_unpaid": render("console/invoice.html", session=admin, csrf="t", view=unpaid, done="", **common),
        "problem": render("console/problem.html", title="Not found", problem="No such page.", **common),
        "customer": render("console/customer.html", session=admin, csrf="t", view=customer, done="held", **common),
        "invoices": render("console/invoices.html", session=admin, csrf="t", view=invoices, **common),
        "invoices_refused": render("console/invoices.html", session=admin, csrf="t", view=refused, **common),
        "customers": render("console/customers.html", session=admin, csrf="t", view=customers, **common),
        "reports": render("console/reports.html", session=admin, csrf="t", view=reports, **common),
        "review": render("console/review.html", session=admin, csrf="t", view=review, **common),
        "review_viewer": render("console/review.html", session=staff(Role.VIEWER), csrf="t", view=for_viewer, **common),
        "users": render("console/users.html", session=admin, csrf="t", view=users, done="invited", **common),
        "policy": render("console/dunning_policy.html", session=admin, csrf="t", view=policy, saved=True, **common),
        "policy_refused": render(
            "console/dunning_policy.html", session=admin, csrf="t", view=policy_refused, saved=False, **common
        ),
        "policy_viewer": render(
            "console/dunning_policy.html",
            session=staff(Role.VIEWER),
            csrf="t",
            view=policy_viewer,
            saved=False,
            **common,
        ),
    }


PAGES = pages()
UNPAID = InvoiceView(
    invoice=an_invoice(), customer=a_customer(), payments=[], plan=None, timeline=[], actions=frozenset(), now=NOW,
    form_key="k",
)  # fmt: skip


@pytest.mark.parametrize("name", sorted(PAGES))
def test_a_page_declares_its_language_and_has_one_h1(name: str) -> None:
    page = Page()
    page.feed(PAGES[name])
    assert ("html", {"lang": "en"}) in page.tags
    assert sum(1 for tag, _ in page.tags if tag == "h1") == 1
    assert any(tag == "meta" and attrs.get("name") == "viewport" for tag, attrs in page.tags)  # phones


@pytest.mark.parametrize("name", sorted(PAGES))
def test_every_field_has_a_label_and_every_button_a_name(name: str) -> None:
    page = Page()
    page.feed(PAGES[name])
    fields = [a for t, a in page.tags if t in ("input", "select", "textarea") and a.get("type") != "hidden"]
    for field in fields:
        assert field.get("id") in page.labels_for, (name, field)
    assert all(page.buttons), (name, page.buttons)


@pytest.mark.parametrize("name", sorted(PAGES))
def test_nothing_the_csp_would_block(name: str) -> None:
    page = Page()
    page.feed(PAGES[name])
    assert not [t for t, _ in page.tags if t in ("script", "iframe", "object", "embed", "link")]
    assert not [a for _, a in page.tags if "style" in a or any(k.startswith("on") for k in a)]
    assert [t for t, _ in page.tags if t == "style"] == ["style"]
    assert "".join(page.text_in.get("style", [])).strip() == console_stylesheet().strip()
    assert not [a for t, a in page.tags if t in ("a", "form", "img") and str(a.get("href") or a.get("action") or
                a.get("src") or "").startswith(("http:", "https:", "//"))]  # fmt: skip


def test_the_qr_code_has_a_title_and_the_setup_key_is_text() -> None:
    page = Page()
    page.feed(PAGES["enrol"])
    assert "svg" in [t for t, _ in page.tags] and "QR code" in "".join(page.text_in.get("title", []))
    assert "JBSWY3DPEHPK3PXP" in "".join(page.text_in.get("span", []))


@pytest.mark.parametrize("name", sorted(PAGES))
def test_ids_are_unique_and_every_chart_is_a_named_image(name: str) -> None:
    page = Page()
    page.feed(PAGES[name])
    ids = [str(a["id"]) for _, a in page.tags if a.get("id")]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    for tag, attrs in page.tags:
        if tag == "svg" and name != "enrol":  # the QR code is segno's, checked above
            assert attrs.get("role") == "img" and attrs.get("aria-labelledby"), attrs
            assert all(part in ids for part in str(attrs["aria-labelledby"]).split())


def test_the_reports_page_draws_its_charts_and_the_tables_beside_them() -> None:
    page = Page()
    page.feed(PAGES["reports"])
    charts = [a.get("id") for t, a in page.tags if t == "svg"]
    assert "aging-usd" in charts and "reminders-chart" in charts
    assert sum(1 for t, _ in page.tags if t == "table") >= 1
    scrollers = [a for t, a in page.tags if t == "div" and a.get("class") == "table"]
    assert scrollers and all(
        a.get("tabindex") == "0" and (a.get("aria-label") or a.get("aria-labelledby")) for a in scrollers
    )


def test_the_review_page_offers_a_replay_per_event_only_to_a_role_that_may_replay() -> None:
    admin, viewer = Page(), Page()
    admin.feed(PAGES["review"])
    viewer.feed(PAGES["review_viewer"])
    assert admin.buttons.count("Replay") == 2 and "Replay" not in viewer.buttons
    assert [a.get("action") for t, a in admin.tags if t == "form" and "replay" in str(a.get("action"))] == [
        "/console/review/evt_1/replay", "/console/review/evt_2/replay",
    ]  # fmt: skip
    assert "a live-mode event on a test-mode stack" in PAGES["review"] and "?flagged=c1" in PAGES["review"]


INVOICE_ACTIONS = ("Note the promise", "Email a fresh pay link", "Revoke every pay link sent", "Add the note",
                   "Issue the credit note", "Save the correction", "Void the invoice")  # fmt: skip


def test_the_invoice_page_shows_each_action_to_the_roles_allowed_and_a_note_as_text() -> None:
    # Given an unpaid invoice, When an admin, a collector and a viewer open it
    seen = {}
    for role in Role:
        view = replace(UNPAID, actions=allowed_actions({role}))
        page = Page()
        page.feed(render("console/invoice.html", session=staff(role), csrf="t", view=view, done="", base="/console",
                         business_name="Acme", console_css=""))  # fmt: skip
        seen[role] = set(page.buttons)
    # Then the admin sees every action, the collector those of a collector, the viewer none
    assert set(INVOICE_ACTIONS) <= seen[Role.ADMIN]
    assert set(INVOICE_ACTIONS[:4]) <= seen[Role.COLLECTOR] and not set(INVOICE_ACTIONS[4:]) & seen[Role.COLLECTOR]
    assert not set(INVOICE_ACTIONS) & seen[Role.VIEWER]
    # And a note shows on the timeline as text, never as markup
    assert "Called &lt;b&gt;twice&lt;/b&gt;" in PAGES["invoice"] and "<b>twice" not in PAGES["invoice"]


CUSTOMER_ACTIONS = ("Hold the customer", "Turn autopay off", "Add the note", "Save the correction")


def test_the_customer_page_shows_each_action_to_the_roles_allowed() -> None:
    # Given a customer with autopay on, When an admin, a collector and a viewer open their page
    seen = {}
    for role in Role:
        view = CustomerView(
            customer=a_customer(autopay=Autopay(enabled_at=NOW)), invoices=[], payments=[], timeline=[], now=NOW,
            form_key="k", actions=allowed_actions({role}),
        )  # fmt: skip
        page = Page()
        page.feed(render("console/customer.html", session=staff(role), csrf="t", view=view, done="", base="/console",
                         business_name="Acme", console_css=""))  # fmt: skip
        seen[role] = set(page.buttons)
    # Then the admin sees every action, the collector all but the correction, the viewer none
    assert set(CUSTOMER_ACTIONS) <= seen[Role.ADMIN]
    assert set(CUSTOMER_ACTIONS[:3]) <= seen[Role.COLLECTOR] and "Save the correction" not in seen[Role.COLLECTOR]
    assert not set(CUSTOMER_ACTIONS) & seen[Role.VIEWER]
