"""Operator requests no one should send: always a 4xx in our error shape, never a 500."""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any

import pytest

from tests.integration.conftest import Aws
from tests.integration.helpers import checkout_for, completed, create_customer, create_invoice, deliver, operator
from tests.support import FakeLambdaContext, api_event, json_body


def send_bytes(method: str, path: str, resource: str, raw: bytes, params: dict[str, str] | None = None) -> Any:
    """A request whose body is exactly `raw` (API Gateway hands bodies it cannot decode over in base64)."""
    from functions.operator_api.handler import lambda_handler

    headers = {"Content-Type": "application/json", "Idempotency-Key": uuid.uuid4().hex}
    event = api_event(method, path, resource=resource, path_parameters=params, headers=headers)
    event["body"], event["isBase64Encoded"] = base64.b64encode(raw).decode(), True
    return lambda_handler(event, FakeLambdaContext())


def error_of(response: dict[str, Any]) -> dict[str, Any]:
    body = json_body(response)
    assert set(body) == {"error"} and {"code", "message", "fields"} <= set(body["error"]), body
    return dict(body["error"])


def invoice_body(customer_id: str, **changes: Any) -> dict[str, Any]:
    return {
        "customer_id": customer_id,
        "number": f"INV-{uuid.uuid4().hex[:8]}",
        "currency": "USD",
        "amount_due": 12_500,
        "due_date": "2026-12-15",
    } | changes


@pytest.mark.parametrize(
    ("path", "resource", "raw"),
    [
        ("/v1/invoices", "/v1/invoices", b'{"customer_id": "\xff\xfe", "number": "INV-1"}'),
        ("/v1/customers", "/v1/customers", b'{"email": "a@example.com", "name": "\xc3"}'),
        ("/v1/recurring-charges", "/v1/recurring-charges", b"\x80\x81\x82"),
    ],
)
def test_a_body_that_is_not_utf8_is_a_400(aws: Aws, path: str, resource: str, raw: bytes) -> None:
    response = send_bytes("POST", path, resource, raw)
    assert response["statusCode"] == 400
    assert error_of(response)["code"] == "invalid_body"


@pytest.mark.parametrize(
    ("method", "path", "resource", "body"),
    [
        # Powertools would take an array's first element as the object: a well-formed customer inside one
        (
            "POST",
            "/v1/customers",
            "/v1/customers",
            [{"email": "array@example.com", "name": "In An Array", "external_id": "in-an-array"}],
        ),
        ("POST", "/v1/customers", "/v1/customers", []),
        ("POST", "/v1/invoices", "/v1/invoices", "a string"),
        ("PUT", "/v1/dunning-policy", "/v1/dunning-policy", 12),
        ("POST", "/v1/recurring-charges", "/v1/recurring-charges", None),
    ],
)
def test_a_json_body_that_is_not_an_object_is_a_422(
    aws: Aws, method: str, path: str, resource: str, body: object
) -> None:
    response = send_bytes(method, path, resource, json.dumps(body).encode())
    assert response["statusCode"] == 422
    error = error_of(response)
    assert (error["code"], error["fields"]) == (
        "validation_error",
        [{"field": "body", "message": "the body must be a JSON object"}],
    )
    if body and isinstance(body, list):  # and nothing was created from the array's first element
        found = operator("GET", "/v1/customers", "/v1/customers", query={"external_id": "in-an-array"})
        assert (found["statusCode"], json_body(found)["customers"]) == (200, [])


@pytest.mark.parametrize("raw", [b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 100_000 + b"1" + b"}" * 100_000])
def test_json_nested_deeper_than_we_read_is_a_400(aws: Aws, raw: bytes) -> None:
    response = send_bytes("POST", "/v1/invoices", "/v1/invoices", raw)
    assert response["statusCode"] == 400
    assert error_of(response)["code"] == "invalid_json"


@pytest.mark.parametrize("digits", [5_000, 50, 31])
def test_an_amount_with_thousands_of_digits_is_a_422_naming_the_field(aws: Aws, digits: int) -> None:
    customer = create_customer()
    raw = json.dumps(invoice_body(customer["id"])).replace('"amount_due": 12500', '"amount_due": ' + "9" * digits)
    response = send_bytes("POST", "/v1/invoices", "/v1/invoices", raw.encode())
    assert response["statusCode"] == 422
    assert [f["field"] for f in error_of(response)["fields"]] == ["amount_due"]


def test_huge_numbers_in_other_fields_are_a_422_too(aws: Aws) -> None:
    policy = '{"steps": [{"offset_days": ' + "9" * 5_000 + ', "template": "overdue"}]}'
    response = send_bytes("PUT", "/v1/dunning-policy", "/v1/dunning-policy", policy.encode())
    assert response["statusCode"] == 422
    assert [f["field"] for f in error_of(response)["fields"]] == ["steps.0.offset_days"]


