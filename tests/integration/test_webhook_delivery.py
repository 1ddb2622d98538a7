"""Outbound webhook deliveries over moto and a receiver on 127.0.0.1: a domain event from the bus fans out
to one message per subscribed endpoint, each a signed POST that a Standard Webhooks receiver verifies; a
failing endpoint retries on its own, with its backoff, and never holds back another."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from standardwebhooks import Webhook

from shared.clock import FixedClock
from tests.integration.conftest import REGION, Aws
from tests.integration.helpers import create_customer, create_invoice, operator
from tests.support import FakeLambdaContext, json_body
from tests.webhook_receiver import Receiver, webhook_receiver


@pytest.fixture
def queue(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> str:
    from shared import wiring

    url = str(aws.sqs.create_queue(QueueName="webhooks")["QueueUrl"])
    monkeypatch.setenv("PAYPORTAL_WEBHOOKS_QUEUE_URL", url)
    monkeypatch.setenv("PAYPORTAL_LOCAL_STACK", "1")
    wiring.reset()
    return url


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with webhook_receiver() as running:
        yield running


def register(url: str, events: list[str]) -> dict[str, Any]:
    body = {"url": url, "events": events}
    headers = {"Idempotency-Key": uuid.uuid4().hex}
    response = operator("POST", "/v1/webhook-endpoints", "/v1/webhook-endpoints", body=body, headers=headers)
    assert response["statusCode"] == 201, response["body"]
    return dict(json_body(response))


def record(body: str, *, receive_count: int = 1, message_id: str | None = None, receipt: str = "r") -> dict[str, Any]:
    return {
        "messageId": message_id or uuid.uuid4().hex,
        "receiptHandle": receipt,
        "body": body,
        "attributes": {"ApproximateReceiveCount": str(receive_count), "SentTimestamp": "0"},
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:{REGION}:123456789012:webhooks",
        "awsRegion": REGION,
    }


def invoke(*records: dict[str, Any]) -> dict[str, Any]:
    from functions.webhook_delivery.handler import lambda_handler

    return dict(lambda_handler({"Records": list(records)}, FakeLambdaContext()))


def queued(aws: Aws, url: str) -> list[dict[str, Any]]:
    found = []
    while messages := aws.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            found.append(message)
            aws.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return found


def bus_events(aws: Aws) -> list[dict[str, Any]]:
    """Given: an invoice created, its outbox delivered to the bus; what the rule hands the queue."""
    customer = create_customer()
    create_invoice(customer["id"])
    aws.drain_outbox()
    return aws.domain_events()


def test_an_event_reaches_each_subscribed_endpoint_signed_as_the_spec_asks(
    aws: Aws, clock: FixedClock, queue: str, receiver: Receiver
) -> None:
    # Given: two endpoints for invoice.created, one for payments only
    first = register(receiver.url("/a"), ["invoice.created"])
    second = register(receiver.url("/b"), ["*"])
    register(receiver.url("/c"), ["payment.succeeded"])
    [event] = [e for e in bus_events(aws) if e["detail-type"] == "invoice.created"]
    # When: the bus event arrives, and then the deliveries it fanned out
    assert invoke(record(json.dumps(event))) == {"batchItemFailures": []}
    deliveries = queued(aws, queue)
    assert sorted(json.loads(m["Body"])["endpoint_id"] for m in deliveries) == sorted([first["id"], second["id"]])
    assert invoke(*(record(m["Body"]) for m in deliveries)) == {"batchItemFailures": []}
    # Then: each endpoint got one POST that verifies with its own secret, carrying the bus event's detail
    for path, endpoint in (("/a", first), ("/b", second)):
        [got] = receiver.at(path)
        payload = Webhook(endpoint["secret"]).verify(got.body, got.headers)
        assert payload["type"] == "invoice.created" and payload["data"] == event["detail"]
        assert got.headers["webhook-id"] == event["detail"]["id"]
        assert got.headers["content-type"] == "application/json"
    assert receiver.at("/c") == []


def test_a_failing_endpoint_retries_on_its_own_after_its_backoff(
    aws: Aws, clock: FixedClock, queue: str, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shared import wiring

    # Given: a healthy endpoint and one answering 500
    register(receiver.url("/ok"), ["*"])
    register(receiver.url("/down"), ["*"])
    receiver.statuses["/down"] = 500
    [event] = [e for e in bus_events(aws) if e["detail-type"] == "invoice.created"]
    invoke(record(json.dumps(event)))
    deliveries = {json.loads(m["Body"])["endpoint_id"]: m for m in queued(aws, queue)}
    delays: list[tuple[str, int]] = []
    monkeypatch.setattr(wiring.webhooks_queue(), "retry_later", lambda receipt, s: delays.append((receipt, s)))
    # When: both deliveries are attempted in one batch
    records = [record(m["Body"], message_id=f"m-{i}", receipt=f"r-{i}") for i, m in enumerate(deliveries.values())]
    reply = invoke(*records)
    # Then: only the failing one is reported back, hidden for a minute; the healthy one got its POST
    down = next(r for r in records if json.loads(r["body"])["endpoint_id"] == endpoint_at("/down"))
    assert reply == {"batchItemFailures": [{"itemIdentifier": down["messageId"]}]}
    assert delays == [(down["receiptHandle"], 60)]
    assert len(receiver.at("/ok")) == 1 and len(receiver.at("/down")) == 1
    # And the fifth attempt waits six hours, the sixth twelve
    invoke(record(down["body"], receive_count=5, receipt="r-5"))
    invoke(record(down["body"], receive_count=6, receipt="r-6"))
    assert delays[1:] == [("r-5", 21600), ("r-6", 43200)]


def endpoint_at(path: str) -> str:
    from shared import wiring

    return next(e.id for e in wiring.webhook_endpoints().all() if e.url.endswith(path))


def test_a_disabled_or_deleted_endpoint_gets_nothing_more(
    aws: Aws, clock: FixedClock, queue: str, receiver: Receiver
) -> None:
    endpoint = register(receiver.url("/a"), ["*"])
    [event] = [e for e in bus_events(aws) if e["detail-type"] == "invoice.created"]
    invoke(record(json.dumps(event)))
    [delivery] = queued(aws, queue)
    path = f"/v1/webhook-endpoints/{endpoint['id']}"
    operator("PATCH", path, "/v1/webhook-endpoints/{endpoint_id}", params={"endpoint_id": endpoint["id"]},
             body={"enabled": False})  # fmt: skip
    assert invoke(record(delivery["Body"])) == {"batchItemFailures": []}
    assert receiver.received == []
    invoke(record(json.dumps(event)))
    assert queued(aws, queue) == []  # a disabled endpoint is not fanned out to
