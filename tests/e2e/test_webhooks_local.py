"""Outbound webhooks on the whole local stack: an endpoint on a small HTTP server in the test receives the
invoice's events, signed as Standard Webhooks asks, from the bus through the deliveries queue and function."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from standardwebhooks import Webhook

from local.stack import LocalStack
from tests.webhook_receiver import Receiver, webhook_receiver

pytestmark = pytest.mark.e2e


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with webhook_receiver() as running:
        yield running


@pytest.fixture
def endpoint(local_stack: LocalStack, receiver: Receiver) -> Iterator[dict[str, Any]]:
    body = {"url": receiver.url("/payportal"), "events": ["invoice.created"], "description": "e2e"}
    created = local_stack.signed("POST", "/v1/webhook-endpoints", body, {"Idempotency-Key": uuid.uuid4().hex})
    assert created.status_code == 201, created.text
    yield created.json()
    local_stack.signed("DELETE", f"/v1/webhook-endpoints/{created.json()['id']}")  # other tests' events stay out


def test_a_new_invoice_reaches_the_endpoint_signed_and_verifiable(
    local_stack: LocalStack, receiver: Receiver, endpoint: dict[str, Any]
) -> None:
    # Given: a customer; When: an invoice is created through the operator API
    customer = local_stack.signed(
        "POST", "/v1/customers", {"email": "hook@example.com", "name": "Hook Payer", "locale": "en-US"}
    )
    assert customer.status_code == 201, customer.text
    number = f"INV-HOOK-{uuid.uuid4().hex[:6]}"
    body = {"customer_id": customer.json()["id"], "number": number, "currency": "USD", "amount_due": 4_200,
            "due_date": "2026-12-31"}  # fmt: skip
    invoice = local_stack.signed("POST", "/v1/invoices", body, {"Idempotency-Key": uuid.uuid4().hex})
    assert invoice.status_code == 201, invoice.text
    # Then: the endpoint receives invoice.created for it, and the secret from registration verifies it
    deadline = time.monotonic() + 30
    mine: list[dict[str, Any]] = []
    while not mine and time.monotonic() < deadline:
        local_stack.drain_outbox()
        for got in receiver.at("/payportal"):
            payload = Webhook(endpoint["secret"]).verify(got.body, got.headers)
            if payload["data"].get("invoice_id") == invoice.json()["id"]:
                mine.append(payload)
        time.sleep(0.2)
    assert mine, "no delivery arrived"
    assert mine[0]["type"] == "invoice.created" and mine[0]["data"]["number"] == number
    assert mine[0]["data"]["amount_due"] == 4_200