@pytest.mark.parametrize("due_date", ["0001-01-01", "9999-12-31", "1999-12-31", "2100-01-01"])
def test_a_due_date_out_of_range_is_a_422_naming_the_field(aws: Aws, due_date: str) -> None:
    customer = create_customer()
    response = operator(
        "POST",
        "/v1/invoices",
        "/v1/invoices",
        body=invoice_body(customer["id"], due_date=due_date),
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert response["statusCode"] == 422, response["body"]
    [field] = error_of(response)["fields"]
    assert field["field"] == "due_date" and "2000-01-01" in field["message"]


@pytest.mark.parametrize("start_date", ["0001-01-01", "9999-12-31"])
def test_a_recurring_charge_starting_out_of_range_is_a_422(aws: Aws, start_date: str) -> None:
    customer = create_customer()
    body = {
        "customer_id": customer["id"],
        "amount": 1_000,
        "currency": "USD",
        "interval": "yearly",
        "start_date": start_date,
    }
    response = operator("POST", "/v1/recurring-charges", "/v1/recurring-charges", body=body)
    assert response["statusCode"] == 422, response["body"]
    assert [f["field"] for f in error_of(response)["fields"]] == ["start_date"]


@pytest.mark.parametrize("until", ["9999-12-31T23:59:59+00:00", "0001-01-01T00:00:00-05:00"])
def test_a_hold_until_a_date_out_of_range_is_a_422(aws: Aws, until: str) -> None:
    customer = create_customer()
    response = operator(
        "POST",
        f"/v1/customers/{customer['id']}/hold",
        "/v1/customers/{customer_id}/hold",
        params={"customer_id": customer["id"]},
        body={"reason": "talking to them", "until": until},
    )
    assert response["statusCode"] == 422, response["body"]
    assert [f["field"] for f in error_of(response)["fields"]] == ["until"]


def _cursor(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def _bad_cursors(owner: str, real: dict[str, Any]) -> dict[str, str]:
    index = {"gsi1pk": {"S": owner}, "gsi1sk": real["gsi1sk"]}
    return {
        "not base64": "!!!",
        "not json": base64.urlsafe_b64encode(b"\xff\xfe{").decode(),
        "a list": _cursor([1, 2]),
        "null": _cursor(None),
        "a string": _cursor("x"),
        "the index keys only": _cursor(index),
        "a number key": _cursor(real | {"pk": {"N": "1"}}),
        "a key that is no string": _cursor(real | {"pk": {"S": 5}}),
        "an empty key": _cursor(real | {"sk": {"S": ""}}),
        "two types at once": _cursor(real | {"sk": {"S": "x", "N": "1"}}),
        "another index's key too": _cursor(real | {"gsi2pk": {"S": "DUE#0"}}),
        "deep": _cursor(json.loads("[" * 300 + "]" * 300)),
    }


def test_transaction_cursors_of_the_wrong_shape_are_a_400(aws: Aws) -> None:
    customer = create_customer()
    invoice = create_invoice(customer["id"], allow_partial=True, min_partial_amount=100)
    for amount in (1_000, 2_000):
        deliver(completed(checkout_for(invoice, amount)))
        time.sleep(0.01)
    path, resource = f"/v1/customers/{customer['id']}/transactions", "/v1/customers/{customer_id}/transactions"
    params = {"customer_id": customer["id"]}
    first = json_body(operator("GET", path, resource, params=params, query={"limit": "1"}))
    real = json.loads(base64.urlsafe_b64decode(first["next_cursor"] + "=" * (-len(first["next_cursor"]) % 4)))
    assert set(real) == {"pk", "sk", "gsi1pk", "gsi1sk"}  # what a cursor we hand out holds
    for name, cursor in _bad_cursors(f"CUSTOMER#{customer['id']}", real).items():
        response = operator("GET", path, resource, params=params, query={"cursor": cursor})
        assert response["statusCode"] == 400, name
        assert error_of(response)["code"] == "invalid_cursor", name
    # and the real one still reads the next page
    response = operator("GET", path, resource, params=params, query={"cursor": first["next_cursor"]})
    assert [p["amount"] for p in json_body(response)["data"]] == [1_000]


@pytest.mark.parametrize("timezone", ["America", "Europe", "Mars/Olympus", "../etc/passwd", ""])
def test_a_time_zone_that_is_no_zone_is_a_422_naming_the_field(aws: Aws, timezone: str) -> None:
    """ "America" is a folder of zones: opening it raised IsADirectoryError, a 500, before zones were checked
    for it too."""
    body = {"email": "tz@example.com", "name": "Tee Zed", "timezone": timezone}
    response = operator("POST", "/v1/customers", "/v1/customers", body=body)
    assert response["statusCode"] == 422, response["body"]
    assert [f["field"] for f in error_of(response)["fields"]] == ["timezone"]
