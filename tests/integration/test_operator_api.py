"""Operator API over moto: what an operator's system sees."""

from __future__ import annotations

import uuid

import pytest

from tests.integration.conftest import Aws
from tests.integration.helpers import create_customer, create_invoice, get_invoice, operator, token_of
from tests.support import json_body


def test_an_operator_creates_a_customer_and_reads_it_back(aws: Aws) -> None:
    # Given a new customer
    created = create_customer(external_id="crm-42")
    # When the operator reads it back
    response = operator(
        "GET", f"/v1/customers/{created['id']}", "/v1/customers/{customer_id}", params={"customer_id": created["id"]}
    )
    # Then it is the same customer, and the creation is in the audit trail
    assert response["statusCode"] == 200
    assert json_body(response) | {"created_at": None} == created | {"created_at": None}
    assert [a["action"] for a in aws.items(f"CUSTOMER#{created['id']}") if a["sk"].startswith("AUDIT#")] == [
        "customer.created"
    ]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not-an-email", "name": "X"}, "email"),
        ({"email": "a@example.com", "name": ""}, "name"),
        ({"email": "a@example.com", "name": "X", "timezone": "Mars/Olympus"}, "timezone"),
        ({"email": "a@example.com", "name": "X", "locale": "zz-ZZ-invalid"}, "locale"),
        ({"email": "a@example.com", "name": "X", "surprise": 1}, "surprise"),
    ],
)
def test_bad_customer_input_is_a_422_naming_the_field(aws: Aws, body: dict[str, object], field: str) -> None:
    response = operator("POST", "/v1/customers", "/v1/customers", body=body)
    assert response["statusCode"] == 422
    assert field in [f["field"] for f in json_body(response)["error"]["fields"]]
    assert aws.items("CUSTOMER#") == []


def test_malformed_json_is_a_400(aws: Aws) -> None:
    response = operator(
        "POST", "/v1/customers", "/v1/customers", body="{not json", headers={"Content-Type": "application/json"}
    )
    assert response["statusCode"] == 400
    assert json_body(response)["error"]["code"] == "invalid_json"


def test_unknown_ids_are_404(aws: Aws) -> None:
    for path, resource, params in [
        ("/v1/customers/cust_nope", "/v1/customers/{customer_id}", {"customer_id": "cust_nope"}),
        ("/v1/invoices/inv_nope", "/v1/invoices/{invoice_id}", {"invoice_id": "inv_nope"}),
        (
            "/v1/customers/cust_nope/transactions",
            "/v1/customers/{customer_id}/transactions",
            {"customer_id": "cust_nope"},
        ),
    ]:
        response = operator("GET", path, resource, params=params)
        assert response["statusCode"] == 404, path
        assert json_body(response)["error"]["code"] == "not_found"


def test_creating_an_invoice_returns_it_open_with_a_working_pay_link(aws: Aws) -> None:
    customer = create_customer()
    invoice = create_invoice(customer["id"], allow_partial=True, min_partial_amount=1_000)
    assert invoice["status"] == "open"
    assert (invoice["amount_due"], invoice["amount_paid"], invoice["amount_remaining"]) == (12_500, 0, 12_500)
    assert invoice["pay_url"].startswith("https://pay.example.com/pay/")
    # Only the token's hash is stored, never the token
    token = token_of(invoice["pay_url"])
    assert len(token) >= 43
    assert not any(token in str(item) for item in aws.items(""))


def test_the_same_idempotency_key_and_body_replays_the_first_invoice(aws: Aws) -> None:
    customer = create_customer()
    key = uuid.uuid4().hex
    first = create_invoice(customer["id"], key=key, number="INV-REPLAY")
    again = create_invoice(customer["id"], key=key, number="INV-REPLAY")
    assert again["id"] == first["id"]
    assert len([i for i in aws.items("INVOICE#") if i["sk"] == "INVOICE"]) == 1


def test_the_same_key_with_another_body_is_a_422(aws: Aws) -> None:
    customer = create_customer()
    key = uuid.uuid4().hex
    create_invoice(customer["id"], key=key, number="INV-A")
    body = {
        "customer_id": customer["id"],
        "number": "INV-B",
        "currency": "USD",
        "amount_due": 1,
        "due_date": "2026-12-01",
    }
    response = operator("POST", "/v1/invoices", "/v1/invoices", body=body, headers={"Idempotency-Key": key})
    assert response["statusCode"] == 422
    assert json_body(response)["error"]["code"] == "idempotency_key_reused"


