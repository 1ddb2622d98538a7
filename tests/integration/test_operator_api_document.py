"""What docs/openapi.json claims, checked against the handler itself (the e2e schemathesis pass checks the
rest over HTTP): each claim here was once false."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import Aws
from tests.integration.helpers import create_customer, operator
from tests.support import json_body

DOCUMENT = json.loads((Path(__file__).parents[2] / "docs" / "openapi.json").read_text())
STEPS = [{"offset_days": -7, "template": "upcoming"}, {"offset_days": 3, "template": "overdue"}]


def operation(method: str, path: str) -> dict[str, Any]:
    return dict(DOCUMENT["paths"][path][method.lower()])


def idempotency_parameter(method: str, path: str) -> dict[str, Any]:
    return next(p for p in operation(method, path)["parameters"] if p["name"].lower() == "idempotency-key")


def window_schema() -> dict[str, Any]:
    return dict(DOCUMENT["components"]["schemas"]["DunningPolicyModel"]["properties"]["window_end"])


def invoice_body(customer_id: str) -> dict[str, Any]:
    return {
        "customer_id": customer_id,
        "number": f"INV-{uuid.uuid4().hex[:8]}",
        "currency": "USD",
        "amount_due": 12_500,
        "due_date": "2026-12-15",
    }


def recurring_body(customer_id: str) -> dict[str, Any]:
    return {
        "customer_id": customer_id,
        "amount": 1_000,
        "currency": "USD",
        "interval": "monthly",
        "start_date": "2027-01-01",
    }


def test_every_create_is_documented_as_the_201_it_answers(aws: Aws) -> None:
    customer = create_customer()  # asserts its 201
    key = {"Idempotency-Key": uuid.uuid4().hex}
    invoice = operator("POST", "/v1/invoices", "/v1/invoices", body=invoice_body(customer["id"]), headers=key)
    recurring = operator(
        "POST", "/v1/recurring-charges", "/v1/recurring-charges", body=recurring_body(customer["id"]), headers=key
    )
    assert (invoice["statusCode"], recurring["statusCode"]) == (201, 201)  # checkout's 201: test_operator_api.py
    for path in (
        "/v1/customers",
        "/v1/invoices",
        "/v1/recurring-charges",
        "/v1/invoices/{invoice_id}/checkout-sessions",
    ):
        successes = [status for status in operation("POST", path)["responses"] if status.startswith("2")]
        assert successes == ["201"], path


@pytest.mark.parametrize("path", ["/v1/invoices", "/v1/recurring-charges"])
@pytest.mark.parametrize("headers", [{}, {"Idempotency-Key": ""}, {"Idempotency-Key": "   "}])
def test_a_required_idempotency_key_is_documented_required_and_missing_is_our_400(
    aws: Aws, path: str, headers: dict[str, str]
) -> None:
    customer = create_customer()
    body = invoice_body(customer["id"]) if path == "/v1/invoices" else recurring_body(customer["id"])

    response = operator("POST", path, path, body=body, headers=headers)

    assert response["statusCode"] == 400, response["body"]
    assert json_body(response)["error"] == {
        "code": "idempotency_key_required",
        "message": "send an Idempotency-Key header (not blank)",
        "fields": [{"field": "Idempotency-Key", "message": "required"}],
    }
    parameter = idempotency_parameter("POST", path)
    assert parameter["required"] is True and parameter["in"] == "header"
    assert "400" in operation("POST", path)["responses"]


def test_the_key_stays_optional_on_customers_and_blank_is_still_our_400(aws: Aws) -> None:
    body = {"email": "ada@example.com", "name": "Ada Lovelace"}

    response = operator("POST", "/v1/customers", "/v1/customers", body=body, headers={"Idempotency-Key": " "})

    assert response["statusCode"] == 400 and json_body(response)["error"]["code"] == "idempotency_key_required"
    parameter = idempotency_parameter("POST", "/v1/customers")
    assert parameter.get("required", False) is False
    assert parameter["schema"]["type"] == "string"  # absent or a string, never null


@pytest.mark.parametrize("written", ["18:00", "18:00:00"])
def test_a_window_time_the_handler_accepts_is_valid_by_the_document(aws: Aws, written: str) -> None:
    response = operator("PUT", "/v1/dunning-policy", "/v1/dunning-policy", body={"steps": STEPS, "window_end": written})

    assert response["statusCode"] == 200, response["body"]
    schema = window_schema()
    assert (schema["type"], "format" in schema) == ("string", False)  # `format: time` would want an offset
    assert re.fullmatch(schema["pattern"], written)
    assert re.fullmatch(schema["pattern"], json_body(response)["window_end"])  # what it reads back, too


@pytest.mark.parametrize("written", ["18:00:30", "18:00Z", "18:00+05:00", "18:00:00.000", "1800", "24:00", 64800])
def test_a_window_time_the_handler_refuses_is_invalid_by_the_document(aws: Aws, written: Any) -> None:
    response = operator("PUT", "/v1/dunning-policy", "/v1/dunning-policy", body={"steps": STEPS, "window_end": written})

    assert response["statusCode"] == 422, response["body"]
    assert json_body(response)["error"]["fields"][0]["field"] == "window_end"
    assert not isinstance(written, str) or not re.fullmatch(window_schema()["pattern"], written)


@pytest.mark.parametrize(
    ("content_type", "raw"),
    [
        ("multipart/form-data", "--x\r\n"),
        ("multipart/form-data; boundary=x", '--x\r\nContent-Disposition: form-data; name="reason"\r\n\r\nhi\r\n--x--'),
        ("application/x-www-form-urlencoded", "reason=hi"),
        ("text/plain", '{"reason": "hi"}'),
    ],
)
def test_a_body_that_is_not_json_is_a_415_never_a_500(aws: Aws, content_type: str, raw: str) -> None:
    customer = create_customer()
    params = {"customer_id": customer["id"]}

    response = operator(
        "POST",
        f"/v1/customers/{customer['id']}/hold",
        "/v1/customers/{customer_id}/hold",
        params=params,
        body=raw,
        headers={"Content-Type": content_type},
    )

    assert response["statusCode"] == 415, response["body"]
    assert json_body(response)["error"]["code"] == "unsupported_media_type"
    assert "415" in operation("POST", "/v1/customers/{customer_id}/hold")["responses"]
    stored = operator("GET", f"/v1/customers/{customer['id']}", "/v1/customers/{customer_id}", params=params)
    assert json_body(stored)["hold"] is None


def test_json_with_a_charset_is_still_json(aws: Aws) -> None:
    customer = create_customer()

    response = operator(
        "POST",
        f"/v1/customers/{customer['id']}/hold",
        "/v1/customers/{customer_id}/hold",
        params={"customer_id": customer["id"]},
        body=json.dumps({"reason": "disputed by phone"}),
        headers={"Content-Type": "application/json; charset=utf-8"},
    )

    assert response["statusCode"] == 200, response["body"]


def test_sigv4_is_the_security_of_every_operation() -> None:
    scheme = DOCUMENT["components"]["securitySchemes"]["sigv4"]
    assert (scheme["type"], scheme["name"], scheme["in"]) == ("apiKey", "Authorization", "header")
    assert scheme["x-amazon-apigateway-authtype"] == "awsSigv4"
    assert DOCUMENT["security"] == [{"sigv4": []}]
    for path, operations in DOCUMENT["paths"].items():
        for method, described in operations.items():
            assert "security" not in described, f"{method} {path} overrides the global SigV4"
            assert "403" in described["responses"], f"{method} {path} does not document API Gateway's 403"


def test_errors_are_documented_in_the_shape_they_are_sent() -> None:
    text = json.dumps(DOCUMENT)
    assert "HTTPValidationError" not in text and '"detail"' not in json.dumps(DOCUMENT["paths"])
    error = DOCUMENT["components"]["schemas"]["ErrorDetail"]
    assert set(error["required"]) == {"code", "message", "fields"}
    for path, operations in DOCUMENT["paths"].items():
        for method, described in operations.items():
            for status, response in described["responses"].items():
                if status.startswith("4") and status != "403":
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/ErrorBody"}, f"{method} {path} {status}"
