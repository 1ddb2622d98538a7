"""Builders shared by the tests: API Gateway events, Lambda contexts, signed Stripe events."""

from __future__ import annotations

import base64
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from shared.adapters.stripe_signature import sign

OPERATOR_ARN = "arn:aws:iam::123456789012:user/test-operator"
WEBHOOK_SECRET = "whsec_test"
STRIPE_KEY = "sk_test_local"


@dataclass
class FakeLambdaContext:
    function_name: str = "payportal-test"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:payportal-test"
    aws_request_id: str = "req-1"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def api_event(
    method: str,
    path: str,
    *,
    resource: str | None = None,
    path_parameters: dict[str, str] | None = None,
    body: Any = None,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    base64_body: bool = True,
    operator: bool = True,
) -> dict[str, Any]:
    """An API Gateway REST (v1) proxy event, as API Gateway sends it: the body base64-encoded, as every media
    type is binary to it (shared.routes.BINARY_MEDIA_TYPES); `base64_body=False` for a body as text."""
    all_headers = {"Host": "api.example.com", **(headers or {})}
    text: str | None
    if form is not None:
        text = urlencode(form)
        all_headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
    elif body is None or isinstance(body, str):
        text = body
    else:
        text = json.dumps(body)
        all_headers.setdefault("Content-Type", "application/json")
    if base64_body and text is not None:
        text = base64.b64encode(text.encode()).decode()
    identity = {"sourceIp": "203.0.113.9", "userArn": OPERATOR_ARN if operator else None, "caller": None}
    return {
        "resource": resource or path,
        "path": path,
        "httpMethod": method,
        "headers": all_headers,
        "multiValueHeaders": {k: [v] for k, v in all_headers.items()},
        "queryStringParameters": query or None,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": path_parameters,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource or path,
            "httpMethod": method,
            "path": f"/test{path}",
            "stage": "test",
            "requestId": str(uuid.uuid4()),
            "requestTimeEpoch": int(time.time() * 1000),
            "identity": identity,
            "accountId": "123456789012",
            "apiId": "test",
        },
        "body": text,
        "isBase64Encoded": base64_body,
    }


def stripe_event(event_type: str, obj: dict[str, Any], *, event_id: str | None = None) -> dict[str, Any]:
    return {
        "id": event_id or f"evt_{uuid.uuid4().hex[:24]}",
        "object": "event",
        "api_version": "2024-06-20",
        "created": int(time.time()),
        "livemode": False,
        "type": event_type,
        "data": {"object": obj},
    }


def webhook_request(
    event: dict[str, Any], *, secret: str = WEBHOOK_SECRET, at: int | None = None, base64_body: bool = False
) -> dict[str, Any]:
    """The API Gateway event Stripe's delivery of `event` turns into, signed like Stripe signs."""
    raw = json.dumps(event)
    header = sign(raw.encode(), secret, at if at is not None else int(time.time()))
    return api_event(
        "POST",
        "/webhooks/stripe",
        body=raw,
        headers={"Stripe-Signature": header, "Content-Type": "application/json"},
        base64_body=base64_body,
        operator=False,
    )


def session_object(
    *,
    session_id: str,
    invoice_id: str,
    checkout_ref: str,
    amount: int,
    currency: str = "usd",
    payment_status: str = "paid",
    payment_intent: str | None = "pi_test_1",
) -> dict[str, Any]:
    return {
        "id": session_id,
        "object": "checkout.session",
        "amount_total": amount,
        "currency": currency,
        "payment_status": payment_status,
        "status": "complete",
        "payment_intent": payment_intent,
        "metadata": {"invoice_id": invoice_id, "checkout_ref": checkout_ref},
    }


def json_body(response: dict[str, Any]) -> Any:
    return json.loads(response["body"])
