"""A grouped reminder's pay-together link over moto and the local Stripe: one email for two overdue invoices, its
page (no script, the pay pages' headers, small), its one Pay button opening one Checkout Session for both."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
import requests

from shared.clock import FixedClock
from tests.integration.conftest import Aws
from tests.integration.helpers import create_customer, create_invoice
from tests.support import FakeLambdaContext, api_event

STRIPE_AUTH = ("sk_test_local", "")


def checkout_page(method: str, path: str, resource: str, params: dict[str, str], **kwargs: Any) -> dict[str, Any]:
    from functions.checkout.handler import lambda_handler

    event = api_event(method, path, resource=resource, path_parameters=params, operator=False, **kwargs)
    return lambda_handler(event, FakeLambdaContext())


def show(token: str) -> dict[str, Any]:
    return checkout_page("GET", f"/pay/together/{token}", "/pay/together/{token}", {"token": token})


def pay_all(token: str) -> dict[str, Any]:
    resource = "/pay/together/{token}/checkout"
    return checkout_page("POST", f"/pay/together/{token}/checkout", resource, {"token": token}, form={})


def headers(response: dict[str, Any]) -> dict[str, str]:
    merged = dict(response.get("headers") or {})
    for key, values in (response.get("multiValueHeaders") or {}).items():
        merged[key] = values[-1]
    return {k.lower(): v for k, v in merged.items()}


@pytest.fixture
def reminded(aws: Aws, clock: FixedClock) -> tuple[str, list[dict[str, Any]]]:
    """Given a customer with two overdue invoices, reminded by the dunning run: the one email's pay-together token."""
    from functions.reminders.handler import lambda_handler

    customer = create_customer(timezone="America/New_York", locale="en-US", email="two@example.com")
    invoices = [
        create_invoice(customer["id"], number="INV-91", amount_due=10_000, due_date="2027-03-15"),
        create_invoice(customer["id"], number="INV-92", amount_due=20_000, due_date="2027-03-15"),
    ]
    clock.instant = datetime(2027, 3, 22, 15, tzinfo=UTC)  # the overdue step for both
    assert lambda_handler({"source": "aws.scheduler", "detail": {}}, FakeLambdaContext())["sent"] == 2
    aws.drain_outbox()
    [email] = aws.emails()
    assert email.subject == "Reminder: 2 invoices to pay"
    assert "INV-91" in email.text and "INV-92" in email.text and email.text.count("/pay/") == 3
    token = re.findall(r"/pay/together/([A-Za-z0-9_-]+)", email.text)[0]
    return token, invoices


def test_the_page_lists_both_invoices_with_the_total_and_the_pay_pages_headers(
    reminded: tuple[str, list[dict[str, Any]]],
) -> None:
    token, _ = reminded

    response = show(token)

    assert response["statusCode"] == 200
    body = response["body"]
    assert "INV-91" in body and "INV-92" in body and "$300.00" in body
    assert "<script" not in body and len(body.encode()) < 30_000
    sent = headers(response)
    assert "default-src 'none'" in sent["content-security-policy"]
    assert sent["referrer-policy"] == "no-referrer" and "frame-ancestors 'none'" in sent["content-security-policy"]


def test_its_pay_button_opens_one_session_for_both(stripe: str, reminded: tuple[str, list[dict[str, Any]]]) -> None:
    token, _ = reminded

    response = pay_all(token)

    assert response["statusCode"] == 303
    location = headers(response)["location"]
    assert location.startswith(stripe) and token not in location
    session_id = location.rstrip("/").rsplit("/", 1)[-1]
    session = requests.get(f"{stripe}/v1/checkout/sessions/{session_id}", auth=STRIPE_AUTH, timeout=10).json()
    assert session["amount_total"] == 30_000 and set(session["metadata"]) == {"combined_ref", "customer_id"}
    assert token not in str(session)
    # And a second click hands out the same session
    assert headers(pay_all(token))["location"] == location


@pytest.mark.parametrize("token", ["x", "A" * 43, "%00", "a" * 200])
def test_unknown_tokens_get_the_not_found_page(aws: Aws, token: str) -> None:
    response = show(token)
    assert response["statusCode"] == 404 and "<script" not in response["body"]
    assert pay_all(token)["statusCode"] == 404


def test_the_return_page_says_processing_until_the_webhook_lands(
    stripe: str, reminded: tuple[str, list[dict[str, Any]]]
) -> None:
    token, _ = reminded
    pay_all(token)
    from shared.wiring import ledger

    table = ledger()
    [ref] = [i["ref"] for i in _combined_items()]
    assert table.get_combined_checkout(ref) is not None

    response = checkout_page("GET", f"/pay/together/return/{ref}", "/pay/together/return/{ref}", {"ref": ref})

    assert response["statusCode"] == 200 and "processing" in response["body"]
    unknown = checkout_page("GET", "/pay/together/return/cmb_x", "/pay/together/return/{ref}", {"ref": "cmb_x"})
    assert unknown["statusCode"] == 404


def _combined_items() -> list[dict[str, Any]]:
    from shared.adapters.aws import client
    from shared.adapters.dynamodb.codec import deserialize
    from tests.integration.conftest import TABLE

    pages = client("dynamodb").get_paginator("scan").paginate(TableName=TABLE)
    found = [deserialize(i) for page in pages for i in page["Items"]]
    return [i for i in found if i.get("type") == "combined_checkout"]
