"""The operator console in headless Chromium (Debian's) on the local stack: the seeded admin signs in by
keyboard, enrols TOTP from the setup key on the page, places a hold, signs out and in again with a code; a
viewer on a phone sees no hold button and a forged post of the form is refused; a session that has not
passed MFA reaches no page; a post without the CSRF token or from another origin is refused. Codes are
computed here, as an authenticator app computes them."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from local.cognito import DEFAULT_CONSOLE_PASSWORD
from local.stack import LocalStack
from shared.clock import wall_clock_now
from tests.e2e.console_staff import signed_in_as_new
from tests.integration.console_browser import fresh_code

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def overdue_invoice(stack: LocalStack) -> dict[str, Any]:
    customer = stack.signed(
        "POST", "/v1/customers", {"email": f"late-{uuid.uuid4().hex[:6]}@example.com", "name": "Late Payer"}
    ).json()
    due = (wall_clock_now() - timedelta(days=10)).date().isoformat()
    body = {"customer_id": customer["id"], "number": f"INV-LATE-{uuid.uuid4().hex[:6]}", "currency": "USD",
            "amount_due": 12_000, "due_date": due, "description": "Overdue consulting"}  # fmt: skip
    invoice: dict[str, Any] = stack.signed("POST", "/v1/invoices", body, {"Idempotency-Key": uuid.uuid4().hex}).json()
    return invoice


def sign_in_by_keyboard(page: Any, base: str, email: str) -> None:
    page.goto(f"{base}/console")
    assert page.url.endswith("/console/sign-in")
    expect(page.get_by_label("Email")).to_be_focused()  # autofocus: the keyboard starts there
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    page.keyboard.type(DEFAULT_CONSOLE_PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")


def enrol(page: Any) -> str:
    expect(page.locator("figure.qr svg")).to_be_visible()
    secret = str(page.locator(".key").inner_text()).strip()
    page.get_by_label("The six-digit code the app shows").fill(fresh_code(secret))
    page.get_by_role("button", name="Verify and sign in").click()
    page.wait_for_url(re.compile(r".*/console/today$"))
    return secret


def test_the_admin_enrols_holds_an_overdue_invoice_and_signs_in_again_with_a_code(
    local_stack: LocalStack, desk: Any
) -> None:
    invoice = overdue_invoice(local_stack)
    sign_in_by_keyboard(desk, local_stack.api_url, "admin@payportal.local")
    secret = enrol(desk)
    expect(desk.get_by_role("heading", name="Today")).to_be_visible()

    # The overdue invoice is on Today (overdue, and its reminder due): the admin opens it from there
    # (Today lists the currencies of the reminders due now; outside the customers' sending window, 09:00 to
    # 18:00 their time, none is due yet, and the page asks for a currency, as the admin then gives it)
    desk.get_by_label("Lists below in currency").fill("USD")
    desk.get_by_role("button", name="Show").click()
    desk.wait_for_url(re.compile(r".*/console/today\?currency=USD$"))
    overdue = desk.locator("section", has=desk.get_by_role("heading", name=re.compile("^Overdue")))
    overdue.get_by_role("link", name=invoice["number"]).click()
    desk.wait_for_url(re.compile(rf".*/console/invoices/{invoice['id']}$"))
    desk.get_by_label("Why reminders should pause").fill("Customer called: pays on Friday")
    desk.get_by_role("button", name="Place a hold").click()
    expect(desk.get_by_text("Hold placed")).to_be_visible()
    assert local_stack.signed("GET", f"/v1/invoices/{invoice['id']}").json()["hold"]["reason"] == (
        "Customer called: pays on Friday"
    )
    expect(desk.get_by_text(re.compile("invoice.hold_placed by staff:.*admin@payportal.local"))).to_be_visible()

    # A cheque came in for part of it
    desk.get_by_label("Amount (USD)").fill("45.00")
    desk.get_by_label("How it came in").select_option("check")
    desk.get_by_label("Reference (cheque number, transfer reference)").fill("CHQ 1001")
    desk.get_by_role("button", name="Record the payment").click()
    expect(desk.get_by_text("Payment recorded")).to_be_visible()
    desk.wait_for_url(re.compile(r".*\?done=recorded$"))
    stored = local_stack.signed("GET", f"/v1/invoices/{invoice['id']}").json()
    assert stored["amount_paid"] == 4_500 and stored["status"] == "partially_paid"

    desk.get_by_role("button", name="Sign out").click()
    desk.wait_for_url(re.compile(r".*/console/sign-in$"))
    sign_in_by_keyboard(desk, local_stack.api_url, "admin@payportal.local")
    expect(desk.get_by_role("heading", name="Authenticator code")).to_be_visible()
    desk.get_by_label("The six-digit code your authenticator app shows").fill(fresh_code(secret))
    with desk.expect_navigation():
        desk.keyboard.press("Enter")
    desk.wait_for_url(re.compile(r".*/console/today$"))

    # The admin opens Invoices from the navigation, filters what is overdue in USD, and opens the invoice
    desk.get_by_role("navigation", name="Console").get_by_role("link", name="Invoices").click()
    desk.wait_for_url(re.compile(r".*/console/invoices$"))
    desk.get_by_label("Overdue", exact=True).select_option("true")
    desk.get_by_label("Currency").fill("USD")
    desk.get_by_label("Order").select_option("due_desc")
    desk.get_by_role("button", name="Show invoices").click()
    desk.wait_for_url(re.compile(r".*/console/invoices\?.*overdue=true.*"))
    found = desk.get_by_role("region", name="Invoices found")
    found.get_by_role("link", name=invoice["number"]).click()
    desk.wait_for_url(re.compile(rf".*/console/invoices/{invoice['id']}$"))
    expect(desk.get_by_role("heading", name=f"Invoice {invoice['number']}")).to_be_visible()

    # And Reports, where the aging of USD is a chart (an image named by its title) with its table
    desk.get_by_role("navigation", name="Console").get_by_role("link", name="Reports").click()
    desk.wait_for_url(re.compile(r".*/console/reports$"))
    chart = desk.get_by_role("img", name=re.compile(r"^Aging in USD at the end of "))
    expect(chart).to_be_visible()
    assert chart.locator("rect").count() == 5
    expect(desk.get_by_role("region", name="Aging table")).to_contain_text("USD")


def test_a_viewer_on_a_phone_has_no_hold_button_and_a_forged_post_is_refused(
    local_stack: LocalStack, phone: Any
) -> None:
    invoice = overdue_invoice(local_stack)
    sign_in_by_keyboard(phone, local_stack.api_url, "viewer@payportal.local")
    enrol(phone)
    phone.goto(f"{local_stack.api_url}/console/invoices/{invoice['id']}")
    assert phone.get_by_role("button", name="Place a hold").count() == 0
    csrf = phone.locator("input[name=csrf]").first.get_attribute("value")
    forged = phone.request.post(
        f"{local_stack.api_url}/console/invoices/{invoice['id']}/hold",
        form={"reason": "forged", "csrf": csrf},
        headers={"Origin": local_stack.api_url},
        max_redirects=0,
    )
    assert forged.status == 403
    assert local_stack.signed("GET", f"/v1/invoices/{invoice['id']}").json()["hold"] is None

    # The lists and reports fit a 375 px phone: only a table's own container scrolls sideways
    phone.set_viewport_size({"width": 375, "height": 800})
    for path in ("/console/invoices", "/console/customers", "/console/reports"):
        phone.goto(f"{local_stack.api_url}{path}")
        assert phone.evaluate("document.documentElement.scrollWidth") <= 375, path
    # And each is usable by keyboard: the first Tab reaches the skip link, focus is visibly outlined
    phone.goto(f"{local_stack.api_url}/console/invoices")
    phone.keyboard.press("Tab")
    expect(phone.get_by_role("link", name="Skip to content")).to_be_focused()
    phone.get_by_label("Currency").focus()
    assert phone.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "solid"


def test_a_session_that_has_not_passed_mfa_reaches_no_page(local_stack: LocalStack, desk: Any) -> None:
    invoice = overdue_invoice(local_stack)
    sign_in_by_keyboard(desk, local_stack.api_url, "collector@payportal.local")
    expect(desk.locator("figure.qr svg")).to_be_visible()  # password accepted, enrolment pending
    for path in ("/console/today", f"/console/invoices/{invoice['id']}"):
        desk.goto(f"{local_stack.api_url}{path}")
        assert desk.url.endswith("/console/sign-in")


def test_a_collector_has_no_refund_form_and_a_forged_refund_is_refused(local_stack: LocalStack, desk: Any) -> None:
    invoice = overdue_invoice(local_stack)
    sign_in_by_keyboard(desk, local_stack.api_url, "collector@payportal.local")
    if desk.locator("figure.qr svg").count():  # enrolment still pending from another test: finish it
        enrol(desk)
    desk.goto(f"{local_stack.api_url}/console/invoices/{invoice['id']}")
    expect(desk.get_by_role("button", name="Place a hold")).to_be_visible()  # a collector's action is there
    assert desk.get_by_role("button", name="Refund").count() == 0
    csrf = desk.locator("input[name=csrf]").first.get_attribute("value")
    forged = desk.request.post(
        f"{local_stack.api_url}/console/invoices/{invoice['id']}/refunds",
        form={"payment_id": "pi_x", "amount": "", "reason": "requested_by_customer", "key": "k", "csrf": csrf},
        headers={"Origin": local_stack.api_url},
        max_redirects=0,
    )
    assert forged.status == 403


def test_posts_without_the_csrf_token_or_from_another_origin_are_refused(local_stack: LocalStack, desk: Any) -> None:
    """A collector may place a hold, so each refusal below is the CSRF check's, not the role's: the same post
    with the page's token and origin then succeeds."""
    invoice = overdue_invoice(local_stack)
    signed_in_as_new(desk, local_stack, "collector")
    desk.goto(f"{local_stack.api_url}/console/invoices/{invoice['id']}")
    csrf = desk.locator("input[name=csrf]").first.get_attribute("value")
    hold = f"{local_stack.api_url}/console/invoices/{invoice['id']}/hold"
    attempts = {
        "no token": ({"reason": "forged"}, {"Origin": local_stack.api_url}),
        "a wrong token": ({"reason": "forged", "csrf": "x" * 43}, {"Origin": local_stack.api_url}),
        "another origin": ({"reason": "forged", "csrf": csrf}, {"Origin": "https://evil.example"}),
    }
    for how, (form, headers) in attempts.items():
        reply = desk.request.post(hold, form=form, headers=headers, max_redirects=0)
        assert reply.status == 403, how
        assert local_stack.signed("GET", f"/v1/invoices/{invoice['id']}").json()["hold"] is None, how

    genuine = desk.request.post(
        hold, form={"reason": "genuine", "csrf": csrf}, headers={"Origin": local_stack.api_url}, max_redirects=0
    )
    assert genuine.status == 303
    assert local_stack.signed("GET", f"/v1/invoices/{invoice['id']}").json()["hold"]["reason"] == "genuine"
