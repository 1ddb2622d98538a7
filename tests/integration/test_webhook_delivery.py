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


def test_a_delivery_failing_every_attempt_is_kept_listed_and_replayed_once(
    aws: Aws, clock: FixedClock, queue: str, receiver: Receiver
) -> None:
    from shared.services.webhook_delivery import MAX_ATTEMPTS

    # Given: an endpoint that answers 503 to every attempt of a delivery
    endpoint = register(receiver.url("/down"), ["invoice.created"])
    receiver.statuses["/down"] = 503
    [event] = [e for e in bus_events(aws) if e["detail-type"] == "invoice.created"]
    invoke(record(json.dumps(event)))
    [delivery] = queued(aws, queue)
    # When: its last attempt fails (and the same message is handled twice)
    last = record(delivery["Body"], receive_count=MAX_ATTEMPTS, message_id="m-1")
    assert invoke(last) == {"batchItemFailures": []}  # failed for good: the message is done
    assert invoke(last) == {"batchItemFailures": []}
    # Then: it is listed once as failed, with the answer's status and an excerpt; the endpoint counts one failure
    one = f"/v1/webhook-endpoints/{endpoint['id']}"
    listed = operator("GET", one + "/deliveries", "/v1/webhook-endpoints/{endpoint_id}/deliveries",
                      params={"endpoint_id": endpoint["id"]}, query={"status": "failed"})  # fmt: skip
    assert listed["statusCode"] == 200, listed["body"]
    [failed] = json_body(listed)["deliveries"]
    assert failed["event_id"] == event["detail"]["id"] and failed["attempts"] == MAX_ATTEMPTS
    assert failed["last_status"] == 503 and 0 < len(failed["last_error"]) <= 200
    shown = json_body(
        operator("GET", one, "/v1/webhook-endpoints/{endpoint_id}", params={"endpoint_id": endpoint["id"]})
    )
    assert shown["consecutive_failures"] == 1 and shown["enabled"] is True
    # When: the operator replays it, twice with the same key
    resource = "/v1/webhook-endpoints/{endpoint_id}/deliveries/{delivery_id}/retry"
    params = {"endpoint_id": endpoint["id"], "delivery_id": failed["id"]}
    path = f"{one}/deliveries/{failed['id']}/retry"
    first = operator("POST", path, resource, params=params, headers={"Idempotency-Key": "replay-1"})
    again = operator("POST", path, resource, params=params, headers={"Idempotency-Key": "replay-1"})
    assert first["statusCode"] == again["statusCode"] == 202, first["body"]
    # Then: one delivery is queued again, and the failed list is empty
    [replayed] = queued(aws, queue)
    assert json.loads(replayed["Body"])["event"]["id"] == event["detail"]["id"]
    listed = operator("GET", one + "/deliveries", "/v1/webhook-endpoints/{endpoint_id}/deliveries",
                      params={"endpoint_id": endpoint["id"]})  # fmt: skip
    assert json_body(listed)["deliveries"] == []
    # And it verifies when the endpoint is back
    receiver.statuses["/down"] = 200
    assert invoke(record(replayed["Body"])) == {"batchItemFailures": []}
    got = receiver.at("/down")[-1]
    assert Webhook(endpoint["secret"]).verify(got.body, got.headers)["data"]["id"] == event["detail"]["id"]
    gone = operator("POST", path, resource, params=params, headers={"Idempotency-Key": "replay-2"})
    assert gone["statusCode"] == 404


def test_an_endpoint_failing_five_deliveries_in_a_row_is_disabled_and_audited(
    aws: Aws, clock: FixedClock, queue: str, receiver: Receiver
) -> None:
    from shared.services.webhook_delivery import MAX_ATTEMPTS

    endpoint = register(receiver.url("/down"), ["*"])
    receiver.statuses["/down"] = 500
    events = bus_events(aws)
    for event in events:
        invoke(record(json.dumps(event)))
    deliveries = queued(aws, queue)
    assert len(deliveries) >= 1
    base = json.loads(deliveries[0]["Body"])
    for n in range(5):  # five different failing deliveries
        body = json.dumps(base | {"event": base["event"] | {"id": f"msg_{n}"}})
        invoke(record(body, receive_count=MAX_ATTEMPTS, message_id=f"m-{n}"))
    one = f"/v1/webhook-endpoints/{endpoint['id']}"
    shown = json_body(
        operator("GET", one, "/v1/webhook-endpoints/{endpoint_id}", params={"endpoint_id": endpoint["id"]})
    )
    assert shown["enabled"] is False and shown["disabled_reason"] == "failing" and shown["consecutive_failures"] == 5
    trail = [i for i in aws.items("WEBHOOKENDPOINT#" + endpoint["id"]) if i.get("type") == "audit"]
    disabled = [i for i in trail if i["action"] == "webhook_endpoint.disabled"]
    assert len(disabled) == 1 and disabled[0]["actor"] == "job:webhook_delivery"
    # A delivery still waiting is kept as failed, unsent
    sent_before = len(receiver.received)
    body = json.dumps(base | {"event": base["event"] | {"id": "msg_late"}})
    invoke(record(body, receive_count=2, message_id="m-late"))
    assert len(receiver.received) == sent_before
    listed = operator("GET", one + "/deliveries", "/v1/webhook-endpoints/{endpoint_id}/deliveries",
                      params={"endpoint_id": endpoint["id"]}, query={"limit": "10"})  # fmt: skip
    assert len(json_body(listed)["deliveries"]) == 6
    # Replay is refused until the operator enables it again
    resource = "/v1/webhook-endpoints/{endpoint_id}/deliveries/{delivery_id}/retry"
    delivery_id = json_body(listed)["deliveries"][0]["id"]
    params = {"endpoint_id": endpoint["id"], "delivery_id": delivery_id}
    refused = operator("POST", f"{one}/deliveries/{delivery_id}/retry", resource, params=params,
                       headers={"Idempotency-Key": "k"})  # fmt: skip
    assert refused["statusCode"] == 409
