"""The customer's documents through a pay link: GET /pay/{token}/invoice.pdf and /pay/{token}/receipts/{id}."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from shared.clock import FixedClock
from tests.integration.conftest import Aws
from tests.integration.helpers import create_customer, create_invoice, operator, token_of
from tests.pdf_text import pdf_text
from tests.support import FakeLambdaContext, api_event, json_body


def get(path: str, resource: str, params: dict[str, str]) -> dict[str, Any]:
    from functions.checkout.handler import lambda_handler

    event = api_event("GET", path, resource=resource, path_parameters=params, operator=False)
    return lambda_handler(event, FakeLambdaContext())


def invoice_pdf(token: str) -> dict[str, Any]:
    return get(f"/pay/{token}/invoice.pdf", "/pay/{token}/invoice.pdf", {"token": token})


def receipt_pdf(token: str, payment_id: str) -> dict[str, Any]:
    path = f"/pay/{token}/receipts/{payment_id}"
    return get(path, "/pay/{token}/receipts/{payment_id}", {"token": token, "payment_id": payment_id})


def pdf_of(response: dict[str, Any]) -> bytes:
    assert response["statusCode"] == 200, response.get("body", "")[:200]
    assert response["isBase64Encoded"] is True
    return base64.b64decode(response["body"])


def cheque(invoice_id: str, amount: int, key: str) -> str:
    body = {"amount": amount, "method": "check", "reference": "1234", "received_on": "2027-03-01"}
    path = f"/v1/invoices/{invoice_id}/payments"
    response = operator(
        "POST",
        path,
        "/v1/invoices/{invoice_id}/payments",
        params={"invoice_id": invoice_id},
        body=body,
        headers={"Idempotency-Key": key},
    )
    assert response["statusCode"] == 201, response["body"]
    return str(json_body(response)["payment"]["id"])


@pytest.fixture
def invoice(aws: Aws, clock: FixedClock) -> dict[str, Any]:
    customer = create_customer(name="Lena Müller", locale="de-DE", timezone="Europe/Berlin")
    return create_invoice(customer["id"], currency="EUR", amount_due=123_456, allow_partial=True, due_date="2027-03-15")


def test_the_invoice_pdf_comes_through_its_pay_link(invoice: dict[str, Any]) -> None:
    response = invoice_pdf(token_of(invoice["pay_url"]))

    document = pdf_of(response)
    headers = {k.lower(): v[-1] for k, v in response["multiValueHeaders"].items()}
    assert headers["content-type"] == "application/pdf"
    assert headers["content-disposition"] == f'inline; filename="{invoice["number"]}.pdf"'
    assert headers["cache-control"] == "no-store" and headers["referrer-policy"] == "no-referrer"
    text = pdf_text(document)
    assert invoice["number"] in text and "Lena Müller" in text and "1.234,56\xa0€" in text
    assert f"Rechnung {invoice['number']}" in text and "Offener Betrag" in text  # in German, as she reads


def test_a_receipt_pdf_for_a_payment_of_the_links_invoice(invoice: dict[str, Any]) -> None:
    payment_id = cheque(invoice["id"], 34_456, "pay-1")

    text = pdf_text(pdf_of(receipt_pdf(token_of(invoice["pay_url"]), payment_id)))

    assert "Quittung" in text and "344,56\xa0€" in text and "890,00\xa0€" in text
    assert "Scheck, Referenz 1234" in text and "Zahlungsart" in text


def test_a_link_never_opens_another_invoices_receipt(invoice: dict[str, Any]) -> None:
    other = create_invoice(invoice["customer_id"], currency="EUR", amount_due=5_000)
    others_payment = cheque(other["id"], 5_000, "pay-other")

    response = receipt_pdf(token_of(invoice["pay_url"]), others_payment)

    assert response["statusCode"] == 404 and "<html" in response["body"]


@pytest.mark.parametrize("token", ["nope", "x" * 43, "a" * 500])
def test_an_unknown_link_gets_the_not_found_page_not_a_document(aws: Aws, token: str) -> None:
    assert invoice_pdf(token)["statusCode"] == 404
    assert receipt_pdf(token, "pi_1")["statusCode"] == 404
