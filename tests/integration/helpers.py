"""Calling the handlers the way API Gateway would."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from shared.domain.records import CheckoutAttempt
from shared.services.ports import Change
from tests.support import FakeLambdaContext, api_event, json_body, session_object, stripe_event, webhook_request


def operator(
    method: str, path: str, resource: str, params: dict[str, str] | None = None, **kwargs: Any
) -> dict[str, Any]:
    from functions.operator_api.handler import lambda_handler

    return lambda_handler(
        api_event(method, path, resource=resource, path_parameters=params, **kwargs), FakeLambdaContext()
    )


def create_customer(**overrides: Any) -> dict[str, Any]:
    body = {
        "email": "ada@example.com",
        "name": "Ada Lovelace",
        "timezone": "Europe/London",
        "locale": "en-GB",
    } | overrides
    response = operator("POST", "/v1/customers", "/v1/customers", body=body)
    assert response["statusCode"] == 201, response["body"]
    return dict(json_body(response))


def create_invoice(customer_id: str, *, key: str | None = None, **overrides: Any) -> dict[str, Any]:
    body = {
        "customer_id": customer_id,
        "number": f"INV-{uuid.uuid4().hex[:8]}",
        "currency": "USD",
        "amount_due": 12_500,
        "due_date": "2026-12-15",
        "description": "Consulting, November",
    } | overrides
    response = operator(
        "POST", "/v1/invoices", "/v1/invoices", body=body, headers={"Idempotency-Key": key or uuid.uuid4().hex}
    )
    assert response["statusCode"] == 201, response["body"]
    return dict(json_body(response))


def get_invoice(invoice_id: str) -> dict[str, Any]:
    response = operator(
        "GET", f"/v1/invoices/{invoice_id}", "/v1/invoices/{invoice_id}", params={"invoice_id": invoice_id}
    )
    assert response["statusCode"] == 200, response["body"]
    return dict(json_body(response))


def token_of(pay_url: str) -> str:
    return pay_url.rsplit("/pay/", 1)[1]


def deliver(event: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    from functions.webhooks.handler import lambda_handler

    return lambda_handler(webhook_request(event, **kwargs), FakeLambdaContext())


def checkout_for(invoice: dict[str, Any], amount: int, currency: str = "USD") -> CheckoutAttempt:
    """Given: a Checkout Session payportal created and recorded (as the pay page does)."""
    from shared.wiring import ledger

    attempt = CheckoutAttempt(
        ref=f"chk_{uuid.uuid4().hex}",
        invoice_id=invoice["id"],
        customer_id=invoice["customer_id"],
        session_id=f"cs_test_{uuid.uuid4().hex}",
        amount=amount,
        currency=currency,
        created_at=datetime.now(UTC),
    )
    ledger().commit(Change(checkout=attempt))
    return attempt


def completed(
    attempt: CheckoutAttempt, *, kind: str = "checkout.session.completed", **overrides: Any
) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "session_id": attempt.session_id,
        "invoice_id": attempt.invoice_id,
        "checkout_ref": attempt.ref,
        "amount": attempt.amount,
        "currency": attempt.currency.lower(),
        "payment_intent": f"pi_{attempt.ref[4:20]}",
    } | overrides
    return stripe_event(kind, session_object(**fields))
