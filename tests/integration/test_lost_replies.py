"""A DynamoDB reply lost on the way back: the write committed, the client retries it. The retry must return
the original result and write nothing twice (issue: "a lost DynamoDB reply turns a successful create into a
409"). Each test drops the reply of one TransactWriteItems of one kind of write."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.conftest import Aws
from tests.integration.helpers import checkout_for, completed, create_customer, create_invoice, deliver, operator
from tests.support import json_body


class LostReplies:
    """Makes botocore retry the next `count` committed TransactWriteItems as if their replies never came."""

    def __init__(self) -> None:
        self.to_drop = 0
        self.dropped = 0

    def __call__(self, response: Any = None, attempts: int = 0, **_: Any) -> int | None:
        if self.to_drop and response is not None and response[0].status_code == 200:
            self.to_drop -= 1
            self.dropped += 1
            return 0  # retry now: what botocore does after a connection reset or a read timeout
        return None


@pytest.fixture
def lost(aws: Aws) -> Iterator[LostReplies]:
    from shared.adapters.aws import client

    drops = LostReplies()
    events = client("dynamodb").meta.events
    events.register_first("needs-retry.dynamodb.TransactWriteItems", drops)
    yield drops
    events.unregister("needs-retry.dynamodb.TransactWriteItems", drops)


def items(aws: Aws, prefix: str, sort_prefix: str = "") -> list[dict[str, Any]]:
    return [i for i in aws.items(prefix) if i["sk"].startswith(sort_prefix)]


def test_a_customer_created_once_when_its_reply_is_lost(aws: Aws, lost: LostReplies) -> None:
    lost.to_drop = 1
    customer = create_customer(email="lost@example.com")
    assert lost.dropped == 1
    assert [i["id"] for i in items(aws, "CUSTOMER#", "CUSTOMER")] == [customer["id"]]


def test_an_invoice_created_once_when_its_reply_is_lost(aws: Aws, lost: LostReplies) -> None:
    customer = create_customer()
    lost.to_drop = 1
    invoice = create_invoice(customer["id"], number="INV-LOST-1")  # 201, not 409
    assert lost.dropped == 1
    assert [i["id"] for i in items(aws, "INVOICE#", "INVOICE")] == [invoice["id"]]
    created = [e for e in items(aws, "OUTBOX#") if e.get("name") == "invoice.created"]
    assert len(created) == 1


def test_a_recurring_charge_created_once_when_its_reply_is_lost(aws: Aws, lost: LostReplies) -> None:
    customer = create_customer()
    body = {"customer_id": customer["id"], "amount": 2_500, "currency": "USD", "interval": "monthly",
            "start_date": "2027-02-15", "count": 3, "description": "Support plan"}  # fmt: skip
    lost.to_drop = 1
    key = {"Idempotency-Key": uuid.uuid4().hex}
    response = operator("POST", "/v1/recurring-charges", "/v1/recurring-charges", body=body, headers=key)
    assert response["statusCode"] == 201, response["body"]
    assert lost.dropped == 1
    assert [i["id"] for i in items(aws, "RECURRING#", "RECURRING")] == [json_body(response)["id"]]


def test_a_hold_placed_once_when_its_reply_is_lost(aws: Aws, lost: LostReplies) -> None:
    invoice = create_invoice(create_customer()["id"])
    lost.to_drop = 1
    response = operator(
        "POST",
        f"/v1/invoices/{invoice['id']}/hold",
        "/v1/invoices/{invoice_id}/hold",
        params={"invoice_id": invoice["id"]},
        body={"reason": "customer called"},
    )
    assert response["statusCode"] == 200, response["body"]  # not a 409 "changed meanwhile"
    assert lost.dropped == 1
    [held] = items(aws, f"INVOICE#{invoice['id']}", "INVOICE")
    assert held["hold_reason"] == "customer called" and held["version"] == 2


def test_a_checkout_recorded_once_when_its_reply_is_lost(stripe: str, aws: Aws, lost: LostReplies) -> None:
    invoice = create_invoice(create_customer()["id"])
    lost.to_drop = 1
    response = operator(
        "POST",
        f"/v1/invoices/{invoice['id']}/checkout-sessions",
        "/v1/invoices/{invoice_id}/checkout-sessions",
        params={"invoice_id": invoice["id"]},
    )
    assert response["statusCode"] == 201, response["body"]
    assert lost.dropped == 1
    [attempt] = items(aws, f"INVOICE#{invoice['id']}", "CHECKOUT#")
    [open_checkout] = items(aws, f"INVOICE#{invoice['id']}", "OPEN_CHECKOUT")
    assert attempt["session_id"] == json_body(response)["id"] == open_checkout["current"]["session_id"]
    assert open_checkout["version"] == 1


def test_a_payment_applied_once_when_its_reply_is_lost(aws: Aws, lost: LostReplies) -> None:
    invoice = create_invoice(create_customer()["id"], amount_due=4_000)
    attempt = checkout_for(invoice, 4_000)
    lost.to_drop = 1
    response = deliver(completed(attempt))
    assert response["statusCode"] == 200 and json_body(response)["outcome"] == "applied"
    assert lost.dropped == 1
    [stored] = items(aws, f"INVOICE#{invoice['id']}", "INVOICE")
    assert stored["amount_paid"] == 4_000 and stored["status"] == "paid"
    assert len(items(aws, f"INVOICE#{invoice['id']}", "PAYMENT#")) == 1


def test_a_create_whose_every_reply_was_lost_is_found_again_by_its_idempotency_key(
    aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first attempt committed but the operator got a 5xx (botocore gave up on the replies); retrying
    with the same Idempotency-Key answers with that invoice, not "duplicate invoice number"."""
    from botocore.exceptions import ReadTimeoutError

    from shared.adapters.aws import client

    customer = create_customer()
    dynamodb = client("dynamodb")
    real = dynamodb.transact_write_items
    failing = {"left": 1}

    def commit_then_lose_the_reply(**kwargs: Any) -> Any:
        reply = real(**kwargs)
        if failing["left"]:
            failing["left"] -= 1
            raise ReadTimeoutError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com")
        return reply

    monkeypatch.setattr(dynamodb, "transact_write_items", commit_then_lose_the_reply)
    body = {"customer_id": customer["id"], "number": "INV-LOST-2", "currency": "USD", "amount_due": 5_000,
            "due_date": "2026-12-31"}  # fmt: skip
    key = {"Idempotency-Key": "lost-2"}
    first = operator("POST", "/v1/invoices", "/v1/invoices", body=body, headers=key)
    assert first["statusCode"] == 500
    retried = operator("POST", "/v1/invoices", "/v1/invoices", body=body, headers=key)
    assert retried["statusCode"] == 201, retried["body"]
    [stored] = items(aws, "INVOICE#", "INVOICE")
    assert json_body(retried)["id"] == stored["id"] and stored["number"] == "INV-LOST-2"


def test_a_customer_is_created_once_per_idempotency_key_and_once_per_external_id(aws: Aws) -> None:
    body = {"email": "ext@example.com", "name": "Ext Ltd", "external_id": "crm-42"}
    key = {"Idempotency-Key": "cust-key-1"}
    first = operator("POST", "/v1/customers", "/v1/customers", body=body, headers=key)
    again = operator("POST", "/v1/customers", "/v1/customers", body=body, headers=key)
    assert first["statusCode"] == again["statusCode"] == 201 and json_body(first) == json_body(again)
    # Without the key, the external id still keeps a second copy out, and finds the first
    copy = operator("POST", "/v1/customers", "/v1/customers", body=body)
    assert copy["statusCode"] == 409 and json_body(copy)["error"]["code"] == "duplicate_external_id"
    found = operator("GET", "/v1/customers", "/v1/customers", query={"external_id": "crm-42"})
    assert found["statusCode"] == 200 and [c["id"] for c in json_body(found)["customers"]] == [json_body(first)["id"]]
    none = operator("GET", "/v1/customers", "/v1/customers", query={"external_id": "crm-43"})
    assert json_body(none)["customers"] == []
    assert len(items(aws, "CUSTOMER#", "CUSTOMER")) == 1
