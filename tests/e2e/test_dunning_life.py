"""One invoice's whole dunning life on the local stack, driven by the business clock: upcoming, due today,
overdue with a late fee, a promise to pay, dunning resuming when the promise is broken, and payment ending it.

The due date falls just after New York leaves daylight saving time (2031-11-02), so the 09:00 sending window
is checked on both sides of the change.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests

from local.stack import LocalStack
from tests.e2e.test_money_loop_http import eventually, invoice_state, pay_on_checkout

pytestmark = pytest.mark.e2e

NEW_YORK = ZoneInfo("America/New_York")
DUE = date(2031, 11, 5)
AMOUNT = 12_500
LATE_FEE = 1_500
# The default steps and window, with a late fee on the first overdue step.
POLICY_WITH_LATE_FEE = {
    "steps": [
        {"offset_days": -7, "template": "upcoming"},
        {"offset_days": 0, "template": "due_today"},
        {"offset_days": 3, "template": "overdue", "late_fee": {"fixed": LATE_FEE}},
        {"offset_days": 7, "template": "overdue"},
        {"offset_days": 14, "template": "overdue"},
        {"offset_days": 30, "template": "final_notice"},
    ],
    "window_start": "09:00:00",
    "window_end": "18:00:00",
}


@pytest.fixture
def late_fee_policy(local_stack: LocalStack) -> Iterator[None]:
    """The late-fee policy for this test only: the policy is global, so put the original back afterwards."""
    original = local_stack.signed("GET", "/v1/dunning-policy")
    assert original.status_code == 200, original.text
    replaced = local_stack.signed("PUT", "/v1/dunning-policy", POLICY_WITH_LATE_FEE)
    assert replaced.status_code == 200, replaced.text
    try:
        yield
    finally:
        restored = local_stack.signed("PUT", "/v1/dunning-policy", original.json())
        assert restored.status_code == 200, restored.text


def new_york(offset_days: int, at: str) -> datetime:
    """A wall-clock time in New York, `offset_days` from the due date."""
    return datetime.combine(DUE + timedelta(days=offset_days), time.fromisoformat(at), tzinfo=NEW_YORK)


def fire_reminders_at(stack: LocalStack, moment: datetime) -> None:
    """Move the business clock, run the hourly dunning schedule once, and deliver what it queued."""
    moved = stack.post("/_local/clock", json={"now": moment.isoformat()})
    assert moved.status_code == 200, moved.text
    fired = stack.post("/_local/schedules/reminders/run")
    assert fired.status_code == 200, fired.text
    stack.drain_outbox()


def emails_to(stack: LocalStack, address: str) -> list[dict[str, Any]]:
    return [e for e in stack.get("/_local/emails").json()["emails"] if e["to"] == [address]]


def events_of(stack: LocalStack, invoice_id: str, detail_type: str) -> list[dict[str, Any]]:
    return [
        e["detail"]
        for e in stack.get("/_local/events").json()["events"]
        if e.get("detail-type") == detail_type and e["detail"].get("invoice_id") == invoice_id
    ]


def pay_link_in(email: dict[str, Any]) -> str:
    found = re.search(r"https?://\S+/pay/[\w-]+", email["text"])
    assert found, email["text"]
    return found.group(0)


def new_customer_and_invoice(stack: LocalStack) -> tuple[str, str]:
    """A New York customer and an invoice due on DUE; returns (email, invoice id)."""
    email = f"dunning-{uuid.uuid4().hex[:8]}@example.com"
    customer = stack.signed(
        "POST",
        "/v1/customers",
        {"email": email, "name": "Pat Late", "timezone": "America/New_York", "locale": "en-US"},
    )
    assert customer.status_code == 201, customer.text
    invoice = stack.signed(
        "POST",
        "/v1/invoices",
        {
            "customer_id": customer.json()["id"],
            "number": f"DUN-{uuid.uuid4().hex[:8]}",
            "currency": "USD",
            "amount_due": AMOUNT,
            "due_date": DUE.isoformat(),
            "description": "Winter maintenance",
        },
        {"Idempotency-Key": uuid.uuid4().hex},
    )
    assert invoice.status_code == 201, invoice.text
    return email, invoice.json()["id"]


@pytest.mark.usefixtures("late_fee_policy")
def test_an_invoice_lives_through_dunning_until_it_is_paid(local_stack: LocalStack) -> None:
    # Given a customer in New York with an invoice due on 5 November 2031
    email, invoice_id = new_customer_and_invoice(local_stack)
    first_look = datetime.fromisoformat(invoice_state(local_stack, invoice_id)["next_reminder_at"])
    assert first_look == new_york(-7, "09:00")
    assert new_york(-7, "09:05").utcoffset() == timedelta(hours=-4)  # daylight saving time
    assert new_york(0, "09:05").utcoffset() == timedelta(hours=-5)  # standard time

    # A week before: nothing before the window opens at 09:00 New York time, then one reminder, once
    fire_reminders_at(local_stack, new_york(-7, "08:30"))
    assert emails_to(local_stack, email) == []
    fire_reminders_at(local_stack, new_york(-7, "09:05"))
    fire_reminders_at(local_stack, new_york(-7, "09:05"))
    [upcoming] = emails_to(local_stack, email)
    assert upcoming["subject"].startswith("Reminder:") and "$125.00" in upcoming["subject"]

    # On the due date, after the clocks went back: 08:55 EST (13:55 UTC, 09:55 EDT) is still too early
    fire_reminders_at(local_stack, new_york(0, "08:55"))
    assert len(emails_to(local_stack, email)) == 1
    fire_reminders_at(local_stack, new_york(0, "09:05"))
    mine = emails_to(local_stack, email)
    assert len(mine) == 2 and "is due today: $125.00" in mine[-1]["subject"]

    # Three days late: the overdue reminder adds the late fee once, as its own line
    fire_reminders_at(local_stack, new_york(3, "10:00"))
    mine = emails_to(local_stack, email)
    assert len(mine) == 3
    overdue = mine[-1]
    assert "is overdue: $140.00" in overdue["subject"]
    assert "Late fee: $15.00" in overdue["text"]
    assert "Late fee</td><td>$15.00" in overdue["html"]
    state = invoice_state(local_stack, invoice_id)
    assert state["late_fees"] == [{"step": "+3:overdue", "amount": LATE_FEE}]
    assert (state["amount_original"], state["amount_due"], state["amount_remaining"]) == (AMOUNT, 14_000, 14_000)
    sent_steps = [e["step"] for e in events_of(local_stack, invoice_id, "invoice.reminder_sent")]
    assert sent_steps == ["-7:upcoming", "+0:due_today", "+3:overdue"]
    assert len(events_of(local_stack, invoice_id, "invoice.overdue")) == 1
    pay_url = pay_link_in(overdue)
    pay_page = requests.get(pay_url, timeout=10)
    assert pay_page.status_code == 200, pay_page.text
    assert "Late fee" in pay_page.text and "$15.00" in pay_page.text and "$140.00" in pay_page.text

    # The customer promises to pay by the 15th: the operator hears of it and reminders pause
    promised = requests.post(f"{pay_url}/promise", data={"date": "2031-11-15"}, allow_redirects=False, timeout=10)
    assert promised.status_code == 303, promised.text
    assert promised.headers["Location"].endswith("?promised=2031-11-15")
    local_stack.drain_outbox()
    [promise] = events_of(local_stack, invoice_id, "invoice.promise_to_pay")
    assert promise["promised_date"] == "2031-11-15"
    fire_reminders_at(local_stack, new_york(7, "10:00"))
    assert len(emails_to(local_stack, email)) == 3

    # The 15th passes unpaid: dunning resumes with the latest step (+7), and the fee is not charged again
    fire_reminders_at(local_stack, new_york(11, "10:00"))
    mine = emails_to(local_stack, email)
    assert len(mine) == 4 and "is overdue: $140.00" in mine[-1]["subject"]
    sent_steps = [e["step"] for e in events_of(local_stack, invoice_id, "invoice.reminder_sent")]
    assert sent_steps == ["-7:upcoming", "+0:due_today", "+3:overdue", "+7:overdue"]
    assert len(events_of(local_stack, invoice_id, "invoice.overdue")) == 1
    state = invoice_state(local_stack, invoice_id)
    assert (len(state["late_fees"]), state["amount_due"], state["hold"]) == (1, 14_000, None)

    # The customer pays everything through Checkout
    redirect = requests.post(f"{pay_link_in(mine[-1])}/checkout", allow_redirects=False, timeout=20)
    assert redirect.status_code == 303, redirect.text
    assert pay_on_checkout(redirect.headers["Location"], "4242424242424242").status_code == 303
    paid = eventually(lambda: (s := invoice_state(local_stack, invoice_id))["status"] == "paid" and s)
    assert paid and (paid["amount_paid"], paid["amount_remaining"]) == (14_000, 0)

    # Then no more reminders, at +14 or +30: only the receipt arrives
    fire_reminders_at(local_stack, new_york(14, "10:00"))
    fire_reminders_at(local_stack, new_york(30, "10:00"))
    mine = emails_to(local_stack, email)
    assert len(mine) == 5 and mine[-1]["subject"].startswith("Receipt: $140.00")
    assert len(events_of(local_stack, invoice_id, "invoice.reminder_sent")) == 4
    assert invoice_state(local_stack, invoice_id)["status"] == "paid"
