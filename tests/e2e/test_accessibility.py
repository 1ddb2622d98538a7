"""Every page a payer or a staff member can reach, in Chromium on the local stack, as it is served (its CSP
included): axe-core finds no serious or critical violation at a phone's size (375x812) or a desk's, and the
Tab key reaches every control in order with a visible focus style (tests/e2e/axe.py).

A page added later is one more `check_page(page, "what it is")` here."""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from local.stack import LocalStack
from shared.clock import wall_clock_now
from tests.e2e.axe import check_page
from tests.e2e.console_staff import OWN_PASSWORD, TEMPORARY_PASSWORD, new_staff_member, sign_in
from tests.integration.console_browser import fresh_code

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def customer(stack: LocalStack) -> dict[str, Any]:
    created = stack.signed(
        "POST", "/v1/customers", {"email": f"a11y-{uuid.uuid4().hex[:6]}@example.com", "name": "Alex Reader"}
    )
    assert created.status_code == 201, created.text
    return dict(created.json())


def invoice(stack: LocalStack, customer_id: str, **overrides: Any) -> dict[str, Any]:
    due = (wall_clock_now() + timedelta(days=30)).date().isoformat()
    body = {"customer_id": customer_id, "number": f"A11Y-{uuid.uuid4().hex[:6]}", "currency": "USD",
            "amount_due": 30_000, "due_date": due, "description": "Accessible consulting"} | overrides  # fmt: skip
    created = stack.signed("POST", "/v1/invoices", body, {"Idempotency-Key": uuid.uuid4().hex})
    assert created.status_code == 201, created.text
    return dict(created.json())


def paid_outside_stripe(stack: LocalStack, invoice_id: str, amount: int) -> None:
    body = {"amount": amount, "method": "check", "reference": "CHQ 7", "received_on": date.today().isoformat()}
    paid = stack.signed("POST", f"/v1/invoices/{invoice_id}/payments", body, {"Idempotency-Key": uuid.uuid4().hex})
    assert paid.status_code in (200, 201), paid.text


