"""The morning digest on the local stack: fire its schedule, read the email at the local emails route."""

from __future__ import annotations

import uuid

import pytest

from local.stack import LocalStack

pytestmark = pytest.mark.e2e


def test_firing_the_digest_schedule_emails_the_operator_once_a_day(local_stack: LocalStack) -> None:
    # Given an overdue invoice
    customer = local_stack.signed(
        "POST", "/v1/customers", {"email": f"d-{uuid.uuid4().hex[:6]}@example.com", "name": "Dee",
                                  "timezone": "UTC", "locale": "en-GB"}
    ).json()  # fmt: skip
    local_stack.signed(
        "POST",
        "/v1/invoices",
        {"customer_id": customer["id"], "number": f"D-{uuid.uuid4().hex[:6]}", "currency": "GBP", "amount_due": 4_200,
         "due_date": "2031-06-01"},
        {"Idempotency-Key": uuid.uuid4().hex},
    ).json()  # fmt: skip
    assert local_stack.post("/_local/clock", json={"now": "2031-06-10T07:00:00+00:00"}).status_code == 200
    # When the digest schedule fires, twice
    fired = local_stack.post("/_local/schedules/digest/run")
    again = local_stack.post("/_local/schedules/digest/run")
    assert fired.status_code == 200, fired.text
    assert (fired.json()["result"]["queued"], again.json()["result"]["reason"]) == (True, "already_sent")
    local_stack.drain_outbox()
    # Then the operator's address got one digest for that day, naming what is owed
    mine = [e for e in local_stack.get("/_local/emails").json()["emails"] if e["to"] == ["finance@payportal.local"]]
    assert [e["subject"] for e in mine] == ["Payportal Local receivables, June 10, 2031"]
    assert "GBP: £" in mine[0]["text"] and "overdue" in mine[0]["text"]
