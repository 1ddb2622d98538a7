"""The customer's account in Chromium on the local stack: sign in with the code from the email, see the
statement, pay both open invoices in one Checkout and get one receipt; five wrong codes lock the code; turning
autopay on and removing a card ask for a fresh code."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from local.stack import LocalStack
from shared.clock import wall_clock_now

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

CODE = re.compile(r"\b(\d{6})\b")


def customer_with_two_invoices(stack: LocalStack) -> dict[str, Any]:
    email = f"account-{uuid.uuid4().hex[:6]}@example.com"
    customer = stack.signed("POST", "/v1/customers", {"email": email, "name": "Sam Payer", "locale": "en-US"}).json()
    due = (wall_clock_now() + timedelta(days=20)).date().isoformat()
    for amount in (12_000, 3_450):
        body = {"customer_id": customer["id"], "number": f"ACC-{uuid.uuid4().hex[:6]}", "currency": "USD",
                "amount_due": amount, "due_date": due, "description": "Consulting"}  # fmt: skip
        created = stack.signed("POST", "/v1/invoices", body, {"Idempotency-Key": uuid.uuid4().hex})
        assert created.status_code == 201, created.text
    return dict(customer)


def codes_sent_to(stack: LocalStack, address: str) -> list[str]:
    """The codes emailed to `address`, oldest first (the outbox delivered first)."""
    stack.drain_outbox()
    emails = [e for e in stack.get("/_local/emails").json()["emails"] if e["to"] == [address]]
    return [m.group(1) for e in emails if (m := CODE.search(e["subject"]))]


def ask_for_code(page: Any, stack: LocalStack, address: str) -> None:
    page.goto(f"{stack.api_url}/account")
    page.get_by_label("Email address").fill(address)
    page.get_by_role("button", name="Email me a code").click()
    expect(page.get_by_label("Code")).to_be_visible()


def test_a_customer_signs_in_with_the_emailed_code_and_sees_the_statement(local_stack: LocalStack, phone: Any) -> None:
    customer = customer_with_two_invoices(local_stack)
    ask_for_code(phone, local_stack, customer["email"])
    (code,) = codes_sent_to(local_stack, customer["email"])
    phone.get_by_label("Code").fill(code)
    phone.get_by_role("button", name="Sign in").click()
    expect(phone.get_by_role("heading", name="Your statement")).to_be_visible()
    expect(phone.get_by_role("button", name="Pay", exact=True)).to_have_count(2)
    expect(phone.get_by_label("Promise to pay by")).to_have_count(2)
    expect(phone.get_by_text("$154.50").first).to_be_visible()
    # Both, picked on the statement, are paid in one Checkout
    expect(phone.get_by_role("heading", name="Pay several invoices at once")).to_be_visible()
    expect(phone.get_by_role("checkbox", checked=True)).to_have_count(2)
    phone.get_by_role("button", name="Pay the chosen invoices").click()
    expect(phone.get_by_text("$154.50").first).to_be_visible()  # Checkout asks for both at once
    phone.get_by_label("Card number").fill("4242 4242 4242 4242")
    phone.get_by_label("Expiry").fill("12 / 34")
    phone.get_by_label("CVC").fill("123")
    phone.get_by_role("button", name="Pay", exact=True).click()
    phone.wait_for_url(re.compile(r".*/pay/together/return/.*"))
    for _ in range(50):
        if "Payment received" in phone.content():
            break
        phone.wait_for_timeout(200)
        phone.reload()
    expect(phone.get_by_text("Payment received")).to_be_visible()
    # Back on the statement both are paid, and one receipt lists them both
    phone.goto(f"{local_stack.api_url}/account")
    expect(phone.get_by_role("button", name="Pay", exact=True)).to_have_count(0)
    expect(phone.get_by_text("No open invoices.")).to_be_visible()
    expect(phone.get_by_role("link", name="Receipt (PDF)")).to_have_count(2)
    local_stack.drain_outbox()
    emails = [e for e in local_stack.get("/_local/emails").json()["emails"] if e["to"] == [customer["email"]]]
    receipts = [e for e in emails if "Receipt" in e["subject"]]
    assert len(receipts) == 1 and "$154.50" in receipts[0]["text"], [e["subject"] for e in emails]
    # Sign-out ends it
    phone.goto(f"{local_stack.api_url}/account")
    phone.get_by_role("button", name="Sign out").click()
    expect(phone.get_by_label("Email address")).to_be_visible()


def test_five_wrong_codes_lock_the_code(local_stack: LocalStack, desk: Any) -> None:
    customer = customer_with_two_invoices(local_stack)
    ask_for_code(desk, local_stack, customer["email"])
    (code,) = codes_sent_to(local_stack, customer["email"])
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(5):
        desk.get_by_label("Code").fill(wrong)
        desk.get_by_role("button", name="Sign in").click()
    expect(desk.get_by_text("This code is locked after 5 wrong tries")).to_be_visible()
    desk.get_by_label("Code").fill(code)
    desk.get_by_role("button", name="Sign in").click()
    expect(desk.get_by_text("This code is locked after 5 wrong tries")).to_be_visible()


def test_turning_autopay_on_and_removing_a_card_ask_for_a_fresh_code(local_stack: LocalStack, desk: Any) -> None:
    customer = customer_with_two_invoices(local_stack)
    ask_for_code(desk, local_stack, customer["email"])
    (code,) = codes_sent_to(local_stack, customer["email"])
    desk.get_by_label("Code").fill(code)
    desk.get_by_role("button", name="Sign in").click()
    desk.get_by_role("button", name="Turn autopay on").click()
    # Inside the session, a fresh code is still asked for
    expect(desk.get_by_role("heading", name="Turn autopay on")).to_be_visible()
    fresh = codes_sent_to(local_stack, customer["email"])
    assert len(fresh) == 2  # the sign-in code, then the step-up code
    # The sign-in code does not do
    desk.get_by_label("Code").fill(code if code != fresh[1] else f"{(int(code) + 1) % 1_000_000:06d}")
    desk.get_by_role("button", name="Confirm").click()
    expect(desk.get_by_role("alert")).to_be_visible()
    desk.get_by_label("Code").fill(fresh[1])
    desk.get_by_role("button", name="Confirm").click()
    # On to Checkout in setup mode (the local Stripe's page): the card is saved, and back on the account
    desk.wait_for_url(re.compile(r"^(?!.*/account).*"))
    assert not desk.url.startswith(local_stack.api_url)
    desk.get_by_label("Card number").fill("4242 4242 4242 4242")
    desk.get_by_label("Expiry").fill("12 / 34")
    desk.get_by_label("CVC").fill("123")
    desk.get_by_role("button", name="Save card").click()
    desk.wait_for_url(re.compile(r".*/account\?autopay=on$"))
    expect(desk.get_by_text("Your card is saved")).to_be_visible()

    # Removing the saved card asks for a fresh code too (and, autopay's only card, it stays)
    desk.get_by_role("link", name="Your saved payment methods").click()
    expect(desk.get_by_role("heading", name="Visa card ending in 4242")).to_be_visible()
    desk.get_by_role("button", name="Remove").click()
    expect(desk.get_by_role("heading", name="Remove a payment method")).to_be_visible()
    third = codes_sent_to(local_stack, customer["email"])
    assert len(third) == 3
    desk.get_by_label("Code").fill(third[2])
    desk.get_by_role("button", name="Confirm").click()
    expect(desk.get_by_role("alert")).to_contain_text("only payment method autopay")
