"""Currencies at the Stripe boundary, over moto and the local Stripe front (issue 10, defect 6): amounts
reach Stripe in Stripe's form and come back in ours, and what Stripe can never charge is refused when the
invoice is created, with a 422 that says why."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import requests
import stripe as stripe_sdk

from shared.adapters.stripe_gateway import StripeGateway
from shared.domain.errors import RefundRefused
from shared.domain.records import RefundStatus
from shared.services.gateway import RefundRequest
from tests.integration.conftest import STRIPE_KEY, Aws
from tests.integration.helpers import (
    checkout_for,
    completed,
    create_customer,
    create_invoice,
    deliver,
    get_invoice,
    operator,
    token_of,
)
from tests.integration.test_pay_pages import headers, pay
from tests.support import json_body


def post_invoice(customer_id: str, **overrides: Any) -> dict[str, Any]:
    body = {
        "customer_id": customer_id,
        "number": f"INV-{uuid.uuid4().hex[:8]}",
        "currency": "USD",
        "amount_due": 12_500,
        "due_date": "2026-12-15",
    } | overrides
    return operator("POST", "/v1/invoices", "/v1/invoices", body=body, headers={"Idempotency-Key": uuid.uuid4().hex})


def post_recurring(customer_id: str, **overrides: Any) -> dict[str, Any]:
    body = {"customer_id": customer_id, "amount": 2_500, "currency": "USD", "interval": "monthly",
            "start_date": "2027-02-15", "count": 3} | overrides  # fmt: skip
    return operator(
        "POST",
        "/v1/recurring-charges",
        "/v1/recurring-charges",
        body=body,
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )


def session_of(stripe: str, response: dict[str, Any]) -> dict[str, Any]:
    session_id = headers(response)["location"].rstrip("/").rsplit("/", 1)[1]
    return dict(
        requests.get(f"{stripe}/v1/checkout/sessions/{session_id}", auth=("sk_test_local", ""), timeout=10).json()
    )


def test_an_isk_5000_invoice_reaches_stripe_as_500000_and_its_checkout_shows_isk_5000(stripe: str, aws: Aws) -> None:
    # Given an ISK 5,000 invoice (ISK has no decimals: 5000 in our minor unit)
    invoice = create_invoice(create_customer()["id"], currency="ISK", amount_due=5_000)
    # When the customer pays it
    response = pay(token_of(invoice["pay_url"]))
    assert response["statusCode"] == 303, response["body"]
    # Then Stripe is asked for 500000, which it reads as ISK 5,000.00 (not ISK 50)
    session = session_of(stripe, response)
    assert (session["amount_total"], session["currency"]) == (500_000, "isk")
    # And we record what we expect in our own unit
    [recorded] = [i for i in aws.items(f"INVOICE#{invoice['id']}") if i["sk"].startswith("CHECKOUT#")]
    assert (recorded["amount"], recorded["currency"]) == (5_000, "ISK")
    # And the local Stripe's checkout page shows the figure Stripe would
    page = requests.get(headers(response)["location"], timeout=10).text
    assert "ISK5,000" in page  # Babel's en_US spelling
    assert "500,000" not in page


def test_a_completed_session_for_isk_500000_records_isk_5000_paid(aws: Aws) -> None:
    # Given an ISK 5,000 invoice and the session the pay page recorded for it
    invoice = create_invoice(create_customer()["id"], currency="ISK", amount_due=5_000)
    attempt = checkout_for(invoice, 5_000, currency="ISK")
    # When Stripe reports the session paid, in its form: 500000
    response = deliver(completed(attempt, amount=500_000))
    # Then ISK 5,000 is recorded and the invoice is paid, no more and no less
    assert json_body(response)["outcome"] == "applied", response["body"]
    after = get_invoice(invoice["id"])
    assert (after["status"], after["amount_paid"], after["amount_remaining"]) == ("paid", 5_000, 0)
    assert [(p["amount"], p["status"]) for p in after["payments"]] == [(5_000, "succeeded")]


def test_the_same_session_reported_as_5000_is_a_mismatch_not_a_payment(aws: Aws) -> None:
    # 5000 at Stripe is ISK 50: it must never mark an ISK 5,000 invoice paid
    invoice = create_invoice(create_customer()["id"], currency="ISK", amount_due=5_000)
    attempt = checkout_for(invoice, 5_000, currency="ISK")
    deliver(completed(attempt, amount=5_000))
    after = get_invoice(invoice["id"])
    assert (after["status"], after["amount_paid"]) == ("open", 0)


def test_bhd_1234_is_refused_at_creation_with_a_422_that_says_why(aws: Aws) -> None:
    customer = create_customer()
    response = post_invoice(customer["id"], currency="BHD", amount_due=1_234)
    assert response["statusCode"] == 422, response["body"]
    error = json_body(response)["error"]
    assert error["code"] == "amount_not_chargeable"
    assert "1234 is not a chargeable BHD amount" in error["message"] and "multiples of 10" in error["message"]
    assert "1230 or 1240" in error["message"]
    assert error["fields"] == [{"field": "amount_due", "message": error["message"]}]
    # And BHD 1.230 is fine
    assert post_invoice(customer["id"], currency="BHD", amount_due=1_230)["statusCode"] == 201


def test_a_minimum_partial_amount_stripe_cannot_charge_is_refused_too(aws: Aws) -> None:
    response = post_invoice(
        create_customer()["id"], currency="KWD", amount_due=50_000, allow_partial=True, min_partial_amount=1_005
    )
    assert response["statusCode"] == 422
    assert json_body(response)["error"]["fields"][0]["field"] == "min_partial_amount"


@pytest.mark.parametrize(
    ("currency", "why"),
    [
        ("XAU", "precious metal"),
        ("XTS", "reserved for testing"),
        ("XXX", "no currency"),
        ("DEM", "withdrawn currency"),
        ("ZWD", "withdrawn currency"),
        ("USN", "fund or accounting unit"),
    ],
)
def test_currencies_stripe_can_never_charge_are_refused_with_a_422_that_says_why(
    aws: Aws, currency: str, why: str
) -> None:
    customer = create_customer()
    response = post_invoice(customer["id"], currency=currency)
    assert response["statusCode"] == 422, response["body"]
    error = json_body(response)["error"]
    assert error["code"] == "currency_not_chargeable"
    assert error["message"].startswith(f"{currency} cannot be charged") and why in error["message"]
    assert error["fields"][0]["field"] == "currency"
    # Nor can a recurring charge be set up in it
    refused = post_recurring(customer["id"], currency=currency)
    assert refused["statusCode"] == 422 and json_body(refused)["error"]["code"] == "currency_not_chargeable"


def test_a_recurring_charge_of_an_amount_stripe_cannot_charge_is_refused(aws: Aws) -> None:
    response = post_recurring(create_customer()["id"], currency="OMR", amount=2_505)
    assert response["statusCode"] == 422
    assert json_body(response)["error"]["code"] == "amount_not_chargeable"


def test_a_partial_payment_typed_in_bhd_must_be_chargeable(stripe: str, aws: Aws) -> None:
    # Given a BHD invoice open to partial payments
    invoice = create_invoice(
        create_customer()["id"], currency="BHD", amount_due=12_340, allow_partial=True, min_partial_amount=1_000
    )
    token = token_of(invoice["pay_url"])
    # When the customer types 1.234 BHD, the page says why it cannot be paid, and nothing reaches Stripe
    refused = pay(token, {"amount": "1.234"})
    assert refused["statusCode"] == 422
    assert "0.010 BHD" in refused["body"] and 'role="alert"' in refused["body"]
    assert not [i for i in aws.items(f"INVOICE#{invoice['id']}") if i["sk"].startswith("CHECKOUT#")]
    # And 1.230 BHD goes to Stripe as 1230
    accepted = pay(token, {"amount": "1.230"})
    assert accepted["statusCode"] == 303
    assert session_of(stripe, accepted)["amount_total"] == 1_230


def test_a_refund_of_isk_2000_reaches_stripe_as_200000_once_per_key_and_more_is_refused(stripe: str, aws: Aws) -> None:
    # Given an ISK 5,000 payment at the local Stripe (500000 there)
    client = stripe_sdk.StripeClient(STRIPE_KEY, base_addresses={"api": stripe})
    session = client.v1.checkout.sessions.create(
        params={
            "mode": "payment",
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {"currency": "isk", "unit_amount": 500_000, "product_data": {"name": "INV"}},
                }
            ],
            "success_url": "http://127.0.0.1/done",
            "cancel_url": "http://127.0.0.1/cancel",
        }
    )
    paid = requests.post(
        f"{stripe}/checkout/{session.id}/pay",
        data={"card_number": "4242 4242 4242 4242", "expiry": "12 / 34", "cvc": "123"},
        allow_redirects=False,
        timeout=10,
    )
    assert paid.status_code == 303
    intent = str(client.v1.checkout.sessions.retrieve(session.id).payment_intent)
    gateway = StripeGateway(STRIPE_KEY, api_base=stripe)
    ask = RefundRequest(
        intent, 2_000, "ISK", "requested_by_customer", {"refund_ref": "rfq_1"}, "payportal-refund-rfq_1"
    )

    # When payportal refunds ISK 2,000, twice under one key
    first, again = gateway.create_refund(ask), gateway.create_refund(ask)

    # Then Stripe refunded 200000 once, and we read it back as ISK 2,000
    assert first == again and (first.amount, first.status) == (2_000, RefundStatus.SUCCEEDED)
    assert client.v1.refunds.retrieve(first.id).amount == 200_000
    with pytest.raises(RefundRefused):
        gateway.create_refund(RefundRequest(intent, 3_001, "ISK", "duplicate", {}, "payportal-refund-rfq_2"))
