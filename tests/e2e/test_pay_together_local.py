"""One reminder email per customer, paid together, on the local stack: a customer with two overdue invoices gets
ONE reminder email; its pay-together link pays both in one Checkout; both invoices are paid; one receipt lists
both."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
import requests

from local.stack import LocalStack
from tests.e2e.test_money_loop_http import eventually, invoice_state, pay_on_checkout

pytestmark = pytest.mark.e2e


def mine(stack: LocalStack, address: str) -> list[dict[str, Any]]:
    stack.drain_outbox()
    return [e for e in stack.get("/_local/emails").json()["emails"] if e["to"] == [address]]


def test_two_overdue_invoices_one_email_one_checkout_one_receipt(local_stack: LocalStack) -> None:
    address = f"together-{uuid.uuid4().hex[:6]}@example.com"
    customer = local_stack.signed(
        "POST", "/v1/customers", {"email": address, "name": "Toni", "timezone": "UTC", "locale": "en-US"}
    ).json()
    invoices = []
    for amount in (12_500, 7_500):
        created = local_stack.signed(
            "POST",
            "/v1/invoices",
            {"customer_id": customer["id"], "number": f"T-{uuid.uuid4().hex[:6]}", "currency": "USD",
             "amount_due": amount, "due_date": "2032-04-10"},
            {"Idempotency-Key": uuid.uuid4().hex},
        )  # fmt: skip
        assert created.status_code == 201, created.text
        invoices.append(created.json())

    # Seven days overdue, 10:00 in the customer's zone: the dunning run fires
    assert local_stack.post("/_local/clock", json={"now": "2032-04-17T10:00:00+00:00"}).status_code == 200
    fired = local_stack.post("/_local/schedules/reminders/run")
    assert fired.status_code == 200, fired.text

    # Then ONE reminder email lists both, with each one's link and one to pay them together
    [reminder] = mine(local_stack, address)
    assert all(i["number"] in reminder["text"] for i in invoices)
    together = re.findall(r"(https?://\S+/pay/together/[A-Za-z0-9_-]+)", reminder["text"])
    assert len(together) == 1 and "$200.00" in reminder["text"]

    # When the customer opens it and pays both in one Checkout
    page = requests.get(together[0], timeout=10)
    assert page.status_code == 200 and "$200.00" in page.text and "<script" not in page.text
    redirect = requests.post(f"{together[0]}/checkout", allow_redirects=False, timeout=20)
    assert redirect.status_code == 303, redirect.text
    paid = pay_on_checkout(redirect.headers["Location"], "4242 4242 4242 4242")
    assert paid.status_code == 303 and "/pay/together/return/cmb_" in paid.headers["Location"]

    # Then both invoices are paid, each its own amount, once
    for invoice in invoices:
        state = eventually(lambda i=invoice: (s := invoice_state(local_stack, i["id"]))["status"] == "paid" and s)
        assert state and state["amount_paid"] == invoice["amount_due"]
    assert "Payment received" in requests.get(paid.headers["Location"], timeout=10).text

    # And one receipt lists both
    receipts = [e for e in mine(local_stack, address) if "Receipt" in e["subject"]]
    assert len(receipts) == 1
    assert all(i["number"] in receipts[0]["text"] for i in invoices) and "$200.00" in receipts[0]["text"]

    # When the operator refunds 25.00 of the second invoice's share (on the one PaymentIntent)
    query = f"customer_id={customer['id']}&until=2033-01-01T00:00:00Z"  # the business clock is in 2032
    listed = local_stack.signed("GET", f"/v1/payments?{query}").json()["payments"]
    shares = {p["invoice_id"]: p for p in listed}
    assert len(shares) == 2, listed
    assert {shares[i["id"]]["amount"] for i in invoices} == {12_500, 7_500}
    second = shares[invoices[1]["id"]]
    too_much = local_stack.signed(
        "POST", f"/v1/payments/{second['id']}/refunds", {"amount": 7_501}, {"Idempotency-Key": uuid.uuid4().hex}
    )
    assert too_much.status_code == 422, too_much.text  # never beyond the share
    refunded = local_stack.signed(
        "POST", f"/v1/payments/{second['id']}/refunds", {"amount": 2_500}, {"Idempotency-Key": uuid.uuid4().hex}
    )
    assert refunded.status_code in (200, 201), refunded.text
    refund_id = refunded.json()["refund"]["id"]

    # Then only that invoice shows it, and Stripe's refund events that follow change nothing more
    assert eventually(lambda: invoice_state(local_stack, invoices[1]["id"])["amount_refunded"] == 2_500)
    assert invoice_state(local_stack, invoices[0]["id"])["amount_refunded"] == 0
    flagged = local_stack.signed("GET", "/v1/stripe-events?outcome=flagged")
    assert flagged.status_code == 200, flagged.text
    rows = next(v for v in flagged.json().values() if isinstance(v, list))
    assert not [e for e in rows if str(e.get("type")).startswith(("refund.", "charge.refunded"))], rows

    def kept() -> list[dict[str, Any]]:
        rows = next(v for v in local_stack.signed("GET", "/v1/stripe-events").json().values() if isinstance(v, list))
        return [e for e in rows if e.get("object_id") == refund_id]

    seen = eventually(kept)
    assert seen and {e["outcome"] for e in seen} <= {"applied", "no_change"}, seen  # to the share, not ignored