def test_every_pay_page_passes_axe_and_the_keyboard(local_stack: LocalStack, desk: Any) -> None:
    payer = customer(local_stack)
    plans = {"max_installments": 3, "min_installment_amount": 2_000, "frequencies": ["monthly"]}
    offers = {"allow_partial": True, "min_partial_amount": 1_000, "installments": plans}
    open_invoice = invoice(local_stack, payer["id"], **offers)

    # Open: the amount, partial payment, plans, autopay and the promise form
    desk.goto(open_invoice["pay_url"])
    expect(desk.get_by_role("button", name="Pay", exact=True)).to_be_visible()
    check_page(desk, "pay page, open, every form offered")

    # The same page with the amount refused (422): the error is announced and described
    desk.get_by_label(re.compile("Amount to pay")).fill("not an amount")
    desk.get_by_role("button", name="Pay", exact=True).click()
    expect(desk.locator("#amount-error")).to_be_visible()
    check_page(desk, "pay page, amount refused")

    # Partially paid
    part = invoice(local_stack, payer["id"])
    paid_outside_stripe(local_stack, part["id"], 10_000)
    desk.goto(part["pay_url"])
    expect(desk.get_by_text("Paid so far")).to_be_visible()
    check_page(desk, "pay page, partially paid")

    # Paid, and cancelled (voided): the settled page
    paid = invoice(local_stack, payer["id"])
    paid_outside_stripe(local_stack, paid["id"], 30_000)
    desk.goto(paid["pay_url"])
    expect(desk.get_by_text("This invoice is paid")).to_be_visible()
    check_page(desk, "pay page, paid")
    voided = invoice(local_stack, payer["id"])
    assert local_stack.signed("POST", f"/v1/invoices/{voided['id']}/void", {"reason": "sent twice"},
                              {"Idempotency-Key": uuid.uuid4().hex}).status_code == 200  # fmt: skip
    desk.goto(voided["pay_url"])
    expect(desk.get_by_text("has been cancelled")).to_be_visible()
    check_page(desk, "pay page, cancelled")

    # A link that is not valid, and a form that cannot be read (the error page)
    desk.goto(f"{local_stack.api_url}/pay/{'x' * 43}")
    expect(desk.get_by_role("heading", name="This payment link is not valid")).to_be_visible()
    check_page(desk, "pay link not valid")
    desk.goto(open_invoice["pay_url"])
    with desk.expect_navigation():  # more fields than any pay-page form has: a 400 page, nothing charged
        desk.evaluate("""() => { const form = document.querySelector('form');
            for (let i = 0; i < 12; i++) { const f = document.createElement('input'); f.type = 'hidden';
              f.name = 'x' + i; form.append(f); }
            form.submit(); }""")
    expect(desk.get_by_role("heading", name="This form could not be read")).to_be_visible()
    check_page(desk, "pay page error")

    # Back from a card setup that saved nothing, and back from Checkout having paid
    desk.goto(f"{local_stack.api_url}/pay/return/{open_invoice['id']}")
    expect(desk.get_by_role("heading", name="Nothing changed")).to_be_visible()
    check_page(desk, "back from a card setup")
    desk.goto(open_invoice["pay_url"])
    desk.get_by_role("button", name="Pay", exact=True).click()
    desk.get_by_label("Card number").fill("4242 4242 4242 4242")
    desk.get_by_label("Expiry").fill("12 / 34")
    desk.get_by_label("CVC").fill("123")
    desk.get_by_role("button", name="Pay", exact=True).click()
    desk.wait_for_url(re.compile(rf".*/pay/return/{open_invoice['id']}/.*"))
    check_page(desk, "back from Checkout")

    # A promise to pay just made: the thanks at the top of the page
    promised = invoice(local_stack, payer["id"])
    desk.goto(promised["pay_url"])
    desk.get_by_label("I will pay by").fill((wall_clock_now().date() + timedelta(days=3)).isoformat())
    desk.get_by_role("button", name="Promise to pay").click()
    expect(desk.get_by_role("status").filter(has_text="We will not send reminders")).to_be_visible()
    check_page(desk, "pay page, promise recorded")

    # On an installment plan: the schedule instead of a promise form. Chosen in 2040 on the business clock, so
    # that no other test's charge run (they move the clock to 2027-2031) finds its installments due.
    assert local_stack.post("/_local/clock", json={"now": "2040-01-15T12:00:00+00:00"}).status_code == 200
    on_plan = invoice(local_stack, payer["id"], installments=plans, due_date="2040-02-14")
    desk.goto(on_plan["pay_url"])
    desk.get_by_label(re.compile("3 monthly payments")).check()
    desk.get_by_role("button", name="Pay the first installment").click()
    desk.get_by_label("Card number").fill("4242 4242 4242 4242")
    desk.get_by_label("Expiry").fill("12 / 34")
    desk.get_by_label("CVC").fill("123")
    desk.get_by_role("button", name="Pay", exact=True).click()
    desk.wait_for_url(re.compile(rf".*/pay/return/{on_plan['id']}/.*"))
    for _ in range(20):  # the webhook starts the plan
        desk.goto(on_plan["pay_url"])
        if desk.get_by_role("heading", name="Your installment plan").count():
            break
        desk.wait_for_timeout(500)
    expect(desk.get_by_role("heading", name="Your installment plan")).to_be_visible()
    expect(desk.get_by_role("button", name="Promise to pay")).to_have_count(0)
    check_page(desk, "pay page, on an installment plan")


