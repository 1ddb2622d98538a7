"""Refunds through the webhook and the operator API over moto: applied once in any order, shown on the
payment and the invoice, announced on the bus and to the customer; hostile requests get a clear 4xx."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from shared.clock import FixedClock
from tests.fakes.gateway import FakeGateway
from tests.integration.conftest import Aws
from tests.integration.helpers import (
    checkout_for,
    completed,
    create_customer,
    create_invoice,
    deliver,
    get_invoice,
    operator,
)
from tests.support import json_body, stripe_event


@pytest.fixture
def invoice(aws: Aws, clock: FixedClock) -> dict[str, Any]:
    customer = create_customer(timezone="UTC", email="rae@example.com")
    return create_invoice(customer["id"], number="INV-R1", amount_due=20_000, due_date="2027-03-15", allow_partial=True)


@pytest.fixture
def gateway(monkeypatch: pytest.MonkeyPatch) -> FakeGateway:
    from shared import wiring

    fake = FakeGateway()
    monkeypatch.setattr(wiring, "gateway", lambda: fake)
    return fake


def pay(invoice: dict[str, Any], amount: int) -> str:
    event = completed(checkout_for(invoice, amount))
    assert json_body(deliver(event))["outcome"] == "applied"
    return str(event["data"]["object"]["payment_intent"])


def refund_object(refund_id: str, intent: str, amount: int, status: str, **metadata: str) -> dict[str, Any]:
    return {
        "id": refund_id, "object": "refund", "amount": amount, "currency": "usd", "charge": "ch_test_1",
        "payment_intent": intent, "status": status, "reason": "requested_by_customer", "metadata": metadata,
    }  # fmt: skip


def refund_event(kind: str, refund: dict[str, Any], event_id: str) -> dict[str, Any]:
    return stripe_event(f"refund.{kind}", refund, event_id=event_id)


def charge_refunded(intent: str, event_id: str, *refunds: dict[str, Any]) -> dict[str, Any]:
    counted = sum(r["amount"] for r in refunds if r["status"] in ("pending", "succeeded"))
    charge = {
        "id": "ch_test_1", "object": "charge", "amount": 20_000, "currency": "usd", "payment_intent": intent,
        "amount_refunded": counted, "refunded": counted == 20_000,
        "refunds": {"object": "list", "data": list(refunds), "has_more": False},
    }  # fmt: skip
    return stripe_event("charge.refunded", charge, event_id=event_id)


def outcome(event: dict[str, Any]) -> str:
    return str(json_body(deliver(event))["outcome"])


def refund(payment_id: str, body: dict[str, Any] | None, key: str | None = "k1") -> dict[str, Any]:
    headers = {"Idempotency-Key": key} if key is not None else None
    return operator(
        "POST", f"/v1/payments/{payment_id}/refunds", "/v1/payments/{payment_id}/refunds",
        params={"payment_id": payment_id}, body=body, headers=headers,
    )  # fmt: skip


def bus(aws: Aws, name: str) -> list[dict[str, Any]]:
    return [e["detail"] for e in aws.domain_events() if e["detail-type"] == name]


def test_two_dashboard_refunds_delivered_twice_out_of_order_equal_stripe(
    aws: Aws, clock: FixedClock, invoice: dict[str, Any], gateway: FakeGateway
) -> None:
    intent = pay(invoice, 20_000)
    first, second = (
        refund_object("re_test_1", intent, 3_000, "succeeded"),
        refund_object("re_test_2", intent, 2_000, "succeeded"),
    )
    events = [
        refund_event("updated", first, "evt_r1_done"),
        charge_refunded(intent, "evt_ch_2", first, second),
        refund_event("created", refund_object("re_test_2", intent, 2_000, "pending"), "evt_r2_new"),
        refund_event("created", refund_object("re_test_1", intent, 3_000, "pending"), "evt_r1_new"),
        charge_refunded(intent, "evt_ch_1", refund_object("re_test_1", intent, 3_000, "pending")),
        refund_event("updated", second, "evt_r2_done"),
    ]

    outcomes = [outcome(e) for e in events + events[::-1]]

    assert outcomes.count("applied") == 2 and outcomes[6:].count("duplicate_event") == 6
    shown = get_invoice(invoice["id"])
    [payment] = shown["payments"]
    assert payment["amount_refunded"] == 5_000 == shown["amount_refunded"]  # Stripe's charge.amount_refunded
    assert payment["status"] == "partially_refunded" and [r["id"] for r in payment["refunds"]] == [
        "re_test_1",
        "re_test_2",
    ]
    assert shown["status"] == "paid" and shown["amount_remaining"] == 0  # a credit: the invoice stays settled
    aws.drain_outbox()
    refunded = bus(aws, "payment.refunded")
    assert sorted(e["refund_id"] for e in refunded) == ["re_test_1", "re_test_2"]
    assert sum(1 for m in aws.emails() if m.subject.startswith("Refund:")) == 2


def test_a_failed_refund_gives_the_money_back_and_goes_on_the_bus(
    aws: Aws, clock: FixedClock, invoice: dict[str, Any], gateway: FakeGateway
) -> None:
    intent = pay(invoice, 20_000)
    assert outcome(refund_event("created", refund_object("re_f", intent, 4_000, "pending"), "evt_1")) == "applied"

    assert outcome(refund_event("failed", refund_object("re_f", intent, 4_000, "failed"), "evt_2")) == "applied"

    shown = get_invoice(invoice["id"])
    assert shown["amount_refunded"] == 0 and shown["payments"][0]["status"] == "succeeded"
    aws.drain_outbox()
    [failed] = bus(aws, "refund.failed")
    assert failed["refund_id"] == "re_f" and failed["status"] == "failed" and failed["amount"] == 4_000


def test_refunds_of_payments_not_ours_are_ignored(aws: Aws, clock: FixedClock, gateway: FakeGateway) -> None:
    assert outcome(refund_event("created", refund_object("re_x", "pi_not_ours", 100, "pending"), "evt_x")) == "ignored"


def test_the_operator_refunds_part_of_a_payment_once_per_key(
    aws: Aws, clock: FixedClock, invoice: dict[str, Any], gateway: FakeGateway
) -> None:
    intent = pay(invoice, 20_000)

    made = refund(intent, {"amount": 5_000, "reopen_balance": True})
    again = refund(intent, {"amount": 5_000, "reopen_balance": True})

    assert made["statusCode"] == 201, made["body"]
    assert json_body(again) == json_body(made) and len(gateway.refund_requests) == 1
    body = json_body(made)
    assert body["refund"]["amount"] == 5_000 and body["payment"]["status"] == "partially_refunded"
    assert (body["invoice_status"], body["invoice_amount_remaining"]) == ("partially_paid", 5_000)
    shown = get_invoice(invoice["id"])
    assert shown["amount_refunded"] == 5_000 and shown["next_reminder_at"] is not None  # dunning resumes
    # The refund's own webhook, after the reply, changes nothing
    stripe_refund = refund_object(body["refund"]["id"], intent, 5_000, "succeeded", reopen_balance="true")
    assert outcome(refund_event("updated", stripe_refund, "evt_after")) == "no_change"
    assert get_invoice(invoice["id"])["amount_refunded"] == 5_000


def test_the_rest_is_refunded_without_an_amount_and_then_nothing_is_left(
    aws: Aws, clock: FixedClock, invoice: dict[str, Any], gateway: FakeGateway
) -> None:
    intent = pay(invoice, 20_000)

    made = refund(intent, {}, key="all")
    nothing = refund(intent, {}, key="more")

    assert json_body(made)["payment"]["status"] == "refunded" and json_body(made)["refund"]["amount"] == 20_000
    assert nothing["statusCode"] == 422 and json_body(nothing)["error"]["code"] == "refund_exceeds_refundable"


def test_an_overpayment_s_credit_is_refunded_in_one_call(
    aws: Aws, clock: FixedClock, invoice: dict[str, Any], gateway: FakeGateway
) -> None:
    pay(invoice, 20_000)
    second = pay(invoice, 1_500)  # paid twice: USD 15.00 beyond what was due
    assert get_invoice(invoice["id"])["amount_credit"] == 1_500

    made = refund(second, {"credit": True, "reason": "duplicate"})

    assert made["statusCode"] == 201, made["body"]
    shown = get_invoice(invoice["id"])
    assert shown["amount_credit"] == 0 and shown["amount_refunded"] == 1_500 and shown["status"] == "paid"


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"amount": -100}, 422),
        ({"amount": 0}, 422),
        ({"amount": 20_001}, 422),
        ({"amount": 10.5}, 422),
        ({"amount": "100"}, 422),
        ({"reason": "because"}, 422),
        ({"credit": True}, 422),  # no credit on this invoice
        ({"credit": True, "reopen_balance": True}, 422),
        ({"unknown": 1}, 422),
    ],
)
def test_hostile_refund_requests_get_a_clear_4xx_and_refund_nothing(
    aws: Aws, clock: FixedClock, invoice: dict[str, Any], gateway: FakeGateway, body: dict[str, Any], status: int
) -> None:
    intent = pay(invoice, 20_000)

    response = refund(intent, body, key=uuid.uuid4().hex)

    assert response["statusCode"] == status, response["body"]
    assert "error" in json_body(response) and gateway.refund_requests == []
    assert get_invoice(invoice["id"])["amount_refunded"] == 0


def test_an_unknown_payment_is_404_and_a_missing_key_400(
    aws: Aws, clock: FixedClock, invoice: dict[str, Any], gateway: FakeGateway
) -> None:
    intent = pay(invoice, 20_000)

    assert refund("pi_unknown", {"amount": 100})["statusCode"] == 404
    missing = refund(intent, {"amount": 100}, key=None)
    assert missing["statusCode"] == 400 and json_body(missing)["error"]["code"] == "idempotency_key_required"
    assert gateway.refund_requests == []


def test_stripe_refusing_is_a_409(aws: Aws, clock: FixedClock, invoice: dict[str, Any], gateway: FakeGateway) -> None:
    intent = pay(invoice, 20_000)
    gateway.refuse_refunds = True

    response = refund(intent, {"amount": 100})

    assert response["statusCode"] == 409 and json_body(response)["error"]["code"] == "refund_refused"
