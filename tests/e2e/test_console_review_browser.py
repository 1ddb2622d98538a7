"""The console's Review page in Chromium on the local stack: a payment's event arrives altered (marked live on
a test-mode stack) and is flagged; an admin opens Review, sees what did not match, and replays it: the console
fetches the event from the (local) Stripe again, as Stripe holds it, and applies it once. axe-core and the
keyboard check the page before and after."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import pytest
import requests
from playwright.sync_api import expect

from local.fake_stripe.signature import stripe_signature
from local.stack import LocalStack
from tests.e2e.axe import check_page
from tests.e2e.console_staff import signed_in_as_new
from tests.e2e.test_money_loop_http import eventually, invoice_state, new_invoice, pay_on_checkout

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def delivery(stack: LocalStack, enabled: bool) -> None:
    assert stack.post("/_local/stripe/delivery", json={"enabled": enabled}).status_code == 200


def paid_without_its_webhook(stack: LocalStack) -> tuple[dict[str, Any], dict[str, Any]]:
    """An invoice paid on Checkout while the local Stripe delivers nothing: (the invoice, Stripe's
    checkout.session.completed event as Stripe holds it)."""
    _, invoice = new_invoice(stack)
    delivery(stack, False)
    try:
        redirect = requests.post(f"{invoice['pay_url']}/checkout", allow_redirects=False, timeout=20)
        assert pay_on_checkout(redirect.headers["Location"], "4242 4242 4242 4242").status_code == 303
        front = requests.get(f"{stack.stripe_url}/_front/events", timeout=10).json()["data"]
    finally:
        delivery(stack, True)  # events made meanwhile are never sent; the next ones are
    [event] = [
        e["event"] for e in front
        if e["type"] == "checkout.session.completed"
        and e["event"]["data"]["object"]["metadata"].get("invoice_id") == invoice["id"]
    ]  # fmt: skip
    return invoice, event


def deliver_altered(stack: LocalStack, event: dict[str, Any]) -> dict[str, Any]:
    """The event as it should never arrive (marked live-mode), signed with the stack's webhook secret."""
    body = json.dumps(event | {"livemode": True}).encode()
    signature = stripe_signature(body, stack.config.stripe_webhook_secret, int(time.time()))
    reply = requests.post(f"{stack.api_url}/webhooks/stripe", data=body, timeout=20,
                          headers={"Content-Type": "application/json", "Stripe-Signature": signature})  # fmt: skip
    assert reply.status_code == 200, reply.text
    return dict(reply.json())


def test_an_admin_opens_review_and_replays_a_flagged_event(local_stack: LocalStack, desk: Any) -> None:
    invoice, event = paid_without_its_webhook(local_stack)
    assert deliver_altered(local_stack, event)["outcome"] == "flagged"
    assert invoice_state(local_stack, invoice["id"])["status"] == "open"  # flagged: nothing moved

    signed_in_as_new(desk, local_stack, "admin")
    desk.get_by_role("navigation", name="Console").get_by_role("link", name="Review").click()
    desk.wait_for_url(re.compile(r".*/console/review$"))
    flagged = desk.locator("section", has=desk.get_by_role("heading", name="Flagged for review"))
    row = flagged.get_by_role("row", name=re.compile(event["id"]))
    expect(row).to_contain_text("a live-mode event on a test-mode stack")
    check_page(desk, "console Review, an event flagged")

    row.get_by_role("button", name=f"Replay {event['id']}").click()

    desk.wait_for_url(re.compile(rf".*/console/review\?replayed={event['id']}&outcome=applied$"))
    expect(desk.get_by_role("status")).to_contain_text("applied. Kept now as applied")
    expect(desk.get_by_role("heading", name=f"Replayed {event['id']}")).to_be_visible()
    assert flagged.get_by_role("row", name=re.compile(event["id"])).count() == 0
    check_page(desk, "console Review, after a replay")
    state = eventually(lambda: (s := invoice_state(local_stack, invoice["id"]))["status"] == "paid" and s)
    assert state and state["amount_paid"] == 12_500 and len(state["payments"]) == 1
    kept = local_stack.signed("GET", f"/v1/stripe-events/{event['id']}").json()
    assert kept["outcome"] == "applied"