def test_an_invoice_without_an_idempotency_key_is_a_400(aws: Aws) -> None:
    customer = create_customer()
    body = {
        "customer_id": customer["id"],
        "number": "INV-1",
        "currency": "USD",
        "amount_due": 100,
        "due_date": "2026-12-01",
    }
    response = operator("POST", "/v1/invoices", "/v1/invoices", body=body)
    assert response["statusCode"] == 400
    assert json_body(response)["error"]["code"] == "idempotency_key_required"
    assert aws.items("INVOICE#") == []


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"currency": "XYZ"}, "currency"),
        ({"amount_due": 12.5}, "amount_due"),
        ({"amount_due": "1250"}, "amount_due"),
        ({"amount_due": 0}, "amount_due"),
        ({"amount_due": -5}, "amount_due"),
        ({"due_date": "next tuesday"}, "due_date"),
        ({"min_partial_amount": 100}, "body"),  # needs allow_partial
        ({"allow_partial": True, "min_partial_amount": 99_999}, "body"),  # above amount_due
        ({"number": ""}, "number"),
    ],
)
def test_bad_invoice_input_is_a_422_naming_the_field(aws: Aws, changes: dict[str, object], field: str) -> None:
    customer = create_customer()
    body = {
        "customer_id": customer["id"],
        "number": "INV-9",
        "currency": "USD",
        "amount_due": 500,
        "due_date": "2026-12-01",
    }
    response = operator("POST", "/v1/invoices", "/v1/invoices", body=body | changes, headers={"Idempotency-Key": "k1"})
    assert response["statusCode"] == 422, response["body"]
    assert field in [f["field"] for f in json_body(response)["error"]["fields"]]
    assert aws.items("INVOICE#") == []


def test_an_invoice_for_an_unknown_customer_is_a_404(aws: Aws) -> None:
    body = {
        "customer_id": "cust_nope",
        "number": "INV-9",
        "currency": "USD",
        "amount_due": 500,
        "due_date": "2026-12-01",
    }
    response = operator("POST", "/v1/invoices", "/v1/invoices", body=body, headers={"Idempotency-Key": "k2"})
    assert response["statusCode"] == 404


def test_invoice_numbers_are_unique(aws: Aws) -> None:
    customer = create_customer()
    create_invoice(customer["id"], number="INV-DUP")
    body = {
        "customer_id": customer["id"],
        "number": "INV-DUP",
        "currency": "USD",
        "amount_due": 5,
        "due_date": "2026-12-01",
    }
    response = operator("POST", "/v1/invoices", "/v1/invoices", body=body, headers={"Idempotency-Key": "other"})
    assert response["statusCode"] == 409
    assert json_body(response)["error"]["code"] == "duplicate_invoice_number"


def test_zero_decimal_currencies_take_whole_units(aws: Aws) -> None:
    customer = create_customer()
    invoice = create_invoice(customer["id"], currency="jpy", amount_due=5000)
    assert (invoice["currency"], invoice["amount_due"]) == ("JPY", 5000)


def test_voiding_an_open_invoice_and_then_it_cannot_be_paid(aws: Aws) -> None:
    customer = create_customer()
    invoice = create_invoice(customer["id"])
    response = operator(
        "POST",
        f"/v1/invoices/{invoice['id']}/void",
        "/v1/invoices/{invoice_id}/void",
        params={"invoice_id": invoice["id"]},
    )
    assert response["statusCode"] == 200
    assert json_body(response)["status"] == "void"
    assert get_invoice(invoice["id"])["status"] == "void"
    response = operator(
        "POST",
        f"/v1/invoices/{invoice['id']}/checkout-sessions",
        "/v1/invoices/{invoice_id}/checkout-sessions",
        params={"invoice_id": invoice["id"]},
    )
    assert response["statusCode"] == 409


def test_notify_queues_an_email_with_its_own_pay_link(aws: Aws) -> None:
    customer = create_customer(email="grace@example.com", name="Grace Hopper", locale="en-US")
    invoice = create_invoice(customer["id"], notify=True, amount_due=4_200)
    # When the outbox is delivered
    assert aws.drain_outbox() == {"batchItemFailures": []}
    # Then the customer got one email with a pay link that works, and amounts in their locale
    [email] = aws.emails()
    assert email.to == ["grace@example.com"]
    assert "$42.00" in email.subject
    assert "https://pay.example.com/pay/" in email.text
    assert token_of(invoice["pay_url"]) not in email.text  # a link of its own
    detail_types = [e["detail-type"] for e in aws.domain_events()]
    assert detail_types == ["invoice.created"]
