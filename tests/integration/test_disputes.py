"""Stripe disputes: recorded once, dunning paused while open, money taken back when lost."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from shared.clock import FixedClock
from tests.integration.conftest import Aws
from tests.integration.helpers import checkout_for, completed, create_customer, create_invoice, deliver, get_invoice
from tests.support import FakeLambdaContext, json_body, stripe_event


@pytest.fixture
def invoice(aws: Aws, clock: FixedClock) -> dict[str, Any]:
    customer = create_customer(timezone="UTC", email="flo@example.com")
    return create_invoice(customer["id"], number="INV-90", amount_due=20_000, due_date="2027-03-15", allow_partial=True)


def pay(invoice: dict[str, Any], amount: int) -> str:
    """A succeeded payment; returns its PaymentIntent id."""
    event = completed(checkout_for(invoice, amount))
    assert json_body(deliver(event))["outcome"] == "applied"
    return str(event["data"]["object"]["payment_intent"])


def dispute(
    kind: str, intent: str, amount: int, *, status: str = "needs_response", currency: str = "usd", fee: int = 0
) -> str:
    """A dispute event; with `fee`, its withdrawal's balance transaction (Stripe lists them whole on it)."""
    obj: dict[str, Any] = {
        "id": "dp_test_1", "object": "dispute", "amount": amount, "currency": currency, "charge": "ch_test_1",
        "payment_intent": intent, "reason": "fraudulent", "status": status,
    }  # fmt: skip
    if fee:
        obj["balance_transactions"] = [
            {"id": "txn_dp_1", "object": "balance_transaction", "amount": -amount, "currency": currency, "fee": fee,
             "net": -amount - fee, "type": "adjustment"}
        ]  # fmt: skip
    return str(json_body(deliver(stripe_event(f"charge.dispute.{kind}", obj)))["outcome"])


def run() -> dict[str, Any]:
    from functions.reminders.handler import lambda_handler

    return lambda_handler({"source": "aws.scheduler", "detail": {}}, FakeLambdaContext())


def events(aws: Aws, name: str) -> list[dict[str, Any]]:
    aws.drain_outbox()
    return [e["detail"] for e in aws.domain_events() if e["detail-type"] == name]


def test_an_open_dispute_stops_dunning_and_a_won_one_lets_it_resume(
    aws: Aws, clock: FixedClock, invoice: dict[str, Any]
) -> None:
    intent = pay(invoice, 5_000)
    assert dispute("created", intent, 5_000) == "applied"
    assert get_invoice(invoice["id"])["open_disputes"] == ["dp_test_1"]
    [opened] = events(aws, "invoice.disputed")
    assert opened["dispute_id"] == "dp_test_1" and opened["dispute_amount"] == 5_000

    clock.instant = datetime(2027, 3, 18, 10, tzinfo=UTC)  # overdue: but disputed, so nothing goes out
    assert run()["sent"] == 0

    assert dispute("closed", intent, 5_000, status="won") == "applied"
    shown = get_invoice(invoice["id"])
    assert shown["open_disputes"] == [] and shown["amount_paid"] == 5_000
    assert run()["sent"] == 1  # dunning resumes with the latest step
    [closed] = events(aws, "invoice.dispute_closed")
    assert closed["dispute_status"] == "won"


def test_a_lost_dispute_takes_the_money_back_and_holds_the_invoice_for_the_operator(
    aws: Aws, clock: FixedClock, invoice: dict[str, Any]
) -> None:
    from tests.integration.helpers import operator

    intent = pay(invoice, 20_000)
    assert get_invoice(invoice["id"])["status"] == "paid"
    dispute("created", intent, 20_000)
    assert dispute("closed", intent, 20_000, status="lost") == "applied"
    shown = get_invoice(invoice["id"])
    assert (shown["status"], shown["amount_paid"], shown["amount_remaining"]) == ("open", 0, 20_000)
    assert shown["hold"]["reason"].startswith("dispute lost")
    clock.instant = datetime(2027, 3, 18, 10, tzinfo=UTC)
    assert run()["sent"] == 0  # never chased automatically after a chargeback

    released = operator(
        "DELETE", f"/v1/invoices/{invoice['id']}/hold", "/v1/invoices/{invoice_id}/hold",
        params={"invoice_id": invoice["id"]},
    )  # fmt: skip
    assert released["statusCode"] == 200
    assert run()["sent"] == 1


def test_dispute_events_apply_once_in_any_order(aws: Aws, clock: FixedClock, invoice: dict[str, Any]) -> None:
    intent = pay(invoice, 5_000)
    assert dispute("closed", intent, 5_000, status="won") == "applied"
    assert dispute("created", intent, 5_000) == "no_change"  # a late "created" cannot reopen it
    assert get_invoice(invoice["id"])["open_disputes"] == []

    event = stripe_event(
        "charge.dispute.closed",
        {"id": "dp_test_1", "amount": 5_000, "currency": "usd", "payment_intent": intent, "status": "won"},
    )
    assert json_body(deliver(event))["outcome"] == "no_change"
    assert json_body(deliver(event))["outcome"] == "duplicate_event"


def test_disputes_of_unknown_payments_are_ignored_and_mismatches_flagged(
    aws: Aws, clock: FixedClock, invoice: dict[str, Any]
) -> None:
    assert dispute("created", "pi_not_ours", 5_000) == "ignored"
    intent = pay(invoice, 5_000)
    assert dispute("created", intent, 5_000, currency="eur") == "flagged"
    assert get_invoice(invoice["id"])["open_disputes"] == []
