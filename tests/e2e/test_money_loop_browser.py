"""The money loop as a customer lives it, in headless Chromium (Debian's) driven by Playwright:
open the pay link, pay with the test card, see the paid state."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlsplit

import pytest

from local.stack import LocalStack

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def test_a_customer_pays_an_invoice_on_a_phone(local_stack: LocalStack, phone: Any) -> None:
    customer = local_stack.signed(
        "POST",
        "/v1/customers",
        {"email": f"phone-{uuid.uuid4().hex[:6]}@example.com", "name": "Robin", "locale": "en-US"},
    ).json()
    invoice = local_stack.signed(
        "POST",
        "/v1/invoices",
        {
            "customer_id": customer["id"],
            "number": f"INV-PHONE-{uuid.uuid4().hex[:6]}",
            "currency": "USD",
            "amount_due": 4_999,
            "due_date": "2026-12-20",
            "description": "Gym membership, December",
        },
        {"Idempotency-Key": uuid.uuid4().hex},
    ).json()

    # The customer opens the pay link: they see what they owe and a Pay button
    phone.goto(invoice["pay_url"])
    assert phone.get_by_text("$49.99").is_visible()
    assert phone.get_by_text("Gym membership, December").is_visible()
    phone.get_by_role("button", name="Pay", exact=True).click()

    # On Checkout they enter the test card
    phone.get_by_label("Card number").fill("4242 4242 4242 4242")
    phone.get_by_label("Expiry").fill("12 / 34")
    phone.get_by_label("CVC").fill("123")
    phone.get_by_role("button", name="Pay", exact=True).click()

    # Back on payportal: processing or received, then (once the webhook landed) received
    base = invoice["pay_url"].rsplit("/pay/", 1)[0]
    phone.wait_for_url(f"{base}/pay/return/{invoice['id']}/*")  # the return URL carries no pay link
    for _ in range(50):
        if "Payment received" in phone.content():
            break
        phone.wait_for_timeout(200)
        phone.reload()
    assert phone.get_by_text("Payment received").is_visible()
    # This browser came from the link, so the page leads back to it (the link is in a cookie, not the URL)
    assert (
        phone.get_by_role("link", name="Back to the invoice").get_attribute("href") == urlsplit(invoice["pay_url"]).path
    )

    # And the pay link now says the invoice is paid
    phone.goto(invoice["pay_url"])
    assert phone.get_by_text("This invoice is paid").is_visible()
    assert local_stack.signed("GET", f"/v1/invoices/{invoice['id']}").json()["status"] == "paid"
