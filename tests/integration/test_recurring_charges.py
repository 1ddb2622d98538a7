"""Recurring charges: one invoice per period, a week ahead of its date, exactly once; paused, resumed,
re-priced and ended through the operator API; charged by autopay when the customer has it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from shared.clock import FixedClock, SystemClock, use_clock
from tests.integration.conftest import Aws
from tests.integration.helpers import create_customer, operator
from tests.support import FakeLambdaContext, json_body


@pytest.fixture
def clock() -> Iterator[FixedClock]:
    fixed = FixedClock(datetime(2027, 1, 20, 12, tzinfo=UTC))
    use_clock(fixed)
    yield fixed
    use_clock(SystemClock())


@pytest.fixture
def customer(aws: Aws, clock: FixedClock) -> dict[str, Any]:
    return create_customer(timezone="UTC", email="jo@example.com", locale="en-US")


def recurring(
    method: str, suffix: str = "", body: dict[str, Any] | None = None, key: str | None = None
) -> dict[str, Any]:
    resource = "/v1/recurring-charges" + ("/{recurring_id}" if suffix else "")
    params = {"recurring_id": suffix} if suffix else None
    path = "/v1/recurring-charges" + (f"/{suffix}" if suffix else "")
    headers = {"Idempotency-Key": key or uuid.uuid4().hex} if method == "POST" else None
    return operator(method, path, resource, params=params, body=body, headers=headers)


def new_recurring(customer_id: str, **overrides: Any) -> dict[str, Any]:
    body = {"customer_id": customer_id, "amount": 2_500, "currency": "USD", "interval": "monthly",
            "start_date": "2027-02-15", "count": 3, "description": "Support plan"} | overrides  # fmt: skip
    response = recurring("POST", body=body)
    assert response["statusCode"] == 201, response["body"]
    return dict(json_body(response))


def run_at(clock: FixedClock, when: datetime) -> dict[str, Any]:
    from functions.charges.handler import lambda_handler

    clock.instant = when
    return dict(lambda_handler({"source": "aws.scheduler", "detail": {}}, FakeLambdaContext()))


def invoices(aws: Aws) -> list[dict[str, Any]]:
    return sorted((i for i in aws.items("INVOICE#") if i.get("type") == "invoice"), key=lambda i: i["due_date"])


def test_three_monthly_periods_are_invoiced_a_week_ahead_once_each(
    aws: Aws, clock: FixedClock, customer: dict[str, Any]
) -> None:
    created = new_recurring(customer["id"])
    assert created["next_invoice_at"] == "2027-02-08T09:00:00Z" and created["status"] == "active"
    assert run_at(clock, datetime(2027, 2, 8, 8, 59, tzinfo=UTC))["invoiced"] == 0
    for month in (2, 3, 4):
        assert run_at(clock, datetime(2027, month, 8, 9, tzinfo=UTC))["invoiced"] == 1
        assert run_at(clock, datetime(2027, month, 8, 9, tzinfo=UTC))["invoiced"] == 0  # fired twice
    assert run_at(clock, datetime(2027, 5, 8, 9, tzinfo=UTC))["invoiced"] == 0  # count reached
    assert [(i["due_date"], i["amount_due"]) for i in invoices(aws)] == [
        ("2027-02-15", 2_500), ("2027-03-15", 2_500), ("2027-04-15", 2_500),
    ]  # fmt: skip
    shown = json_body(recurring("GET", created["id"]))
    assert shown["periods_created"] == 3 and shown["next_invoice_at"] is None
    aws.drain_outbox()
    assert len([e for e in aws.emails() if "Support plan" in e.text or "2027" in e.subject]) >= 3  # each emailed
    assert [e["detail-type"] for e in aws.domain_events()].count("recurring.invoiced") == 3


def test_pause_resume_and_a_new_amount_from_the_next_period(
    aws: Aws, clock: FixedClock, customer: dict[str, Any]
) -> None:
    created = new_recurring(customer["id"], count=None, interval="monthly")
    run_at(clock, datetime(2027, 2, 8, 9, tzinfo=UTC))
    paused = recurring("PATCH", created["id"], {"paused": True})
    assert json_body(paused)["status"] == "paused"
    assert run_at(clock, datetime(2027, 3, 8, 9, tzinfo=UTC))["invoiced"] == 0
    clock.instant = datetime(2027, 4, 1, 12, tzinfo=UTC)
    resumed = json_body(recurring("PATCH", created["id"], {"paused": False, "amount": 3_000}))
    assert resumed["status"] == "active" and resumed["next_invoice_at"] == "2027-04-08T09:00:00Z"  # March skipped
    run_at(clock, datetime(2027, 4, 8, 9, tzinfo=UTC))
    assert [(i["due_date"], i["amount_due"]) for i in invoices(aws)] == [("2027-02-15", 2_500), ("2027-04-15", 3_000)]


def test_ending_stops_further_periods(aws: Aws, clock: FixedClock, customer: dict[str, Any]) -> None:
    created = new_recurring(customer["id"], count=None, end_date="2027-12-31")
    ended = recurring("DELETE", created["id"])
    assert ended["statusCode"] == 200 and json_body(ended)["status"] == "ended"
    assert run_at(clock, datetime(2027, 2, 8, 9, tzinfo=UTC))["invoiced"] == 0
    assert recurring("PATCH", created["id"], {"paused": False})["statusCode"] == 409


def test_bad_recurring_charges_are_refused(aws: Aws, clock: FixedClock, customer: dict[str, Any]) -> None:
    base = {"customer_id": customer["id"], "amount": 2_500, "currency": "USD", "interval": "monthly",
            "start_date": "2027-02-15"}  # fmt: skip
    for wrong in (
        {"count": 3, "end_date": "2027-06-01"},
        {"interval": "daily"},
        {"amount": 0},
        {"amount": 12.5},
        {"end_date": "2027-01-01"},
    ):
        response = recurring("POST", body=base | wrong)
        assert response["statusCode"] == 422, (wrong, response["body"])
    assert recurring("POST", body=base | {"customer_id": "cust_nope"})["statusCode"] == 404
    assert recurring("GET", "rec_nope")["statusCode"] == 404
    assert recurring("PATCH", "rec_nope", {"paused": True})["statusCode"] == 404


def test_a_customer_on_autopay_is_charged_for_each_period(
    aws: Aws, clock: FixedClock, customer: dict[str, Any], stripe: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shared import wiring
    from tests.integration.test_autopay import setup_completed
    from tests.integration.test_installment_charges import FakeStripe, settle

    fake = FakeStripe(checkout=wiring.gateway())
    monkeypatch.setattr(wiring, "gateway", lambda: fake)
    wiring.ledger().remember_stripe_customer(customer["id"], "cus_saved_card")  # the setup created it
    assert setup_completed(customer["id"], "evt_autopay_on") == "applied"
    new_recurring(customer["id"], count=1)
    run_at(clock, datetime(2027, 2, 8, 9, tzinfo=UTC))  # invoiced
    run_at(clock, datetime(2027, 2, 12, 10, tzinfo=UTC))  # the notice
    assert run_at(clock, datetime(2027, 2, 15, 10, tzinfo=UTC))["charged"] == 1
    [charge] = fake.calls
    assert charge.amount == 2_500
    assert settle(charge, "pi_recurring_1") == "applied"
    assert invoices(aws)[0]["status"] == "paid"


def test_a_recurring_charge_is_created_once_per_idempotency_key(
    aws: Aws, clock: FixedClock, customer: dict[str, Any]
) -> None:
    body = {"customer_id": customer["id"], "amount": 2_500, "currency": "USD", "interval": "monthly",
            "start_date": "2027-02-15", "count": 3, "description": "Support plan"}  # fmt: skip
    first, again = recurring("POST", body=body, key="rec-key-1"), recurring("POST", body=body, key="rec-key-1")
    assert first["statusCode"] == again["statusCode"] == 201
    assert json_body(first) == json_body(again)
    assert len([i for i in aws.items("RECURRING#") if i["sk"] == "RECURRING"]) == 1
    other_body = recurring("POST", body=body | {"amount": 3_000}, key="rec-key-1")
    assert other_body["statusCode"] == 422 and "idempotency_key_reused" in other_body["body"]
    missing = operator("POST", "/v1/recurring-charges", "/v1/recurring-charges", body=body)
    assert missing["statusCode"] == 400 and "idempotency_key_required" in missing["body"]
