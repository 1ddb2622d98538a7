"""The local stack under concurrent requests to every HTTP function, the real ones (issue 18): each request
runs alone in an instance of its function, as in Lambda, so nothing is a 5xx and every log line carries its
own function's name and its own ids, even while the stack's demo seeding runs."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from local.config import StackConfig
from local.lambda_runtime import POOL_SIZE
from local.stack import LocalStack
from shared.adapters.stripe_signature import sign
from shared.routes import HTTP_FUNCTIONS

ROUNDS = 3  # concurrent requests per kind


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(StackConfig.for_tests(stripe_front=True)) as running:
        yield running


def new_invoice(stack: LocalStack) -> dict[str, Any]:
    customer = stack.signed(
        "POST", "/v1/customers", {"email": f"c-{uuid.uuid4().hex[:8]}@example.com", "name": "Concurrent Payer"}
    )
    assert customer.status_code == 201, customer.text
    body = {
        "customer_id": customer.json()["id"],
        "number": f"INV-CC-{uuid.uuid4().hex[:8]}",
        "currency": "USD",
        "amount_due": 4_200,
        "due_date": "2031-12-31",
    }
    invoice = stack.signed("POST", "/v1/invoices", body, {"Idempotency-Key": uuid.uuid4().hex})
    assert invoice.status_code == 201, invoice.text
    return dict(invoice.json())


def webhook(stack: LocalStack, event_id: str) -> Callable[[], tuple[str, int]]:
    event = {
        "id": event_id,
        "object": "event",
        "api_version": "2024-06-20",
        "created": int(time.time()),
        "livemode": False,
        "type": "customer.updated",
        "data": {"object": {"id": f"cus_{uuid.uuid4().hex[:14]}", "object": "customer"}},
    }
    raw = json.dumps(event).encode()
    signature = sign(raw, stack.config.stripe_webhook_secret, int(time.time()))

    def deliver() -> tuple[str, int]:
        response = stack.post(
            "/webhooks/stripe", data=raw, headers={"Stripe-Signature": signature, "Content-Type": "application/json"}
        )
        return "webhook", response.status_code

    return deliver


def json_lines(stack: LocalStack, function: str) -> list[dict[str, Any]]:
    found = []
    for line in stack.function_logs(function):
        try:
            parsed = json.loads(line)
        except ValueError:
            continue
        if isinstance(parsed, dict):
            found.append(parsed)
    return found


def test_concurrent_requests_to_every_function_while_seeding_no_5xx_and_each_log_line_its_own(
    stack: LocalStack,
) -> None:
    invoices = [new_invoice(stack) for _ in range(ROUNDS)]
    event_ids = [f"evt_cc_{uuid.uuid4().hex[:16]}" for _ in range(ROUNDS + 1)]

    def page(url: str) -> Callable[[], tuple[str, int]]:
        return lambda: ("pay page", requests.get(url, timeout=30).status_code)

    def checkout(url: str) -> Callable[[], tuple[str, int]]:
        return lambda: (
            "checkout",
            requests.post(f"{url}/checkout", data={}, allow_redirects=False, timeout=30).status_code,
        )

    def read(invoice_id: str) -> Callable[[], tuple[str, int]]:
        return lambda: ("operator read", stack.signed("GET", f"/v1/invoices/{invoice_id}").status_code)

    def create() -> tuple[str, int]:
        body = {"email": f"n-{uuid.uuid4().hex[:8]}@example.com", "name": "New Customer"}
        return "operator create", stack.signed("POST", "/v1/customers", body).status_code

    def seed() -> tuple[str, int]:
        stack.seed_demo_data()  # raises on anything but its 201s
        return "seeding", 201

    calls: list[Callable[[], tuple[str, int]]] = [seed]
    for invoice in invoices:
        calls += [page(invoice["pay_url"]), checkout(invoice["pay_url"]), read(invoice["id"]), create]
    calls += [webhook(stack, event_id) for event_id in event_ids]

    # When they all arrive at once
    with ThreadPoolExecutor(len(calls)) as pool:
        answers = list(pool.map(lambda call: call(), calls))

    # Then each is answered as it would be alone: no 5xx
    expected = {"seeding": 201, "pay page": 200, "checkout": 303, "operator read": 200, "operator create": 201}
    assert [(kind, status) for kind, status in answers if status != expected.get(kind, 200)] == []
    # ... by instances of its own function: more than one where requests overlapped, never more than the pool
    per_function = {name: 0 for name in HTTP_FUNCTIONS}
    for instance in stack.resolver.instances():
        if instance.function in per_function:  # the queue-fed ones (webhook deliveries) run too, as events go out
            per_function[instance.function] += 1
    assert all(1 <= count <= POOL_SIZE for count in per_function.values()), per_function
    assert max(per_function.values()) > 1, per_function

    # And every log line names the function that wrote it (the operator API logs nothing on success)
    assert json_lines(stack, "checkout") and json_lines(stack, "webhooks")
    for function in HTTP_FUNCTIONS:
        lines = json_lines(stack, function)
        names = {line.get("function_name") for line in lines if "function_name" in line}
        assert names <= {f"payportal-local-{function}"}, (function, names)
    # ... and carries its own request's ids: one "stripe event recorded" per delivery, each with its event
    recorded = [line for line in json_lines(stack, "webhooks") if line.get("message") == "stripe event recorded"]
    assert sorted(line.get("stripe_event_id") for line in recorded if line.get("stripe_event_id") in event_ids) == (
        sorted(event_ids)
    )
    mine = [line for line in recorded if line.get("stripe_event_id") in event_ids]
    assert len({line["function_request_id"] for line in mine}) == len(event_ids)
