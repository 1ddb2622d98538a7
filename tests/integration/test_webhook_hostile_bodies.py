"""Correctly signed webhook bodies that are no Stripe event we can apply: never a 5xx.

The rule (docs/decisions.md, entry 34): a body whose signature fails, or that is not JSON at all, is a 400;
a signed JSON body we can never apply is a 200 with `"ignored"` (a 4xx or 5xx would be retried by Stripe
for three days, and it will never read better), counted in the `WebhookEventsUnreadable` metric.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.adapters.stripe_signature import sign
from tests.integration.conftest import Aws
from tests.integration.helpers import checkout_for, completed, create_customer, create_invoice, deliver, get_invoice
from tests.support import WEBHOOK_SECRET, FakeLambdaContext, api_event, json_body, stripe_event


def post_signed(raw: bytes) -> dict[str, Any]:
    """Stripe's delivery of exactly these bytes, correctly signed."""
    from functions.webhooks.handler import lambda_handler

    request = api_event(
        "POST",
        "/webhooks/stripe",
        body=base64.b64encode(raw).decode(),
        headers={"Stripe-Signature": sign(raw, WEBHOOK_SECRET, int(time.time())), "Content-Type": "application/json"},
        operator=False,
        base64_body=False,  # encoded here already: the raw bytes need not be UTF-8
    )
    request["isBase64Encoded"] = True
    return lambda_handler(request, FakeLambdaContext())


@pytest.fixture
def invoice(aws: Aws) -> dict[str, Any]:
    customer = create_customer(email="pat@example.com", name="Pat Payer", locale="en-US", timezone="America/New_York")
    return create_invoice(customer["id"], amount_due=10_000, allow_partial=True, min_partial_amount=1_000)


@pytest.mark.parametrize("raw", [b"[1,2,3]", b"null", b'"evt"', b"42", b"true", b'{"hello": "world"}', b"{}"])
def test_signed_json_that_is_not_an_event_is_ignored_with_a_200(aws: Aws, raw: bytes) -> None:
    response = post_signed(raw)
    assert response["statusCode"] == 200
    assert json_body(response) == {"received": True, "ignored": "not_a_stripe_event"}
    assert aws.items("EVENT#") == []


@pytest.mark.parametrize("created", ["1e400", "-1e400", "1" + "0" * 400, "-5", "253402300800", "1.5", '"1700000000"'])
def test_a_created_that_is_no_timestamp_is_ignored_with_a_200(aws: Aws, invoice: dict[str, Any], created: str) -> None:
    event = completed(checkout_for(invoice, 10_000))
    raw = json.dumps(event).replace(f'"created": {event["created"]}', f'"created": {created}')
    response = post_signed(raw.encode())
    assert response["statusCode"] == 200
    assert json_body(response)["ignored"] == "not_a_stripe_event"
    assert get_invoice(invoice["id"])["amount_paid"] == 0


@pytest.mark.parametrize(
    "raw",
    [
        b"[" * 100_000 + b"]" * 100_000,
        b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
        b'{"id": "evt_\xff"}',  # not UTF-8
        b"",
        b"{",
    ],
    ids=["deep-array", "deep-object", "not-utf8", "empty", "truncated"],
)
def test_a_signed_body_that_is_not_json_is_a_400(aws: Aws, raw: bytes) -> None:
    response = post_signed(raw)
    assert response["statusCode"] == 400
    assert json_body(response)["error"]["code"] == "invalid_json"


@pytest.mark.parametrize("metadata", [[1, 2], "inv_1", 42, None, {"invoice_id": {"a": 1}, "checkout_ref": [1]}])
def test_metadata_of_the_wrong_type_is_ignored_and_moves_no_money(
    aws: Aws, invoice: dict[str, Any], metadata: object
) -> None:
    event = completed(checkout_for(invoice, 10_000))
    event["data"]["object"]["metadata"] = metadata
    response = deliver(event)
    assert response["statusCode"] == 200
    assert json_body(response)["outcome"] == "ignored"
    assert get_invoice(invoice["id"])["amount_paid"] == 0


