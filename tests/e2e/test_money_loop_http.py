"""The money loop over HTTP against the whole local stack: operator API -> pay page -> Checkout ->
webhook -> ledger -> receipt, with the same handler code as in AWS."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import requests

from local.stack import LocalStack
from tests.pdf_text import pdf_text

pytestmark = pytest.mark.e2e


def eventually(check: Callable[[], Any], timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.2)


def new_invoice(stack: LocalStack, **overrides: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    customer = stack.signed(
        "POST",
        "/v1/customers",
        {"email": f"payer-{uuid.uuid4().hex[:6]}@example.com", "name": "Sam Payer", "locale": "en-US"},
    )
    assert customer.status_code == 201, customer.text
    body = {
        "customer_id": customer.json()["id"],
        "number": f"INV-E2E-{uuid.uuid4().hex[:6]}",
        "currency": "USD",
        "amount_due": 12_500,
        "due_date": "2026-12-31",
        "description": "Annual support",
    } | overrides
    invoice = stack.signed("POST", "/v1/invoices", body, {"Idempotency-Key": uuid.uuid4().hex})
    assert invoice.status_code == 201, invoice.text
    return customer.json(), invoice.json()


def pay_on_checkout(checkout_url: str, card: str) -> requests.Response:
    """What the customer does on the (local) Stripe Checkout page."""
    page = requests.get(checkout_url, timeout=10)
    action = re.search(r'<form method="post" action="([^"]+)"', page.text)
    assert action, page.text
    target = requests.compat.urljoin(checkout_url, action.group(1))
    return requests.post(
        target, data={"card_number": card, "expiry": "12 / 34", "cvc": "123"}, allow_redirects=False, timeout=20
    )


def invoice_state(stack: LocalStack, invoice_id: str) -> dict[str, Any]:
    response = stack.signed("GET", f"/v1/invoices/{invoice_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_an_invoice_is_paid_through_checkout_recorded_once_and_receipted(local_stack: LocalStack) -> None:
    customer, invoice = new_invoice(local_stack, allow_partial=True, min_partial_amount=1_000)
    # The customer opens the link and pays part of it
    page = requests.get(invoice["pay_url"], timeout=10)
    assert page.status_code == 200 and "$125.00" in page.text
    redirect = requests.post(
        f"{invoice['pay_url']}/checkout", data={"amount": "50.00"}, allow_redirects=False, timeout=20
    )
    assert redirect.status_code == 303, redirect.text
    paid = pay_on_checkout(redirect.headers["Location"], "4242 4242 4242 4242")
    assert paid.status_code == 303
    base = invoice["pay_url"].rsplit("/pay/", 1)[0]
    assert paid.headers["Location"].startswith(f"{base}/pay/return/{invoice['id']}/chk_")  # no pay link in it
    assert "?session_id=cs_" in paid.headers["Location"]
    # Stripe's webhook lands; the invoice is partially paid, once
    state = eventually(lambda: (s := invoice_state(local_stack, invoice["id"]))["amount_paid"] and s)
    assert (state["status"], state["amount_paid"], state["amount_remaining"]) == ("partially_paid", 5_000, 7_500)
    returned = requests.get(paid.headers["Location"], timeout=10)
    assert "Payment received" in returned.text
    # The receipt and events go out
    local_stack.drain_outbox()
    emails = local_stack.get("/_local/emails").json()["emails"]
    receipts = [e for e in emails if e["to"] == [customer["email"]]]
    assert len(receipts) == 1 and "Receipt" in receipts[0]["subject"] and "$50.00" in receipts[0]["text"]
    # It says how the customer paid, as Stripe told the outbox when it was sent
    assert "Payment method: Visa ending in 4242" in receipts[0]["text"]
    types = [e["detail-type"] for e in local_stack.get("/_local/events").json()["events"]]
    assert {"payment.succeeded", "invoice.partially_paid"} <= set(types)
    # Stripe delivers the same event again: nothing changes
    front = requests.get(f"{local_stack.stripe_url}/_front/events", timeout=10).json()["data"]
    [completed] = [
        e
        for e in front
        if e["type"] == "checkout.session.completed"
        and e["event"]["data"]["object"]["metadata"].get("invoice_id") == invoice["id"]
    ]
    resent = requests.post(f"{local_stack.stripe_url}/_front/events/{completed['id']}/resend", timeout=10).json()

    def redelivered() -> bool:
        events = requests.get(f"{local_stack.stripe_url}/_front/events", timeout=10).json()["data"]
        again = next(e for e in events if e["id"] == completed["id"])
        return bool(
            again["attempts"] > resent["attempts"] - 1 and again["last_status_code"] == 200 and not again["delivering"]
        )

    assert eventually(redelivered)
    assert invoice_state(local_stack, invoice["id"])["amount_paid"] == 5_000
    local_stack.drain_outbox()
    emails = local_stack.get("/_local/emails").json()["emails"]
    assert len([e for e in emails if "Receipt" in e["subject"] and customer["email"] in str(e["to"])]) == 1
    # The invoice and the receipt come as PDFs through the pay link, as bytes a browser saves
    payment_id = re.search(r"Payment reference: (pi_\w+)", receipts[0]["text"])
    assert payment_id, receipts[0]["text"]
    for path, words in (
        ("invoice.pdf", [invoice["number"], "Annual support", "$75.00"]),
        (f"receipts/{payment_id.group(1)}", ["Receipt", "$50.00", "Visa ending in 4242", "Payportal Local"]),
    ):
        document = requests.get(f"{invoice['pay_url']}/{path}", headers={"Accept": "text/html,*/*"}, timeout=20)
        assert document.status_code == 200 and document.headers["Content-Type"] == "application/pdf"
        text = pdf_text(document.content)
        assert all(word in text for word in words), text


def test_a_declined_card_moves_no_money(local_stack: LocalStack) -> None:
    _, invoice = new_invoice(local_stack)
    redirect = requests.post(f"{invoice['pay_url']}/checkout", allow_redirects=False, timeout=20)
    declined = pay_on_checkout(redirect.headers["Location"], "4000 0000 0000 0002")
    assert declined.status_code in (200, 402) and "declined" in declined.text
    failed = eventually(lambda: invoice_state(local_stack, invoice["id"])["payments"])
    assert [p["status"] for p in failed] == ["failed"]
    assert invoice_state(local_stack, invoice["id"])["status"] == "open"


def test_operator_routes_refuse_unsigned_or_wrongly_signed_requests(local_stack: LocalStack) -> None:
    unsigned = local_stack.post("/v1/customers", json={"email": "x@example.com", "name": "X"})
    assert unsigned.status_code == 403
    from local import sigv4

    wrong = sigv4.signed_request(
        "POST",
        f"{local_stack.api_url}/v1/customers",
        {"email": "x@example.com", "name": "X"},
        secret_key="not-the-secret",
    )
    assert wrong.status_code == 403


def test_health_answers(local_stack: LocalStack) -> None:
    assert local_stack.get("/health").json() == {"status": "ok"}


def test_the_open_balance_job_counts_a_new_invoice_and_forgets_it_once_paid(local_stack: LocalStack) -> None:
    def open_chf() -> dict[str, int]:
        fired = local_stack.post("/_local/schedules/balances/run")
        assert fired.status_code == 200, fired.text
        return dict(fired.json()["result"]["balances"].get("CHF", {"open_balance": 0, "open_invoices": 0}))

    before = open_chf()
    _, invoice = new_invoice(local_stack, currency="CHF", amount_due=4_200)
    assert open_chf() == {
        "open_balance": before["open_balance"] + 4_200, "open_invoices": before["open_invoices"] + 1,
    }  # fmt: skip

    redirect = requests.post(f"{invoice['pay_url']}/checkout", allow_redirects=False, timeout=20)
    assert pay_on_checkout(redirect.headers["Location"], "4242424242424242").status_code in (302, 303)
    assert eventually(lambda: open_chf() == before)
