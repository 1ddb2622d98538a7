"""GET /v1/customers/{id}/export over moto: everything about one customer as JSON or a zip with the PDFs, never
another customer's records, and each export recorded under the customer with the reader's identity."""

from __future__ import annotations

import base64
import io
import json
import zipfile
from typing import Any

import pytest

from functions.operator_api.schemas import CustomerExport
from shared.clock import FixedClock
from tests.integration.conftest import Aws
from tests.integration.helpers import create_customer, create_invoice, operator
from tests.pdf_text import pdf_text
from tests.support import OPERATOR_ARN, json_body


def export(customer_id: str, **query: str) -> dict[str, Any]:
    return operator(
        "GET",
        f"/v1/customers/{customer_id}/export",
        "/v1/customers/{customer_id}/export",
        params={"customer_id": customer_id},
        query=query or None,
    )


def cheque(invoice_id: str, amount: int, key: str) -> str:
    body = {"amount": amount, "method": "check", "reference": "1234", "received_on": "2027-03-01"}
    response = operator(
        "POST", f"/v1/invoices/{invoice_id}/payments", "/v1/invoices/{invoice_id}/payments",
        params={"invoice_id": invoice_id}, body=body, headers={"Idempotency-Key": key},
    )  # fmt: skip
    assert response["statusCode"] == 201, response["body"]
    return str(json_body(response)["payment"]["id"])


@pytest.fixture
def customers(aws: Aws, clock: FixedClock) -> tuple[dict[str, Any], dict[str, Any], str]:
    """Given: Ada with two invoices (one part paid by cheque, its receipt emailed) and Grace with one."""
    ada = create_customer(name="Ada Lovelace", email="ada@example.com")
    grace = create_customer(name="Grace Hopper", email="grace@example.com")
    first = create_invoice(ada["id"], number="INV-A1", amount_due=12_500, allow_partial=True)
    create_invoice(ada["id"], number="INV-A2", amount_due=3_000)
    create_invoice(grace["id"], number="INV-G1", amount_due=9_900)
    payment_id = cheque(first["id"], 2_500, "pay-a1")
    aws.drain_outbox()
    return ada, grace, payment_id


def test_the_json_export_holds_the_customer_their_invoices_payments_emails_and_trails(
    aws: Aws, customers: tuple[dict[str, Any], dict[str, Any], str]
) -> None:
    ada, grace, payment_id = customers

    response = export(ada["id"])

    assert response["statusCode"] == 200, response["body"]
    headers = {k.lower(): v[-1] for k, v in response["multiValueHeaders"].items()}
    assert headers["content-type"] == "application/json"
    assert headers["content-disposition"] == f'attachment; filename="export-{ada["id"]}.json"'
    document = json.loads(response["body"])
    assert document["customer"]["name"] == "Ada Lovelace" and document["customer"]["email"] == "ada@example.com"
    assert sorted(i["number"] for i in document["invoices"]) == ["INV-A1", "INV-A2"]
    paid = next(i for i in document["invoices"] if i["number"] == "INV-A1")
    assert [(p["key"], p["amount"], p["currency"]) for p in paid["payments"]] == [(payment_id, 2_500, "USD")]
    assert sorted(a["action"] for a in paid["audit"]) == ["invoice.created", "payment.recorded"]
    created = next(a for a in document["audit"] if a["action"] == "customer.created")
    assert created["actor"] == OPERATOR_ARN  # the operator's own copy names who did what
    templates = sorted(e["template"] for e in document["emails_sent"])
    assert templates == ["receipt"]
    assert document["emails_sent"][0]["subject"] == "Receipt: US$25.00 for invoice INV-A1"
    assert all(e["subject"] and "@" not in json.dumps(e) for e in document["emails_sent"])
    # the document is what the OpenAPI document says
    CustomerExport.model_validate(document)
    # never another customer's record
    assert "Grace" not in response["body"] and "INV-G1" not in response["body"] and grace["id"] not in response["body"]


def test_each_export_is_audited_under_the_customer_with_the_readers_identity(
    aws: Aws, customers: tuple[dict[str, Any], dict[str, Any], str]
) -> None:
    ada, _, _ = customers

    export(ada["id"])

    path, resource = f"/v1/customers/{ada['id']}/audit", "/v1/customers/{customer_id}/audit"
    trail = operator("GET", path, resource, params={"customer_id": ada["id"]})
    exported = [e for e in json_body(trail)["data"] if e["action"] == "customer.exported"]
    assert [(e["actor"], e["details"]) for e in exported] == [(OPERATOR_ARN, {"via": "api"})]
    # and a second export shows the first one's read in its trail
    assert any(a["action"] == "customer.exported" for a in json.loads(export(ada["id"])["body"])["audit"])


def test_the_zip_holds_the_json_and_every_invoice_receipt_and_the_statement_as_pdfs(
    aws: Aws, customers: tuple[dict[str, Any], dict[str, Any], str]
) -> None:
    ada, _, payment_id = customers

    response = export(ada["id"], format="zip")

    assert response["statusCode"] == 200 and response["isBase64Encoded"] is True, response["body"]
    archive = zipfile.ZipFile(io.BytesIO(base64.b64decode(response["body"])))
    names = sorted(archive.namelist())
    assert names == sorted(
        ["export.json", "invoices/INV-A1.pdf", "invoices/INV-A2.pdf", f"receipts/INV-A1-{payment_id}.pdf",
         "statement.pdf"]
    )  # fmt: skip
    assert json.loads(archive.read("export.json"))["customer"]["id"] == ada["id"]
    assert "INV-A1" in pdf_text(archive.read("invoices/INV-A1.pdf"))
    assert "Cheque, reference 1234" in pdf_text(archive.read(f"receipts/INV-A1-{payment_id}.pdf"))
    statement = pdf_text(archive.read("statement.pdf"))
    assert "INV-A2" in statement and "INV-G1" not in statement


@pytest.mark.parametrize("customer_id", ["cust_nope", "x" * 2000, "../../etc", "CUSTOMER#x"])
def test_an_unknown_or_hostile_id_is_a_404(aws: Aws, customer_id: str) -> None:
    response = export(customer_id)

    assert response["statusCode"] == 404
    assert json_body(response)["error"]["code"] == "not_found"


@pytest.mark.parametrize("value", ["pdf", "", "ZIP"])
def test_a_format_that_is_not_json_or_zip_is_a_422(
    aws: Aws, customers: tuple[dict[str, Any], dict[str, Any], str], value: str
) -> None:
    ada, _, _ = customers

    assert export(ada["id"], format=value)["statusCode"] == 422
