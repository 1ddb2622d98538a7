"""Restriction (GDPR Art. 18) through the operator API, over moto: the records stay, reminders and notices
stop, the customer's own payments still get their receipts, and lifting it resumes dunning."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from shared.clock import FixedClock
from tests.integration.conftest import Aws
from tests.integration.helpers import checkout_for, completed, create_customer, create_invoice, deliver, operator
from tests.integration.test_customer_pauses import run
from tests.support import json_body


def restriction(method: str, customer_id: str, key: str | None = "restrict-1") -> dict[str, Any]:
    headers = {"Idempotency-Key": key} if key else {}
    return operator(
        method, f"/v1/customers/{customer_id}/restriction", "/v1/customers/{customer_id}/restriction",
        params={"customer_id": customer_id}, headers=headers,
    )  # fmt: skip


@pytest.fixture
def customer(aws: Aws, clock: FixedClock) -> dict[str, Any]:
    return create_customer(timezone="America/New_York", locale="en-US", email="rhea@example.com")


def test_a_restricted_customer_gets_no_reminder_but_still_a_receipt(
    aws: Aws, clock: FixedClock, customer: dict[str, Any]
) -> None:
    invoices = [
        create_invoice(customer["id"], number="INV-91", amount_due=10_000, due_date="2027-03-15"),
        create_invoice(customer["id"], number="INV-92", amount_due=20_000, due_date="2027-03-15"),
    ]
    aws.drain_outbox()
    sent_before = len(aws.emails())
    restricted = restriction("POST", customer["id"])
    assert restricted["statusCode"] == 200, restricted["body"]
    assert json_body(restricted)["restricted_at"] is not None
    clock.instant = datetime(2027, 3, 8, 15, tzinfo=UTC)
    report = run()
    assert report["sent"] == 0 and report["withheld"] == 2
    deliver(completed(checkout_for(invoices[0], 10_000)))  # the customer pays: the receipt is owed
    aws.drain_outbox()
    [receipt] = aws.emails()[sent_before:]
    assert "INV-91" in receipt.subject
    aws.domain_events()
    lifted = restriction("DELETE", customer["id"], key=None)
    assert lifted["statusCode"] == 200 and json_body(lifted)["restricted_at"] is None
    assert run()["sent"] == 1  # the unpaid one, with the latest applicable step
    aws.drain_outbox()
    assert any("INV-92" in e.subject for e in aws.emails()[sent_before:])


def test_restricting_twice_is_the_same_and_tells_other_systems_once(aws: Aws, customer: dict[str, Any]) -> None:
    first = restriction("POST", customer["id"])
    again = restriction("POST", customer["id"], key="restrict-2")
    assert json_body(first) == json_body(again)
    aws.drain_outbox()
    names = [e["detail-type"] for e in aws.domain_events()]
    assert names.count("customer.restricted") == 1


def test_restriction_needs_a_key_and_a_known_customer(aws: Aws, customer: dict[str, Any]) -> None:
    assert restriction("POST", customer["id"], key=None)["statusCode"] == 400
    assert restriction("POST", "cust_nope")["statusCode"] == 404
    assert restriction("DELETE", "cust_nope", key=None)["statusCode"] == 404
    shown = operator(
        "GET", f"/v1/customers/{customer['id']}", "/v1/customers/{customer_id}", {"customer_id": customer["id"]}
    )
    assert json_body(shown)["restricted_at"] is None
