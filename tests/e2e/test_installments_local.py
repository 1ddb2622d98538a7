"""Installment plans on the whole local stack, by moving the clock: the pay page, Checkout saving the card,
off-session charges from the charge schedule, Stripe's webhooks, retries and a card update."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import requests

from local.stack import LocalStack
from tests.e2e.test_money_loop_http import eventually as _eventually
from tests.e2e.test_money_loop_http import invoice_state, pay_on_checkout

pytestmark = pytest.mark.e2e


def eventually(check: Any, timeout: float = 60.0) -> Any:
    """Webhooks and the outbox run in background threads: under a loaded machine they take a while."""
    return _eventually(check, timeout)


GOOD, CHARGE_FAILS = "4242424242424242", "4000000000000341"  # 0341: saves fine, every charge is declined
# 10:00 in New York on each installment's date: January 31, then February 28 and March 31, 2027
CHOSEN, SECOND, THIRD = "2027-01-31T12:00:00-05:00", "2027-02-28T10:00:00-05:00", "2027-03-31T10:00:00-04:00"


def plan_invoice(stack: LocalStack) -> tuple[dict[str, Any], str]:
    """An invoice of $100 offering monthly plans of up to 3 installments; returns it and its pay page URL."""
    assert stack.post("/_local/clock", json={"now": CHOSEN}).status_code == 200
    customer = stack.signed(
        "POST",
        "/v1/customers",
        {"email": f"plan-{uuid.uuid4().hex[:6]}@example.com", "name": "Ines", "timezone": "America/New_York"},
    ).json()
    body = {
        "customer_id": customer["id"], "number": f"PLAN-{uuid.uuid4().hex[:6]}", "currency": "USD",
        "amount_due": 10_000, "due_date": "2027-02-15",
        "installments": {"max_installments": 3, "min_installment_amount": 2_000, "frequencies": ["monthly"]},
    }  # fmt: skip
    invoice = stack.signed("POST", "/v1/invoices", body, {"Idempotency-Key": uuid.uuid4().hex})
    assert invoice.status_code == 201, invoice.text
    return invoice.json(), invoice.json()["pay_url"]


def post_form(url: str, data: dict[str, str] | None = None) -> str:
    """Submit a pay-page form; returns where it redirects (Checkout)."""
    response = requests.post(url, data=data or {}, allow_redirects=False, timeout=20)
    assert response.status_code == 303, response.text
    return str(response.headers["Location"])


def fire_charges(stack: LocalStack, at: str) -> dict[str, Any]:
    assert stack.post("/_local/clock", json={"now": at}).status_code == 200
    fired = stack.post("/_local/schedules/charges/run")
    assert fired.status_code == 200, fired.text
    return dict(fired.json()["result"])


def paid(stack: LocalStack, invoice_id: str, amount: int) -> bool:
    return bool(invoice_state(stack, invoice_id)["amount_paid"] == amount)


def test_a_three_installment_plan_is_paid_in_full(local_stack: LocalStack) -> None:
    invoice, pay_url = plan_invoice(local_stack)
    page = requests.get(pay_url, timeout=10).text
    assert "3 monthly payments" in page
    checkout = post_form(f"{pay_url}/plan", {"plan": "monthly-3"})
    assert pay_on_checkout(checkout, GOOD).status_code in (302, 303)
    assert eventually(lambda: paid(local_stack, invoice["id"], 3_334)), invoice_state(local_stack, invoice["id"])
    assert invoice_state(local_stack, invoice["id"])["active_plan"]

    assert fire_charges(local_stack, SECOND)["charged"] == 1
    assert eventually(lambda: paid(local_stack, invoice["id"], 6_667))
    assert fire_charges(local_stack, SECOND)["charged"] == 0  # fired twice: one PaymentIntent

    assert fire_charges(local_stack, THIRD)["charged"] == 1
    assert eventually(lambda: invoice_state(local_stack, invoice["id"])["status"] == "paid")
    final = invoice_state(local_stack, invoice["id"])
    assert (final["amount_paid"], final["active_plan"]) == (10_000, None)

    def installments_announced() -> int:
        local_stack.drain_outbox()
        events = local_stack.get("/_local/events").json()["events"]
        mine = [e for e in events if e["detail"].get("invoice_id") == invoice["id"]]
        return [e["detail-type"] for e in mine].count("plan.installment_paid")

    assert eventually(lambda: installments_announced() == 3)


def test_a_declined_second_charge_is_retried_and_recovers_after_the_customer_updates_the_card(
    local_stack: LocalStack,
) -> None:
    invoice, pay_url = plan_invoice(local_stack)
    assert pay_on_checkout(post_form(f"{pay_url}/plan", {"plan": "monthly-3"}), GOOD).status_code in (302, 303)
    assert eventually(lambda: paid(local_stack, invoice["id"], 3_334))
    # The customer switches to a card that saves fine but cannot be charged
    assert pay_on_checkout(post_form(f"{pay_url}/card"), CHARGE_FAILS).status_code in (302, 303)

    first = fire_charges(local_stack, SECOND)
    assert first["charged"] + first["failed_at_stripe"] == 1
    local_stack.drain_outbox()

    def told_of_failure() -> bool:
        local_stack.drain_outbox()
        emails = local_stack.get("/_local/emails").json()["emails"]
        return any(f"could not charge installment 2 for invoice {invoice['number']}" in e["subject"] for e in emails)

    assert eventually(told_of_failure)
    retry = fire_charges(local_stack, "2027-03-03T10:00:00-05:00")  # three days later
    assert retry["charged"] + retry["failed_at_stripe"] == 1
    # The attempt is claimed before Stripe is called; its decline arrives by webhook a moment later
    assert eventually(lambda: _second(local_stack, invoice["id"]) == (2, "failed"))
    assert paid(local_stack, invoice["id"], 3_334)

    # A good card again; the next retry (five days on) goes through
    assert pay_on_checkout(post_form(f"{pay_url}/card"), GOOD).status_code in (302, 303)
    recovered = fire_charges(local_stack, "2027-03-08T10:00:00-05:00")
    assert recovered["charged"] == 1
    assert eventually(lambda: paid(local_stack, invoice["id"], 6_667))


def _second(stack: LocalStack, invoice_id: str) -> tuple[int, str] | None:
    """(attempts, status) of the second installment, as the operator API shows the plan."""
    plan = invoice_state(stack, invoice_id)["plan"]
    return (int(plan["installments"][1]["attempts"]), str(plan["installments"][1]["status"])) if plan else None


def test_autopay_charges_a_new_invoice_on_its_due_date(local_stack: LocalStack) -> None:
    first, pay_url = plan_invoice(local_stack)  # any invoice's pay page offers autopay
    assert "Turn on autopay" in requests.get(pay_url, timeout=10).text
    assert pay_on_checkout(post_form(f"{pay_url}/autopay"), GOOD).status_code in (302, 303)
    customer_id = first["customer_id"]

    def autopay_on() -> bool:
        return bool(local_stack.signed("GET", f"/v1/customers/{customer_id}").json()["autopay_enabled_at"])

    assert eventually(autopay_on)
    body = {"customer_id": customer_id, "number": f"AUTO-{uuid.uuid4().hex[:6]}", "currency": "USD",
            "amount_due": 4_200, "due_date": "2027-02-20"}  # fmt: skip
    invoice = local_stack.signed("POST", "/v1/invoices", body, {"Idempotency-Key": uuid.uuid4().hex}).json()
    assert fire_charges(local_stack, "2027-02-17T10:00:00-05:00")["notices"] == 1
    local_stack.drain_outbox()
    emails = local_stack.get("/_local/emails").json()["emails"]
    assert any(f"Invoice {invoice['number']}: $42.00 will be charged" in e["subject"] for e in emails)
    assert fire_charges(local_stack, "2027-02-20T10:00:00-05:00")["charged"] == 1
    assert eventually(lambda: invoice_state(local_stack, invoice["id"])["status"] == "paid")


def test_a_recurring_charge_over_three_periods(local_stack: LocalStack) -> None:
    assert local_stack.post("/_local/clock", json={"now": "2027-01-20T12:00:00+00:00"}).status_code == 200
    customer = local_stack.signed(
        "POST", "/v1/customers", {"email": f"rec-{uuid.uuid4().hex[:6]}@example.com", "name": "Kim"}
    ).json()
    body = {"customer_id": customer["id"], "amount": 1_900, "currency": "USD", "interval": "monthly",
            "start_date": "2027-02-15", "count": 3, "description": "Hosting"}  # fmt: skip
    created = local_stack.signed("POST", "/v1/recurring-charges", body, {"Idempotency-Key": uuid.uuid4().hex})
    assert created.status_code == 201, created.text
    for month in ("02", "03", "04", "05"):
        fire_charges(local_stack, f"2027-{month}-08T09:00:00+00:00")
    shown = local_stack.signed("GET", f"/v1/recurring-charges/{created.json()['id']}").json()
    assert (shown["periods_created"], shown["next_invoice_at"]) == (3, None)
    local_stack.drain_outbox()
    events = local_stack.get("/_local/events").json()["events"]
    mine = [
        e for e in events if e["detail-type"] == "recurring.invoiced" and e["detail"]["recurring_id"] == shown["id"]
    ]
    assert sorted(e["detail"]["due_date"] for e in mine) == ["2027-02-15", "2027-03-15", "2027-04-15"]
    emails = local_stack.get("/_local/emails").json()["emails"]
    assert len([e for e in emails if e["to"] == [customer["email"]]]) == 3  # each invoice sent with its pay link
