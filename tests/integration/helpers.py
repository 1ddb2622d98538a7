"""Calling the handlers the way API Gateway would."""

from __future__ import annotations

import uuid
from typing import Any

from tests.support import FakeLambdaContext, api_event, json_body


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
