"""Unicode bidi controls never reach a pay page or an email: taken out where free text comes in, and again
where any template prints a value (for text stored before, or by another way in)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest

from shared.domain.text import BIDI_CONTROLS
from tests.integration.conftest import TABLE, Aws
from tests.integration.helpers import create_customer, create_invoice, get_invoice, operator, token_of
from tests.support import FakeLambdaContext, api_event, json_body

# "Consulting, invoice exe.FDP" shows as "Consulting, invoice PDF.exe" once U+202E reverses it.
SPOOFED = "Consulting \u202eexe.FDP\u202c \u2066x\u2069\u200e\u200f\u061c\u202a\u202b\u202d\u2067\u2068"
CLEAN = "Consulting exe.FDP x"


def no_bidi(text: str) -> bool:
    return BIDI_CONTROLS.isdisjoint(text)


def test_names_and_descriptions_are_stored_without_bidi_controls(aws: Aws) -> None:
    customer = create_customer(name="Ada \u202eecalevoL\u202c", external_id="ext-\u2066-1")
    assert (customer["name"], customer["external_id"]) == ("Ada ecalevoL", "ext--1")
    invoice = create_invoice(customer["id"], description=SPOOFED)
    assert get_invoice(invoice["id"])["description"] == CLEAN
    held = operator(
        "POST",
        f"/v1/invoices/{invoice['id']}/hold",
        "/v1/invoices/{invoice_id}/hold",
        params={"invoice_id": invoice["id"]},
        body={"reason": "disputed \u202eby phone"},
    )
    assert json_body(held)["hold"]["reason"] == "disputed by phone"
    stored = [i for i in aws.items("") if i["pk"] in (f"INVOICE#{invoice['id']}", f"CUSTOMER#{customer['id']}")]
    assert stored and all(no_bidi(str(item)) for item in stored)


def test_a_name_of_bidi_controls_only_is_no_name(aws: Aws) -> None:
    response = operator(
        "POST", "/v1/customers", "/v1/customers", body={"email": "a@example.com", "name": "\u202e\u202c"}
    )
    assert response["statusCode"] == 422
    assert [f["field"] for f in json_body(response)["error"]["fields"]] == ["name"]


def test_an_email_address_with_a_bidi_control_is_refused_not_altered(aws: Aws) -> None:
    body = {"email": "ada\u202e@example.com", "name": "Ada"}
    response = operator("POST", "/v1/customers", "/v1/customers", body=body)
    assert response["statusCode"] == 422
    assert [f["field"] for f in json_body(response)["error"]["fields"]] == ["email"]


def _smuggle(aws: Aws, pk: str, sk: str, attribute: str, value: str) -> None:
    """Text that got into the table another way (before input was cleaned, an import, a hand edit)."""
    aws.dynamodb.update_item(
        TableName=TABLE,
        Key={"pk": {"S": pk}, "sk": {"S": sk}},
        UpdateExpression="SET #a = :v",
        ExpressionAttributeNames={"#a": attribute},
        ExpressionAttributeValues={":v": {"S": value}},
    )


@pytest.fixture
def smuggled(aws: Aws) -> dict[str, Any]:
    customer = create_customer(email="grace@example.com", name="Grace Hopper", locale="en-US")
    invoice = create_invoice(customer["id"], notify=True, description="Consulting")
    _smuggle(aws, f"INVOICE#{invoice['id']}", "INVOICE", "description", SPOOFED)
    _smuggle(aws, f"CUSTOMER#{customer['id']}", "CUSTOMER", "name", "Grace \u202eRepoH")
    return invoice


def test_the_pay_page_neutralises_bidi_controls_already_stored(aws: Aws, smuggled: dict[str, Any]) -> None:
    from functions.checkout.handler import lambda_handler

    token = token_of(smuggled["pay_url"])
    event = api_event("GET", f"/pay/{token}", resource="/pay/{token}", path_parameters={"token": token}, operator=False)
    html = lambda_handler(event, FakeLambdaContext())["body"]
    assert CLEAN in html
    assert no_bidi(html)


def test_an_email_neutralises_bidi_controls_already_stored(aws: Aws, smuggled: dict[str, Any]) -> None:
    assert aws.drain_outbox() == {"batchItemFailures": []}
    [email] = aws.emails()
    assert "Hello Grace RepoH," in email.text and CLEAN in email.text
    assert CLEAN in email.html
    for part in (email.subject, email.text, email.html):
        assert no_bidi(part)


def test_amounts_formatted_for_a_right_to_left_locale_keep_their_direction_marks() -> None:
    from shared.rendering import render

    subject = render("emails/invoice_issued.subject.txt", invoice=_Invoice(), locale="ar-EG")
    assert "\u200f" in subject  # Babel's own mark before an Arabic amount: formatting, not free text


@dataclass
class _Invoice:
    number: str = "INV-1"
    amount_remaining: int = 12_345
    currency: str = "USD"
    due_date: date = date(2026, 12, 15)