@pytest.mark.parametrize("error", [[1, 2], "card_declined", 7, {"code": 5, "decline_code": {"x": 1}}])
def test_a_last_payment_error_of_the_wrong_type_still_records_the_failure(
    aws: Aws, invoice: dict[str, Any], error: object
) -> None:
    attempt = checkout_for(invoice, 10_000)
    intent = {
        "id": "pi_declined_odd",
        "object": "payment_intent",
        "amount": 10_000,
        "currency": "usd",
        "metadata": {"invoice_id": invoice["id"], "checkout_ref": attempt.ref},
        "last_payment_error": error,
    }
    response = deliver(stripe_event("payment_intent.payment_failed", intent))
    assert response["statusCode"] == 200
    [payment] = get_invoice(invoice["id"])["payments"]
    assert (payment["status"], payment["failure_reason"]) == ("failed", "payment_failed")  # no reason we can read


def test_an_event_id_longer_than_stripes_is_ignored_not_a_storage_error(aws: Aws, invoice: dict[str, Any]) -> None:
    event = completed(checkout_for(invoice, 10_000))
    event["id"] = "evt_" + "x" * 5_000  # a DynamoDB key holds at most 2,048 bytes
    response = deliver(event)
    assert response["statusCode"] == 200
    assert json_body(response)["ignored"] == "not_a_stripe_event"
    assert get_invoice(invoice["id"])["amount_paid"] == 0


@pytest.mark.parametrize("installment", ["9" * 5_000, "9" * 100, "-1", "1e3", "\u0661"])
def test_an_installment_number_that_is_no_small_count_is_not_read_as_one(
    aws: Aws, invoice: dict[str, Any], installment: str
) -> None:
    event = completed(checkout_for(invoice, 10_000))
    event["data"]["object"]["metadata"] |= {"plan_id": "plan_x", "installment": installment}
    response = deliver(event)
    assert response["statusCode"] == 200


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
EVENT_TYPES = [
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
    "checkout.session.async_payment_failed",
    "checkout.session.expired",
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "charge.dispute.created",
    "charge.dispute.closed",
]
# Where in an event a hostile value goes: the envelope, the object, and the object's metadata.
PATHS = [
    ("id",),
    ("type",),
    ("created",),
    ("data",),
    ("data", "object"),
    *(
        ("data", "object", name)
        for name in (
            "id",
            "mode",
            "amount",
            "amount_total",
            "currency",
            "payment_status",
            "payment_intent",
            "metadata",
            "last_payment_error",
            "status",
            "reason",
        )
    ),
    *(
        ("data", "object", "metadata", name)
        for name in ("invoice_id", "checkout_ref", "customer_id", "plan_id", "installment", "attempt", "purpose")
    ),
]


def _put(event: dict[str, Any], path: tuple[str, ...], value: object) -> None:
    target: Any = event
    for part in path[:-1]:
        if not isinstance(target.get(part), dict):
            target[part] = {}
        target = target[part]
    target[path[-1]] = value


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=JSON)
def test_any_json_value_as_a_signed_body_is_never_a_5xx(aws: Aws, body: object) -> None:
    response = post_signed(json.dumps(body).encode())
    assert response["statusCode"] in (200, 400)


@settings(max_examples=120, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kind=st.sampled_from(EVENT_TYPES), path=st.sampled_from(PATHS), value=JSON)
def test_any_value_anywhere_in_a_real_event_is_never_a_5xx(
    aws: Aws, invoice: dict[str, Any], kind: str, path: tuple[str, ...], value: object
) -> None:
    event = completed(checkout_for(invoice, 1_000), kind=kind)
    event["data"]["object"] |= {"amount": 1_000, "reason": "fraudulent"}
    _put(event, path, value)
    response = post_signed(json.dumps(event).encode())
    assert response["statusCode"] in (200, 400), response["body"]


@pytest.mark.parametrize("kind", ["payment_intent.payment_failed", "checkout.session.completed"])
def test_an_object_without_an_id_is_ignored_not_a_crash(aws: Aws, invoice: dict[str, Any], kind: str) -> None:
    # Hypothesis found it: a failed PaymentIntent with no id reached an assertion and answered 500
    event = completed(checkout_for(invoice, 10_000), kind=kind, payment_intent=None)
    event["data"]["object"]["id"] = None
    response = deliver(event)
    assert (response["statusCode"], json_body(response).get("ignored")) == (200, "not_a_stripe_event")