def test_the_pay_together_page_and_its_return_page_pass_axe_and_the_keyboard(
    local_stack: LocalStack, desk: Any
) -> None:
    # Given a customer with two overdue invoices, reminded in one email with a pay-together link
    payer = customer(local_stack)
    for _ in range(2):
        invoice(local_stack, payer["id"], due_date="2033-05-01")
    assert local_stack.post("/_local/clock", json={"now": "2033-05-08T12:00:00+00:00"}).status_code == 200
    assert local_stack.post("/_local/schedules/reminders/run").status_code == 200
    local_stack.drain_outbox()
    [email] = [e for e in local_stack.get("/_local/emails").json()["emails"] if e["to"] == [payer["email"]]]
    [link] = re.findall(r"(https?://\S+/pay/together/[A-Za-z0-9_-]+)", email["text"])

    desk.goto(link)
    expect(desk.get_by_role("button", name=re.compile("^Pay "))).to_be_visible()
    check_page(desk, "pay-together page")

    desk.get_by_role("button", name=re.compile("^Pay ")).click()
    desk.get_by_label("Card number").fill("4242 4242 4242 4242")
    desk.get_by_label("Expiry").fill("12 / 34")
    desk.get_by_label("CVC").fill("123")
    desk.get_by_role("button", name="Pay", exact=True).click()
    desk.wait_for_url(re.compile(r".*/pay/together/return/cmb_.*"))
    check_page(desk, "back from Checkout, several invoices")


def test_every_console_page_passes_axe_and_the_keyboard(local_stack: LocalStack, desk: Any) -> None:
    payer = customer(local_stack)
    overdue = invoice(local_stack, payer["id"], due_date=(wall_clock_now() - timedelta(days=9)).date().isoformat())
    paid_outside_stripe(local_stack, overdue["id"], 5_000)
    email = new_staff_member(local_stack, "admin")

    desk.goto(f"{local_stack.api_url}/console/sign-in")
    check_page(desk, "console sign-in")
    sign_in(desk, local_stack, email, "not the password")
    expect(desk.get_by_role("alert")).to_be_visible()
    check_page(desk, "console sign-in refused")

    sign_in(desk, local_stack, email, TEMPORARY_PASSWORD)
    expect(desk.get_by_role("heading", name="Choose your password")).to_be_visible()
    check_page(desk, "console new password")
    desk.get_by_label("New password").fill(OWN_PASSWORD)
    desk.get_by_role("button", name="Save and continue").click()

    expect(desk.get_by_role("heading", name="Set up your authenticator app")).to_be_visible()
    check_page(desk, "console TOTP enrolment")
    secret = str(desk.locator(".key").inner_text()).strip()
    desk.get_by_label("The six-digit code the app shows").fill(fresh_code(secret))
    desk.get_by_role("button", name="Verify and sign in").click()
    desk.wait_for_url(re.compile(r".*/console/today$"))
    check_page(desk, "console Today")

    desk.goto(f"{local_stack.api_url}/console/invoices/{overdue['id']}")
    expect(desk.get_by_role("button", name="Place a hold")).to_be_visible()
    check_page(desk, "console Invoice, an admin's actions")
    desk.get_by_label("Why reminders should pause").fill("Asked for a copy")
    desk.get_by_role("button", name="Place a hold").click()
    expect(desk.get_by_role("status")).to_be_visible()
    check_page(desk, "console Invoice, hold placed")

    desk.get_by_label("Note (kept on the timeline)").fill("Sent a copy by post")
    desk.get_by_role("button", name="Add the note").click()
    expect(desk.get_by_role("status")).to_be_visible()
    check_page(desk, "console Invoice, a note on the timeline")

    desk.goto(f"{local_stack.api_url}/console/customers/{payer['id']}")
    expect(desk.get_by_role("button", name="Hold the customer")).to_be_visible()
    check_page(desk, "console Customer, an admin's actions")
    desk.goto(f"{local_stack.api_url}/console/invoices?overdue=true")
    check_page(desk, "console Invoices, overdue")
    desk.goto(f"{local_stack.api_url}/console/invoices?status=nonsense")
    check_page(desk, "console Invoices, a filter refused")
    desk.goto(f"{local_stack.api_url}/console/customers")
    check_page(desk, "console Customers")
    desk.goto(f"{local_stack.api_url}/console/reports")
    check_page(desk, "console Reports, charts and tables")
    desk.goto(f"{local_stack.api_url}/console/review")
    expect(desk.get_by_role("heading", name="Review Stripe events")).to_be_visible()
    check_page(desk, "console Review")  # with events, and after a replay: test_console_review_browser.py
    desk.goto(f"{local_stack.api_url}/console/dunning-policy")
    expect(desk.get_by_role("heading", name="Dunning policy", exact=True)).to_be_visible()
    check_page(desk, "console Dunning policy, the admin's form and its preview")
    desk.get_by_label("Days from the due date").first.fill("-70000")
    desk.get_by_role("button", name="Preview").click()
    expect(desk.get_by_role("alert")).to_be_visible()
    check_page(desk, "console Dunning policy, a step refused")
    desk.goto(f"{local_stack.api_url}/console/users")
    expect(desk.get_by_role("heading", name="Users", exact=True)).to_be_visible()
    check_page(desk, "console Users, the admin's actions")
    desk.goto(f"{local_stack.api_url}/console/import")
    check_page(desk, "console Import")
    header = "customer_external_id,customer_name,customer_email,invoice_number,currency,amount,due_date\n"
    bad = header + "a11y-1,Ada,not-an-address,A11Y-1,USD,12.345,2027-01-31\n"
    desk.get_by_label("File (UTF-8)").set_input_files(files=[{"name": "bad.csv", "mimeType": "text/csv",
                                                             "buffer": bad.encode()}])  # fmt: skip
    desk.get_by_role("button", name="Check the file").click()
    expect(desk.get_by_role("heading", name="The file cannot be imported")).to_be_visible()
    check_page(desk, "console Import, row errors")
    good = header + "a11y-1,Ada,ada@example.com,A11Y-1,USD,12.34,2027-01-31\n"
    desk.get_by_label("File (UTF-8)").set_input_files(files=[{"name": "good.csv", "mimeType": "text/csv",
                                                             "buffer": good.encode()}])  # fmt: skip
    desk.get_by_role("button", name="Check the file").click()
    expect(desk.get_by_role("heading", name="The file checks")).to_be_visible()
    check_page(desk, "console Import, checked")
    desk.get_by_role("button", name="Import 1 rows").click()
    expect(desk.get_by_role("progressbar")).to_be_visible()
    check_page(desk, "console Import, progress")
    expect(desk.get_by_role("status")).to_contain_text("Completed: 1 of 1 rows", timeout=15_000)  # meta refresh
    desk.goto(f"{local_stack.api_url}/console/invoices/inv_none")
    expect(desk.get_by_role("heading", name="Not found")).to_be_visible()
    check_page(desk, "console not found")

    desk.goto(f"{local_stack.api_url}/console/today")
    desk.get_by_role("button", name="Sign out").click()
    sign_in(desk, local_stack, email, OWN_PASSWORD)
    expect(desk.get_by_role("heading", name="Authenticator code")).to_be_visible()
    check_page(desk, "console TOTP code")
    desk.get_by_label("The six-digit code your authenticator app shows").fill(fresh_code(secret))
    desk.get_by_role("button", name="Sign in").click()
    desk.wait_for_url(re.compile(r".*/console/today$"))


