"""The Invoice page's actions through the console's handler over moto (issue 13): each form shown only to the
roles allowed and refused on the server for the others, CSRF-checked, audited with the staff member's identity,
applied once when sent twice, and a field it cannot take a 400 page naming it."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyAlreadyInProgressError

from functions.checkout.handler import lambda_handler as pay_page
from shared import wiring
from shared.clock import wall_clock_now
from shared.domain.console_roles import Role
from shared.domain.records import Autopay
from shared.services import console_actions
from shared.services.ports import Change
from tests.integration.conftest import Aws
from tests.integration.console_browser import ConsoleBrowser, signed_in
from tests.integration.helpers import create_customer, create_invoice, get_invoice, operator, token_of
from tests.support import FakeLambdaContext, api_event, json_body

KEY = re.compile(r'name="key" value="([^"]+)"')


@pytest.fixture
def invoice(console: str) -> dict[str, Any]:
    customer = create_customer()
    return create_invoice(customer["id"])


def trail(invoice_id: str) -> list[dict[str, Any]]:
    path = f"/v1/invoices/{invoice_id}/audit"
    reply = operator("GET", path, "/v1/invoices/{invoice_id}/audit", params={"invoice_id": invoice_id})
    return list(json_body(reply)["data"])


def opened(browser: ConsoleBrowser, invoice_id: str) -> str:
    """Opens the Invoice page (its CSRF token is the next post's) and gives back its form key."""
    page = browser.get(f"/console/invoices/{invoice_id}")
    assert page.status == 200
    found = KEY.search(page.body)
    return found.group(1) if found else "no-key-on-the-page"


def send(browser: ConsoleBrowser, invoice_id: str, action: str, form: dict[str, str]) -> Any:
    key = opened(browser, invoice_id)
    return browser.post(f"/console/invoices/{invoice_id}/{action}", {"key": key} | form)


PAYS_BY = (wall_clock_now().date() + timedelta(days=5)).isoformat()  # the pay page's rule: within 14 days
PROMISE = {"date": PAYS_BY, "amount": "125.00"}
NOTE = {"note": "Spoke to accounts: paying on the 20th"}
CREDIT = {"amount": "25.00", "reason": "goodwill"}
CORRECTION = {"description": "Consulting, November (corrected)", "due_date": "2026-12-31"}
COLLECTOR_FORMS = {"promise": PROMISE, "pay-links": {}, "pay-links/revoke": {}, "notes": NOTE}
ADMIN_FORMS = {"void": {}, "credit-notes": CREDIT, "correction": CORRECTION}
BUTTONS = {"promise": "Note the promise", "pay-links": "Email a fresh pay link", "notes": "Add the note",
           "pay-links/revoke": "Revoke every pay link sent", "void": "Void the invoice",
           "credit-notes": "Issue the credit note", "correction": "Save the correction"}  # fmt: skip


def test_a_viewer_sees_no_action_and_every_forged_post_is_a_403(invoice: dict[str, Any]) -> None:
    viewer = signed_in(Role.VIEWER)
    page = viewer.get(f"/console/invoices/{invoice['id']}")
    assert not [button for button in BUTTONS.values() if button in page.body]
    for action, form in (COLLECTOR_FORMS | ADMIN_FORMS).items():
        reply = send(viewer, invoice["id"], action, form | {"key": "forged"})
        assert reply.status == 403 and "role does not allow" in reply.body, action
    stored = get_invoice(invoice["id"])
    assert stored["status"] == "open" and stored["hold"] is None and stored["amount_due"] == 12_500
    assert [entry["action"] for entry in trail(invoice["id"])] == ["invoice.created"]


def test_a_collector_sees_and_may_do_a_collectors_actions_but_cannot_void_credit_or_correct(
    invoice: dict[str, Any],
) -> None:
    collector = signed_in(Role.COLLECTOR)
    page = collector.get(f"/console/invoices/{invoice['id']}")
    assert all(BUTTONS[action] in page.body for action in COLLECTOR_FORMS)
    assert not [BUTTONS[action] for action in ADMIN_FORMS if BUTTONS[action] in page.body]
    for action, form in ADMIN_FORMS.items():
        reply = send(collector, invoice["id"], action, form)
        assert reply.status == 403, action
    stored = get_invoice(invoice["id"])
    assert stored["status"] == "open" and stored["amount_due"] == 12_500 and stored["credit_notes"] == []


def test_a_collector_notes_a_promise_and_a_note_each_audited_as_them_and_shown_on_the_timeline(
    invoice: dict[str, Any],
) -> None:
    collector = signed_in(Role.COLLECTOR)
    assert send(collector, invoice["id"], "promise", PROMISE).status == 303
    assert "Promise noted" in collector.follow().body
    assert send(collector, invoice["id"], "notes", NOTE).status == 303
    shown = collector.follow()
    assert "Note added" in shown.body and "Spoke to accounts: paying on the 20th" in shown.body
    assert "invoice.promise_to_pay by staff:" in shown.body and f"pays by {PAYS_BY}, $125.00" in shown.body
    stored = get_invoice(invoice["id"])
    assert stored["hold"]["reason"] == "promise to pay"
    entries = {entry["action"]: entry for entry in trail(invoice["id"])}
    for action in ("invoice.promise_to_pay", "invoice.note_added"):
        assert "collector@payportal.local" in entries[action]["actor"]
    assert entries["invoice.promise_to_pay"]["details"]["promised_amount"] == 12_500


def test_a_collector_resends_the_pay_link_once_however_often_the_form_is_sent(
    aws: Aws, invoice: dict[str, Any]
) -> None:
    aws.drain_outbox()
    sent_before = len(aws.emails())
    collector = signed_in(Role.COLLECTOR)
    key = opened(collector, invoice["id"])
    for _ in range(2):
        collector.get(f"/console/invoices/{invoice['id']}")
        assert collector.post(f"/console/invoices/{invoice['id']}/pay-links", {"key": key}).status == 303
    assert aws.drain_outbox()["batchItemFailures"] == []
    sent = [m for m in aws.emails()[sent_before:] if m.subject.startswith(f"Invoice {invoice['number']}")]
    assert len(sent) == 1 and "/pay/" in sent[0].text
    assert [e["action"] for e in trail(invoice["id"])].count("invoice.pay_link_issued") == 1


def test_a_revoked_pay_link_opens_no_pay_page_and_a_double_submit_revokes_once(invoice: dict[str, Any]) -> None:
    token = token_of(invoice["pay_url"])
    collector = signed_in(Role.COLLECTOR)
    key = opened(collector, invoice["id"])
    for _ in range(2):  # the same form twice: one revocation
        collector.get(f"/console/invoices/{invoice['id']}")
        assert collector.post(f"/console/invoices/{invoice['id']}/pay-links/revoke", {"key": key}).status == 303
    event = api_event("GET", f"/pay/{token}", resource="/pay/{token}", path_parameters={"token": token}, operator=False)
    assert pay_page(event, FakeLambdaContext())["statusCode"] in (404, 410)
    assert [e["action"] for e in trail(invoice["id"])].count("invoice.pay_links_revoked") == 1


def test_an_admin_credits_once_corrects_and_voids(invoice: dict[str, Any]) -> None:
    admin = signed_in(Role.ADMIN)
    key = opened(admin, invoice["id"])
    for _ in range(2):  # a double submit of the credit note form
        admin.get(f"/console/invoices/{invoice['id']}")
        assert admin.post(f"/console/invoices/{invoice['id']}/credit-notes", {"key": key} | CREDIT).status == 303
    assert "Credit note issued" in admin.follow().body
    assert get_invoice(invoice["id"])["amount_due"] == 10_000
    for _ in range(2):
        assert send(admin, invoice["id"], "correction", CORRECTION).status == 303
    corrected = get_invoice(invoice["id"])
    assert corrected["due_date"] == "2026-12-31" and corrected["description"].endswith("(corrected)")
    assert send(admin, invoice["id"], "void", {}).status == 303
    assert "Invoice voided" in admin.follow().body and get_invoice(invoice["id"])["status"] == "void"
    actions = [entry["action"] for entry in trail(invoice["id"])]
    assert (actions.count("invoice.credited"), actions.count("invoice.corrected"), actions.count("invoice.voided")) == (
        1, 1, 1,
    )  # fmt: skip
    assert all("admin@payportal.local" in e["actor"] for e in trail(invoice["id"]) if e["action"] != "invoice.created")


@pytest.mark.parametrize(
    ("action", "form", "named"),
    [("promise", {"date": PAYS_BY, "amount": "-5"}, "amount"),
     ("promise", {"date": PAYS_BY, "amount": "1" * 40}, "amount"),
     ("promise", {"date": "the 20th", "amount": "10.00"}, "date"),
     ("credit-notes", {"amount": "lots", "reason": "goodwill"}, "amount"),
     ("credit-notes", {"amount": "125.01", "reason": "goodwill"}, "amount"),
     ("credit-notes", {"amount": "5.00", "reason": "x" * 201}, "reason"),
     ("notes", {"note": "x" * 2001}, "note"),
     ("correction", {"due_date": "2026-13-01"}, "due date"),
     ("correction", {"amount_due": "99999999999"}, "amount due")],
)  # fmt: skip
def test_hostile_input_is_a_400_page_naming_the_field(
    invoice: dict[str, Any], action: str, form: dict[str, str], named: str
) -> None:
    admin = signed_in(Role.ADMIN)
    reply = send(admin, invoice["id"], action, form)
    assert reply.status == 400 and "That form has a problem" in reply.body and named in reply.body, reply.body
    stored = get_invoice(invoice["id"])
    assert stored["amount_due"] == 12_500 and stored["hold"] is None and stored["due_date"] == "2026-12-15"
    assert [entry["action"] for entry in trail(invoice["id"])] == ["invoice.created"]


@pytest.mark.parametrize("action", sorted(COLLECTOR_FORMS | ADMIN_FORMS))
def test_every_action_needs_the_csrf_token(invoice: dict[str, Any], action: str) -> None:
    admin = signed_in(Role.ADMIN)
    opened(admin, invoice["id"])
    form = (COLLECTOR_FORMS | ADMIN_FORMS)[action] | {"key": "k"}
    assert admin.post(f"/console/invoices/{invoice['id']}/{action}", form, csrf=False).status == 403
    opened(admin, invoice["id"])
    assert admin.post(f"/console/invoices/{invoice['id']}/{action}", form, origin="https://evil.example").status == 403
    assert [entry["action"] for entry in trail(invoice["id"])] == ["invoice.created"]


# ----- the Customer page ----------------------------------------------------------------------------------------


def customer_trail(customer_id: str) -> list[dict[str, Any]]:
    path = f"/v1/customers/{customer_id}/audit"
    reply = operator("GET", path, "/v1/customers/{customer_id}/audit", params={"customer_id": customer_id})
    return list(json_body(reply)["data"])


def get_customer(customer_id: str) -> dict[str, Any]:
    reply = operator(
        "GET", f"/v1/customers/{customer_id}", "/v1/customers/{customer_id}", params={"customer_id": customer_id}
    )
    return dict(json_body(reply))


def with_autopay(customer_id: str) -> None:
    """Autopay on, as the Checkout setup's webhook leaves it (that flow has its own tests: test_autopay.py)."""
    ledger = wiring.ledger()
    customer = ledger.get_customer(customer_id)
    assert customer is not None
    on = replace(customer, autopay=Autopay(enabled_at=wall_clock_now()), version=customer.version + 1)
    ledger.commit(Change(customer_update=on))


def autopay_on(customer_id: str) -> bool:
    customer = wiring.ledger().get_customer(customer_id)
    return customer is not None and customer.autopay is not None


def send_customer(browser: ConsoleBrowser, customer_id: str, action: str, form: dict[str, str]) -> Any:
    page = browser.get(f"/console/customers/{customer_id}")
    assert page.status == 200
    found = KEY.search(page.body)
    key = found.group(1) if found else "no-key-on-the-page"
    return browser.post(f"/console/customers/{customer_id}/{action}", {"key": key} | form)


CUSTOMER_BUTTONS = {"hold": "Hold the customer", "autopay/off": "Turn autopay off", "notes": "Add the note",
                    "correction": "Save the correction", "erase": "Erase the customer",
                    "restriction": "Restrict processing"}  # fmt: skip
CUSTOMER_FORMS = {"hold": {"reason": "In administration"}, "hold/release": {}, "autopay/off": {},
                  "notes": {"note": "Prefers letters"}, "correction": {"name": "Ada King"},
                  "erase": {"open_invoices": "hold", "confirm": "ERASE"}, "restriction": {},
                  "restriction/lift": {}}  # fmt: skip


def test_a_viewer_sees_no_customer_action_and_every_forged_post_is_a_403(invoice: dict[str, Any]) -> None:
    customer_id = invoice["customer_id"]
    with_autopay(customer_id)
    viewer = signed_in(Role.VIEWER)
    page = viewer.get(f"/console/customers/{customer_id}")
    assert not [button for button in CUSTOMER_BUTTONS.values() if button in page.body]
    for action, form in CUSTOMER_FORMS.items():
        reply = send_customer(viewer, customer_id, action, form | {"key": "forged"})
        assert reply.status == 403 and "role does not allow" in reply.body, action
    stored = get_customer(customer_id)
    assert stored["hold"] is None and stored["name"] == "Ada Lovelace" and autopay_on(customer_id)
    assert [e["action"] for e in customer_trail(customer_id)] == ["customer.created"]


def test_a_collector_holds_notes_and_turns_autopay_off_but_cannot_correct(invoice: dict[str, Any]) -> None:
    customer_id = invoice["customer_id"]
    with_autopay(customer_id)
    collector = signed_in(Role.COLLECTOR)
    page = collector.get(f"/console/customers/{customer_id}")
    assert all(CUSTOMER_BUTTONS[a] in page.body for a in ("hold", "autopay/off", "notes"))
    assert "Save the correction" not in page.body and "Erase the customer" not in page.body
    assert send_customer(collector, customer_id, "correction", {"name": "Ada King"}).status == 403
    assert send_customer(collector, customer_id, "erase", CUSTOMER_FORMS["erase"]).status == 403
    assert send_customer(collector, customer_id, "restriction", {}).status == 403
    page = collector.get(f"/console/customers/{customer_id}")
    key = KEY.search(page.body).group(1)  # type: ignore[union-attr]
    for _ in range(2):  # a double submit holds once
        collector.get(f"/console/customers/{customer_id}")
        assert (
            collector.post(f"/console/customers/{customer_id}/hold", {"key": key, "reason": "In administration"}).status
            == 303
        )
    assert "Hold placed" in collector.follow().body
    assert send_customer(collector, customer_id, "notes", {"note": "Prefers letters"}).status == 303
    assert send_customer(collector, customer_id, "autopay/off", {}).status == 303
    shown = collector.follow()
    assert (
        "Autopay is off" in shown.body
        and "Prefers letters" in shown.body
        and "customer.note_added by staff:" in shown.body
    )
    stored = get_customer(customer_id)
    assert stored["hold"]["reason"] == "In administration" and not autopay_on(customer_id)
    entries = customer_trail(customer_id)
    actions = [e["action"] for e in entries]
    assert (
        actions.count("customer.hold_placed") == 1
        and "autopay.disabled" in actions
        and "customer.note_added" in actions
    )
    assert all("collector@payportal.local" in e["actor"] for e in entries if e["action"] != "customer.created")
    assert send_customer(collector, customer_id, "hold/release", {}).status == 303
    assert get_customer(customer_id)["hold"] is None


def test_an_admin_corrects_a_customers_name_and_email(invoice: dict[str, Any]) -> None:
    customer_id = invoice["customer_id"]
    admin = signed_in(Role.ADMIN)
    for _ in range(2):
        reply = send_customer(admin, customer_id, "correction", {"name": "Ada King", "email": "ada.king@example.com"})
        assert reply.status == 303
    assert "Customer corrected" in admin.follow().body
    stored = get_customer(customer_id)
    assert (stored["name"], stored["email"]) == ("Ada King", "ada.king@example.com")
    entries = [e for e in customer_trail(customer_id) if e["action"] == "customer.updated"]
    assert len(entries) == 1 and "admin@payportal.local" in entries[0]["actor"]


def test_an_admin_corrects_the_locale_time_zone_and_external_id(invoice: dict[str, Any]) -> None:
    customer_id = invoice["customer_id"]
    admin = signed_in(Role.ADMIN)
    form = {"locale": "de-DE", "timezone": "Europe/Berlin", "external_id": "crm-ada"}
    assert send_customer(admin, customer_id, "correction", form).status == 303
    stored = get_customer(customer_id)
    assert (stored["locale"], stored["timezone"], stored["external_id"]) == ("de-DE", "Europe/Berlin", "crm-ada")
    assert send_customer(admin, customer_id, "correction", {"remove_external_id": "yes"}).status == 303
    assert get_customer(customer_id)["external_id"] is None


def test_an_admin_erases_a_customer_after_typing_the_confirmation(invoice: dict[str, Any]) -> None:
    customer_id = invoice["customer_id"]
    admin = signed_in(Role.ADMIN)
    unconfirmed = send_customer(admin, customer_id, "erase", {"open_invoices": "void", "confirm": "yes"})
    assert unconfirmed.status == 400 and "confirm" in unconfirmed.body
    assert get_customer(customer_id)["erased_at"] is None
    assert send_customer(admin, customer_id, "erase", {"open_invoices": "void", "confirm": "ERASE"}).status == 303
    shown = admin.follow()
    assert "Customer erased" in shown.body and "Ada Lovelace" not in shown.body
    assert "Erase the customer" not in shown.body  # nothing left to do on an erased customer
    stored = get_customer(customer_id)
    assert stored["erased_at"] is not None and stored["name"] == "Erased customer"
    erased = [e for e in customer_trail(customer_id) if e["action"] == "customer.erased"]
    assert len(erased) == 1 and "admin@payportal.local" in erased[0]["actor"]


def test_an_admin_restricts_processing_and_lifts_it(invoice: dict[str, Any]) -> None:
    customer_id = invoice["customer_id"]
    admin = signed_in(Role.ADMIN)
    assert send_customer(admin, customer_id, "restriction", {}).status == 303
    assert "Processing restricted" in admin.follow().body
    assert get_customer(customer_id)["restricted_at"] is not None
    assert send_customer(admin, customer_id, "restriction/lift", {}).status == 303
    assert get_customer(customer_id)["restricted_at"] is None


@pytest.mark.parametrize(
    ("action", "form", "named"),
    [("correction", {"email": "not-an-address"}, "email"), ("correction", {"name": "x" * 201}, "name"),
     ("correction", {"timezone": "Mars/Olympus"}, "time zone"), ("correction", {"locale": "xx-!!"}, "locale"),
     ("erase", {"open_invoices": "delete", "confirm": "ERASE"}, "open invoices"),
     ("hold", {"reason": "x" * 201}, "reason"), ("notes", {"note": "x" * 2001}, "note"),
     ("notes", {"note": "   "}, "note")],
)  # fmt: skip
def test_hostile_input_on_the_customer_page_is_a_400_naming_the_field(
    invoice: dict[str, Any], action: str, form: dict[str, str], named: str
) -> None:
    customer_id = invoice["customer_id"]
    admin = signed_in(Role.ADMIN)
    reply = send_customer(admin, customer_id, action, form)
    assert reply.status == 400 and named in reply.body, reply.body
    stored = get_customer(customer_id)
    assert stored["name"] == "Ada Lovelace" and stored["email"] == "ada@example.com" and stored["hold"] is None
    assert [e["action"] for e in customer_trail(customer_id)] == ["customer.created"]


@pytest.mark.parametrize("action", sorted(CUSTOMER_FORMS))
def test_every_customer_action_needs_the_csrf_token(invoice: dict[str, Any], action: str) -> None:
    customer_id = invoice["customer_id"]
    admin = signed_in(Role.ADMIN)
    admin.get(f"/console/customers/{customer_id}")
    form = CUSTOMER_FORMS[action] | {"key": "k"}
    assert admin.post(f"/console/customers/{customer_id}/{action}", form, csrf=False).status == 403
    admin.get(f"/console/customers/{customer_id}")
    assert admin.post(f"/console/customers/{customer_id}/{action}", form, origin="https://evil.example").status == 403
    assert [e["action"] for e in customer_trail(customer_id)] == ["customer.created"]


def test_a_form_still_being_applied_when_sent_again_is_a_409_page_not_a_500(
    invoice: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a note whose first post is still running (Powertools' record says in progress)
    def in_progress(*_: Any, **__: Any) -> None:
        raise IdempotencyAlreadyInProgressError("in progress")

    monkeypatch.setattr(console_actions, "add_note", in_progress)
    collector = signed_in(Role.COLLECTOR)
    # When the same form is sent again, Then the page says so, and asks for a reload
    reply = send(collector, invoice["id"], "notes", NOTE)
    assert reply.status == 409 and "being sent already" in reply.body
