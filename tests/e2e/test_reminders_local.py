"""Dunning on the local stack: move the clock, fire the schedule, read the email."""

from __future__ import annotations

import uuid

import pytest

from local.stack import LocalStack

pytestmark = pytest.mark.e2e


def test_moving_the_clock_and_firing_the_schedule_sends_the_reminder(local_stack: LocalStack) -> None:
    email = f"late-{uuid.uuid4().hex[:6]}@example.com"
    customer = local_stack.signed(
        "POST", "/v1/customers", {"email": email, "name": "Lee", "timezone": "Europe/Berlin", "locale": "de-DE"}
    ).json()
    invoice = local_stack.signed(
        "POST",
        "/v1/invoices",
        {"customer_id": customer["id"], "number": f"R-{uuid.uuid4().hex[:6]}", "currency": "EUR", "amount_due": 9_900,
         "due_date": "2031-05-20"},
        {"Idempotency-Key": uuid.uuid4().hex},
    ).json()  # fmt: skip
    # Three days after the due date, 10:00 in Berlin
    assert local_stack.post("/_local/clock", json={"now": "2031-05-23T10:00:00+02:00"}).status_code == 200
    fired = local_stack.post("/_local/schedules/reminders/run")
    assert fired.status_code == 200, fired.text
    local_stack.drain_outbox()
    mine = [e for e in local_stack.get("/_local/emails").json()["emails"] if e["to"] == [email]]
    assert len(mine) == 1
    assert invoice["number"] in mine[0]["subject"] and "überfällig" in mine[0]["subject"]  # the customer is German
    assert "99,00" in mine[0]["subject"]
    # Firing again at the same instant sends nothing more
    local_stack.post("/_local/schedules/reminders/run")
    local_stack.drain_outbox()
    assert len([e for e in local_stack.get("/_local/emails").json()["emails"] if e["to"] == [email]]) == 1


@pytest.mark.parametrize(
    ("address", "reason"),
    [("bounce@simulator.amazonses.com", "bounce"), ("complaint@simulator.amazonses.com", "complaint")],
)
def test_an_address_ses_reports_undeliverable_gets_no_more_email(
    local_stack: LocalStack, address: str, reason: str
) -> None:
    customer = local_stack.signed(
        "POST", "/v1/customers", {"email": address, "name": "Sim", "timezone": "UTC", "locale": "en-GB"}
    ).json()
    invoice = local_stack.signed(
        "POST",
        "/v1/invoices",
        {"customer_id": customer["id"], "number": f"S-{uuid.uuid4().hex[:6]}", "currency": "GBP", "amount_due": 5_000,
         "due_date": "2031-06-10", "notify": True},
        {"Idempotency-Key": uuid.uuid4().hex},
    ).json()  # fmt: skip
    local_stack.drain_outbox()  # the invoice email goes out; SES's simulator answers through the config set
    marked = local_stack.signed("GET", f"/v1/customers/{customer['id']}").json()
    assert marked["email_undeliverable"]["reason"] == reason
    local_stack.drain_outbox()
    announced = [
        e for e in local_stack.get("/_local/events").json()["events"]
        if e["detail-type"] == "customer.email_undeliverable" and e["detail"]["customer_id"] == customer["id"]
    ]  # fmt: skip
    assert len(announced) == 1

    def sent_to_customer() -> int:
        return sum(1 for e in local_stack.get("/_local/emails").json()["emails"] if invoice["number"] in e["subject"])

    before = sent_to_customer()
    assert local_stack.post("/_local/clock", json={"now": "2031-06-13T10:00:00+00:00"}).status_code == 200
    assert local_stack.post("/_local/schedules/reminders/run").json()["result"]["withheld"] >= 1
    local_stack.drain_outbox()
    assert sent_to_customer() == before


def test_firing_the_schedule_also_runs_the_continuations_left_on_its_queue(local_stack: LocalStack) -> None:
    from local.aws import client

    assert local_stack.resources is not None
    sqs = client("sqs", local_stack.moto_url)
    # What a run out of time leaves behind: one shard to go on with
    sqs.send_message(QueueUrl=local_stack.resources.reminders_queue_url, MessageBody='{"shards": [[3, null]]}')
    fired = local_stack.post("/_local/schedules/reminders/run")
    assert fired.status_code == 200, fired.text
    assert fired.json()["continuations"] == 1
    left = sqs.receive_message(QueueUrl=local_stack.resources.reminders_queue_url).get("Messages", [])
    assert left == []