def test_the_keyboard_check_fails_a_page_without_a_focus_style(local_stack: LocalStack, desk: Any) -> None:
    """The check itself: a control whose focus is invisible is reported (so a pass above means something)."""
    desk.goto(f"{local_stack.api_url}/console/sign-in")
    desk.evaluate("() => { for (const el of document.querySelectorAll('input, button, a')) "
                  "{ el.style.setProperty('outline', 'none', 'important'); } }")  # fmt: skip
    with pytest.raises(AssertionError, match="no visible focus style"):
        check_page(desk, "sign-in without focus styles")


def test_axe_fails_a_page_with_a_serious_violation(local_stack: LocalStack, desk: Any) -> None:
    """And axe-core runs in the page despite its CSP: text too faint to read is a serious violation."""
    desk.goto(f"{local_stack.api_url}/console/sign-in")
    desk.evaluate("() => { document.querySelector('h1').style.setProperty('color', '#dddddd', 'important'); }")
    with pytest.raises(AssertionError, match=r"serious color-contrast: .* at \[\"h1\"\] \(https://dequeuniversity"):
        check_page(desk, "sign-in with a faint heading")


def test_every_account_page_passes_axe_and_the_keyboard(local_stack: LocalStack, desk: Any) -> None:
    payer = customer(local_stack)
    offer = {"max_installments": 3, "min_installment_amount": 5_000, "frequencies": ["monthly"]}
    invoice(local_stack, payer["id"], installments=offer, allow_partial=True)  # the plans and an amount to pay
    invoice(local_stack, payer["id"], due_date=(wall_clock_now() - timedelta(days=40)).date().isoformat())

    desk.goto(f"{local_stack.api_url}/account")
    check_page(desk, "account sign-in")
    desk.get_by_label("Email address").fill("not an address")
    desk.evaluate("() => document.querySelector('#email').type = 'text'")  # past the browser's own check
    desk.get_by_role("button", name="Email me a code").click()
    expect(desk.get_by_role("alert")).to_be_visible()
    check_page(desk, "account sign-in, address refused")

    desk.get_by_label("Email address").fill(payer["email"])
    desk.get_by_role("button", name="Email me a code").click()
    check_page(desk, "account code")
    desk.get_by_label("Code").fill("000000" if account_code(local_stack, payer["email"]) != "000000" else "111111")
    desk.get_by_role("button", name="Sign in").click()
    expect(desk.get_by_role("alert")).to_be_visible()
    check_page(desk, "account code refused")
    desk.get_by_label("Code").fill(account_code(local_stack, payer["email"]))
    desk.get_by_role("button", name="Sign in").click()
    expect(desk.get_by_role("heading", name="Your statement")).to_be_visible()
    check_page(desk, "account statement, one invoice overdue, one with plans, both payable together")
    desk.get_by_role("radio").first.check()
    desk.get_by_role("button", name="Choose this plan").click()
    expect(desk.get_by_role("heading", name="Pay in installments")).to_be_visible()
    check_page(desk, "account step-up code, installment plan")
    desk.goto(f"{local_stack.api_url}/account")

    desk.get_by_role("button", name="Turn autopay on").click()
    expect(desk.get_by_role("heading", name="Turn autopay on")).to_be_visible()
    check_page(desk, "account step-up code")
    desk.get_by_label("Code").fill("12345")
    desk.get_by_role("button", name="Confirm").click()
    expect(desk.get_by_role("alert")).to_be_visible()
    check_page(desk, "account step-up code refused")
    desk.goto(f"{local_stack.api_url}/account/payment-methods")
    expect(desk.get_by_role("heading", name="Payment methods")).to_be_visible()
    check_page(desk, "account payment methods, none saved")
    desk.get_by_role("button", name="Add a payment method").click()
    expect(desk.get_by_role("heading", name="Add a payment method")).to_be_visible()
    check_page(desk, "account step-up code, adding a payment method")
    desk.goto(f"{local_stack.api_url}/account")
    desk.get_by_role("button", name="Download my data").click()
    expect(desk.get_by_role("heading", name="Download my data")).to_be_visible()
    check_page(desk, "account export step-up code")
    desk.get_by_label("Code").fill(account_code(local_stack, payer["email"]))
    desk.get_by_role("button", name="Confirm").click()
    expect(desk.get_by_role("status")).to_be_visible()
    check_page(desk, "account export asked")
    desk.goto(export_link(local_stack, payer["email"]))
    expect(desk.get_by_role("button", name="Download (zip)")).to_be_visible()
    check_page(desk, "account export link")
    desk.goto(f"{local_stack.api_url}/account")
    desk.get_by_role("button", name="Sign out").click()


def export_link(stack: LocalStack, address: str) -> str:
    """The download link of the newest export email to `address`."""
    stack.drain_outbox()
    emails = [e for e in stack.get("/_local/emails").json()["emails"] if e["to"] == [address]]
    found = [m.group(1) for e in emails if (m := re.search(r"/account/export/([A-Za-z0-9_-]+)", e["text"]))]
    return f"{stack.api_url}/account/export/{found[-1]}"


def account_code(stack: LocalStack, address: str) -> str:
    """The code of the newest account email to `address` (its subject names it)."""
    stack.drain_outbox()
    emails = [e for e in stack.get("/_local/emails").json()["emails"] if e["to"] == [address]]
    found = [m.group(1) for e in emails if (m := re.search(r"\b(\d{6})\b", e["subject"]))]
    return found[-1]
