"""Retention on the local stack: an invoice paid by cheque, the business clock past its retention, the retention
schedule fired through /_local: the customer is pseudonymised, once."""

from __future__ import annotations

import uuid

import pytest

from local.stack import LocalStack

pytestmark = pytest.mark.e2e


def test_firing_the_retention_schedule_pseudonymises_a_customer_whose_records_expired(local_stack: LocalStack) -> None:
    # Given a customer whose only invoice is paid
    email = f"r-{uuid.uuid4().hex[:6]}@example.com"
    customer = local_stack.signed(
        "POST", "/v1/customers", {"email": email, "name": "Rhoda Retained", "timezone": "UTC", "locale": "en-GB"}
    ).json()
    invoice = local_stack.signed(
        "POST",
        "/v1/invoices",
        {"customer_id": customer["id"], "number": f"R-{uuid.uuid4().hex[:6]}", "currency": "EUR", "amount_due": 4_200,
         "due_date": "2031-06-01"},
        {"Idempotency-Key": uuid.uuid4().hex},
    ).json()  # fmt: skip
    paid = local_stack.signed(
        "POST",
        f"/v1/invoices/{invoice['id']}/payments",
        {"amount": 4_200, "method": "check", "reference": "77", "received_on": "2026-12-01"},
        {"Idempotency-Key": uuid.uuid4().hex},
    )
    assert paid.status_code == 201, paid.text

    # When the business clock is past ten years from now and the retention schedule fires, twice
    assert local_stack.post("/_local/clock", json={"now": "2038-01-01T03:30:00+00:00"}).status_code == 200
    fired = local_stack.post("/_local/schedules/retention/run")
    again = local_stack.post("/_local/schedules/retention/run")

    # Then the customer is pseudonymised by the first run only
    assert fired.status_code == 200, fired.text
    assert fired.json()["result"]["erased"] >= 1 and again.json()["result"]["erased"] == 0
    stored = local_stack.signed("GET", f"/v1/customers/{customer['id']}").json()
    assert stored["email"] != email and stored["name"] != "Rhoda Retained"
