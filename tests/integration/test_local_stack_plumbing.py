"""The offline stack's plumbing, with stand-in functions: HTTP in, API Gateway proxy events to the
handlers, IAM auth, the `/_local` routes, and the outbox stream delivery with retries and dead letters.
The real functions are exercised end to end in tests/e2e."""

from __future__ import annotations

import base64
import contextlib
import http.client
import io
import json
import os
import threading
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
import requests
from aws_lambda_powertools.utilities.parser.models import APIGatewayProxyEventModel, DynamoDBStreamModel

from cli.__main__ import main
from local.config import StackConfig
from local.seed import SeedError
from local.sigv4 import signed_request
from local.stack import LocalStack, stripe_front_available
from shared.adapters.notifications import SesMailer
from shared.clock import business_clock
from shared.services.ports import Email


class Recorder:
    """Stand-ins for the functions: they record what they were given and answer like the real ones."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.http_events: list[dict[str, Any]] = []
        self.contexts: list[Any] = []
        self.stream_events: list[dict[str, Any]] = []
        self.scheduled_events: list[dict[str, Any]] = []
        self.outbox_failures: dict[str, int] = {}  # outbox pk -> deliveries still to fail

    def http(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        with self.lock:
            self.http_events.append(event)
            self.contexts.append(context)
        if event["pathParameters"] and event["pathParameters"].get("token") == "image":
            return {
                "statusCode": 200,
                "headers": {"Content-Type": "image/png"},
                "body": base64.b64encode(b"\x89PNG\r\n\x1a\n").decode(),
                "isBase64Encoded": True,
            }
        return {
            "statusCode": 201 if event["httpMethod"] == "POST" else 200,
            "headers": {"Content-Type": "application/json", "Set-Cookie": "a=1"},
            "multiValueHeaders": {"Set-Cookie": ["b=2"], "X-Seen": ["one", "two"]},
            "body": json.dumps({"business_now": business_clock().now().isoformat()}),
            "isBase64Encoded": False,
        }

    def crash(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        raise RuntimeError("boom")

    def outbox(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        failures = []
        with self.lock:
            self.stream_events.append(event)
            for record in event["Records"]:
                pk = record["dynamodb"]["Keys"]["pk"]["S"]
                if self.outbox_failures.get(pk, 0) > 0:
                    self.outbox_failures[pk] -= 1
                    failures.append({"itemIdentifier": record["dynamodb"]["SequenceNumber"]})
        return {"batchItemFailures": failures}

    def reminders(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        self.scheduled_events.append(event)
        return {"reminders_sent": 0}

    def delivered_keys(self) -> list[str]:
        return [r["dynamodb"]["Keys"]["pk"]["S"] for event in self.stream_events for r in event["Records"]]


def stand_ins(recorder: Recorder) -> dict[str, Any]:
    return {
        "checkout": recorder.http,
        "operator_api": recorder.http,
        "webhooks": recorder.crash,
        "outbox": recorder.outbox,
        "reminders": recorder.reminders,
    }


def test_stopping_the_stack_puts_back_the_environment_and_the_clock() -> None:
    # Given a process with its own settings
    before_env = dict(os.environ)
    before_clock = business_clock()

    # When a stack starts and stops
    stack = LocalStack(StackConfig.for_tests(stripe_front=False), handlers=stand_ins(Recorder())).start()
    during = os.environ.get("PAYPORTAL_TABLE"), business_clock()
    stack.stop()

    # Then it pointed the process at itself only while it ran
    assert during == ("payportal-local", stack.clock)
    assert dict(os.environ) == before_env
    assert business_clock() is before_clock


@pytest.fixture(scope="module")
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture(scope="module")
def stack(recorder: Recorder) -> Iterator[LocalStack]:
    config = StackConfig.for_tests(stripe_front="auto", outbox_max_attempts=3, outbox_poll_interval_s=0.1)
    with LocalStack(config, handlers=stand_ins(recorder)) as running:
        yield running


@pytest.fixture
def aws(stack: LocalStack) -> Any:
    def client(service: str) -> Any:
        return boto3.client(
            service,  # type: ignore[call-overload]
            endpoint_url=stack.moto_url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    return client


def last_event(recorder: Recorder) -> dict[str, Any]:
    return recorder.http_events[-1]


# -- HTTP -> API Gateway proxy event ------------------------------------------------------------------------


def test_a_request_becomes_the_proxy_event_api_gateway_sends(stack: LocalStack, recorder: Recorder) -> None:
    # When a browser asks for a pay page with a query and a repeated header
    connection = http.client.HTTPConnection(urlsplit(stack.api_url).netloc, timeout=10)
    connection.putrequest("GET", "/pay/tok%2Ben?cancelled=1&tag=a&tag=b%20c&empty=")
    connection.putheader("X-Trace", "1")
    connection.putheader("X-Trace", "2")
    connection.endheaders()
    status = connection.getresponse().status
    connection.close()

    # Then the checkout function got a REST API proxy event for the route
    assert status == 200
    event = last_event(recorder)
    assert event["resource"] == "/pay/{token}"
    assert event["path"] == "/pay/tok%2Ben"  # REST APIs keep the path encoded...
    assert event["pathParameters"] == {"token": "tok+en"}  # ...and decode parameters
    assert event["httpMethod"] == "GET"
    assert event["queryStringParameters"] == {"cancelled": "1", "tag": "b c", "empty": ""}
    assert event["multiValueQueryStringParameters"]["tag"] == ["a", "b c"]
    assert event["multiValueHeaders"]["X-Trace"] == ["1", "2"]
    assert event["headers"]["X-Trace"] == "2"
    assert event["headers"]["X-Forwarded-Proto"] == "http"
    assert event["body"] is None
    assert event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert (context["stage"], context["resourcePath"], context["httpMethod"]) == ("local", "/pay/{token}", "GET")
    assert context["identity"]["sourceIp"] == "127.0.0.1"
    assert context["identity"]["userArn"] is None
    assert isinstance(context["requestTimeEpoch"], int)
    # and Powertools' own model of the event accepts it
    APIGatewayProxyEventModel.model_validate(event)
    lambda_context = recorder.contexts[-1]
    assert lambda_context.function_name == "payportal-local-checkout"
    assert lambda_context.invoked_function_arn.endswith(":function:payportal-local-checkout")
    assert 0 < lambda_context.get_remaining_time_in_millis() <= 29_000


def test_empty_parameters_are_null_like_in_api_gateway(stack: LocalStack, recorder: Recorder) -> None:
    assert stack.get("/health").status_code == 200

    event = last_event(recorder)
    assert event["queryStringParameters"] is None
    assert event["multiValueQueryStringParameters"] is None
    assert event["pathParameters"] is None


def test_every_body_arrives_base64_encoded_as_binary_media_types_say(stack: LocalStack, recorder: Recorder) -> None:
    # Given API Gateway treats every media type as binary (shared.routes.BINARY_MEDIA_TYPES: `*/*`)
    # When a form, JSON and a binary body are posted
    stack.post("/pay/abc/checkout", data={"amount": "12.50"})
    form = last_event(recorder)
    stack.post("/pay/abc/checkout", data='{"id": "evt_1"}', headers={"Content-Type": "application/json"})
    json_body = last_event(recorder)
    stack.post("/pay/abc/checkout", data=b"\x00\xffbinary", headers={"Content-Type": "application/pdf"})
    binary = last_event(recorder)

    # Then each reaches the function base64-encoded, its bytes unchanged
    assert form["isBase64Encoded"] is json_body["isBase64Encoded"] is binary["isBase64Encoded"] is True
    assert base64.b64decode(form["body"]) == b"amount=12.50"
    assert base64.b64decode(json_body["body"]) == b'{"id": "evt_1"}'
    assert base64.b64decode(binary["body"]) == b"\x00\xffbinary"


def test_the_handler_response_becomes_http(stack: LocalStack) -> None:
    response = stack.get("/pay/abc")
    image = stack.get("/pay/image")

    assert response.json()["business_now"]
    assert response.raw.headers.getlist("Set-Cookie") == ["b=2", "a=1"]
    assert response.raw.headers.getlist("X-Seen") == ["one", "two"]
    assert response.headers["x-amzn-RequestId"]
    assert (image.headers["Content-Type"], image.content) == ("image/png", b"\x89PNG\r\n\x1a\n")


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/nowhere"), ("DELETE", "/health"), ("GET", "/pay/"), ("TRACE", "/v1/customers"), ("QUERY", "/health")],
)
def test_unknown_routes_answer_like_api_gateway(stack: LocalStack, method: str, path: str) -> None:
    response = requests.request(method, f"{stack.api_url}{path}", timeout=10)

    assert response.status_code == 403
    assert response.json() == {"message": "Missing Authentication Token"}
    assert response.headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"


def test_a_handler_that_raises_is_a_502(stack: LocalStack) -> None:
    response = stack.post("/webhooks/stripe", json={"id": "evt_1"})

    assert (response.status_code, response.json()) == (502, {"message": "Internal server error"})


# -- IAM auth -------------------------------------------------------------------------------------------------


def test_operator_routes_reject_unsigned_requests(stack: LocalStack, recorder: Recorder) -> None:
    seen = len(recorder.http_events)

    response = stack.post("/v1/customers", json={"email": "a@example.com"})

    assert (response.status_code, response.json()["message"]) == (403, "Missing Authentication Token")
    assert len(recorder.http_events) == seen  # the function never ran


def test_operator_routes_reject_a_wrong_signature(stack: LocalStack, recorder: Recorder) -> None:
    seen = len(recorder.http_events)

    response = signed_request("POST", f"{stack.api_url}/v1/customers", {"email": "a@example.com"}, secret_key="x")

    assert response.status_code == 403
    assert "signature we calculated does not match" in response.json()["message"]
    assert len(recorder.http_events) == seen


def test_operator_routes_accept_signed_requests_as_the_operator(stack: LocalStack, recorder: Recorder) -> None:
    response = stack.signed("POST", "/v1/invoices?dry_run=1", {"number": "INV-1"}, {"Idempotency-Key": "key-1"})

    assert response.status_code == 201
    event = last_event(recorder)
    assert json.loads(base64.b64decode(event["body"])) == {"number": "INV-1"} and event["isBase64Encoded"] is True
    assert event["headers"]["Idempotency-Key"] == "key-1"
    identity = event["requestContext"]["identity"]
    assert identity["userArn"] == "arn:aws:iam::123456789012:user/local-operator"
    assert identity["accessKey"] == "testing"
    assert identity["caller"]


def test_a_signed_get_with_path_parameters_is_accepted(stack: LocalStack, recorder: Recorder) -> None:
    response = stack.signed("GET", "/v1/customers/cus_1/transactions?limit=5")

    assert response.status_code == 200
    assert last_event(recorder)["pathParameters"] == {"customer_id": "cus_1"}


def test_the_webhooks_commands_reach_the_local_api_signed_as_its_operator(
    stack: LocalStack, recorder: Recorder
) -> None:
    # When `payportal webhooks` runs with --stage local (the port as `make dev` reads it)
    port = str(urlsplit(stack.api_url).port)
    out, err = io.StringIO(), io.StringIO()
    listed = main(["webhooks", "list", "--failed", "--limit", "5", "--stage", "local"], stdout=out, stderr=err,
                  environ={"PAYPORTAL_LOCAL_API_PORT": port})  # fmt: skip
    listing = last_event(recorder)
    main(["webhooks", "replay", "evt_local_1", "--stage", "local"], stdout=out, stderr=err,
         environ={"PAYPORTAL_LOCAL_API_PORT": port})  # fmt: skip
    replay = last_event(recorder)

    # Then the local API server accepted their signatures and handed the function what API Gateway would
    assert listed == 0, err.getvalue()
    assert (listing["httpMethod"], listing["resource"]) == ("GET", "/v1/stripe-events")
    assert listing["queryStringParameters"] == {"limit": "5", "outcome": "failed"}
    assert (replay["httpMethod"], replay["resource"]) == ("POST", "/v1/stripe-events/{event_id}/replay")
    assert replay["pathParameters"] == {"event_id": "evt_local_1"} and replay["headers"]["Idempotency-Key"]
    for event in (listing, replay):
        assert event["requestContext"]["identity"]["userArn"] == "arn:aws:iam::123456789012:user/local-operator"


# -- /_local ----------------------------------------------------------------------------------------------------


def test_the_business_clock_can_be_fixed_read_and_reset(stack: LocalStack) -> None:
    # When the developer jumps to a date
    fixed = stack.post("/_local/clock", json={"now": "2030-01-31T09:00:00+01:00"})

    # Then the clock and the functions see that instant
    assert fixed.status_code == 200
    assert fixed.json()["now"] == "2030-01-31T08:00:00+00:00"
    assert stack.get("/_local/clock").json()["fixed"] is True
    assert stack.get("/pay/abc").json()["business_now"] == "2030-01-31T08:00:00+00:00"

    # And back to real time
    reset = requests.delete(f"{stack.api_url}/_local/clock", timeout=10).json()
    assert reset["fixed"] is False
    assert not reset["now"].startswith("2030-01-31")


def test_the_local_stripes_webhook_delivery_can_be_stopped_and_resumed(stack: LocalStack) -> None:
    assert stack.stripe_front_running
    # When the developer stops delivery, the Stripe front itself says so
    stopped = stack.post("/_local/stripe/delivery", json={"enabled": False})
    assert stopped.status_code == 200 and stopped.json()["enabled"] is False
    assert requests.get(f"{stack.stripe_url}/_front/delivery", timeout=10).json()["enabled"] is False
    assert stack.get("/_local/stripe/delivery").json()["enabled"] is False
    # And a bad request is the front's 400, not a 500
    assert stack.post("/_local/stripe/delivery", json={"enabled": "off"}).status_code == 400
    # And it resumes
    assert stack.post("/_local/stripe/delivery", json={"enabled": True}).json()["enabled"] is True
    # And reconciliation, which recovers what was not delivered, is a schedule the developer can fire
    assert "reconcile" in stack.get("/_local/schedules").json()["schedules"]


@pytest.mark.parametrize(
    "body",
    [b"not json", b'{"now": "2030-01-31T09:00:00"}', b'{"now": "next tuesday"}', b'{"then": "x"}', b"[]"],
    ids=["not-json", "no-offset", "not-a-date", "no-now", "not-an-object"],
)
def test_a_bad_clock_setting_is_a_400(stack: LocalStack, body: bytes) -> None:
    response = stack.post("/_local/clock", data=body, headers={"Content-Type": "application/json"})

    assert response.status_code == 400
    assert stack.get("/_local/clock").json()["fixed"] is False


def test_sent_emails_are_listed(stack: LocalStack, aws: Any) -> None:
    # Given an email sent through SES the way the functions send them (raw MIME, text and HTML)
    message = EmailMessage()
    message["From"] = "billing@payportal.local"
    message["To"] = "dana@example.com"
    message["Subject"] = "Your receipt"
    message.set_content("Thanks for paying.")
    message.add_alternative("<p>Thanks for paying.</p>", subtype="html")
    aws("ses").send_raw_email(
        Source="billing@payportal.local", Destinations=["dana@example.com"], RawMessage={"Data": message.as_bytes()}
    )

    # When the developer looks at the sent emails
    emails = stack.get("/_local/emails").json()["emails"]

    # Then it is there, readable
    sent = emails[-1]
    assert sent["to"] == ["dana@example.com"]
    assert sent["from"] == "billing@payportal.local"
    assert sent["subject"] == "Your receipt"
    assert sent["text"].strip() == "Thanks for paying."
    assert sent["html"].strip() == "<p>Thanks for paying.</p>"
    assert sent["sent_at"]


def test_a_sent_email_keeps_its_non_ascii_characters(stack: LocalStack, aws: Any) -> None:
    # Given a receipt sent the way the outbox sends it, with CLDR's narrow no-break spaces and accents
    text = "Date: Nov 2, 2026, 9:30:00\u202fAM\nMontant payé\u202f: 1\u202f234,56\u00a0€\n"
    SesMailer(aws("ses"), "billing@payportal.local").send(
        Email(to="dana@example.com", subject="Reçu\u202f: 1\u202f234,56\u00a0€", text=text, html=f"<p>{text}</p>"),
        message_id="msg_1",
    )

    # When the developer looks at the sent emails
    sent = stack.get("/_local/emails").json()["emails"][-1]

    # Then every character arrived as itself, not as "\\u202f" or a replacement character
    assert sent["text"] == text and sent["html"].strip() == f"<p>{text}</p>"
    assert sent["subject"] == "Reçu\u202f: 1\u202f234,56\u00a0€"


def test_published_domain_events_are_listed(stack: LocalStack, aws: Any) -> None:
    aws("events").put_events(
        Entries=[
            {
                "EventBusName": "payportal-local",
                "Source": "payportal",
                "DetailType": "invoice.paid",
                "Detail": json.dumps({"invoice_id": "inv_1"}),
            }
        ]
    )

    first = stack.get("/_local/events").json()["events"]
    again = stack.get("/_local/events").json()["events"]

    assert [(e["detail-type"], e["detail"]) for e in first] == [("invoice.paid", {"invoice_id": "inv_1"})]
    assert again == first  # read once, kept


def test_a_schedule_can_be_run_now(stack: LocalStack, recorder: Recorder) -> None:
    stack.post("/_local/clock", json={"now": "2030-02-01T06:00:00Z"})
    try:
        response = stack.post("/_local/schedules/reminders/run")
    finally:
        requests.delete(f"{stack.api_url}/_local/clock", timeout=10)

    assert response.status_code == 200
    assert response.json()["result"] == {"reminders_sent": 0}
    event = recorder.scheduled_events[-1]
    assert (event["detail-type"], event["time"]) == ("Scheduled Event", "2030-02-01T06:00:00Z")


def test_an_unknown_schedule_is_a_404_that_lists_the_known_ones(stack: LocalStack) -> None:
    response = stack.post("/_local/schedules/nightly/run")

    assert response.status_code == 404
    assert "reminders" in response.json()["known_schedules"]


# -- the outbox stream -----------------------------------------------------------------------------------------


def put(aws: Any, pk: str, **attributes: Any) -> None:
    item = {"pk": {"S": pk}, "sk": {"S": pk.split("#")[0]}, **attributes}
    aws("dynamodb").put_item(TableName="payportal-local", Item=item)


def test_new_outbox_items_reach_the_outbox_function(stack: LocalStack, recorder: Recorder, aws: Any) -> None:
    # Given a new outbox item, an item of another kind, and a change to an outbox item
    put(aws, "OUTBOX#msg-1", status={"S": "pending"}, body={"B": b"\x01\x02"}, n={"N": "5"})
    put(aws, "INVOICE#inv-1", status={"S": "open"})
    aws("dynamodb").update_item(
        TableName="payportal-local",
        Key={"pk": {"S": "OUTBOX#msg-1"}, "sk": {"S": "OUTBOX"}},
        UpdateExpression="SET #s = :sent",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":sent": {"S": "sent"}},
    )

    # When the stream is drained
    stack.drain_outbox()

    # Then only the insert reached the function, once, shaped like Lambda's stream event
    assert recorder.delivered_keys().count("OUTBOX#msg-1") == 1
    assert "INVOICE#inv-1" not in recorder.delivered_keys()
    event = next(e for e in recorder.stream_events if e["Records"][0]["dynamodb"]["Keys"]["pk"]["S"] == "OUTBOX#msg-1")
    record = event["Records"][0]
    assert record["eventName"] == "INSERT"
    assert record["eventSourceARN"].startswith("arn:aws:dynamodb:us-east-1:123456789012:table/payportal-local/stream/")
    assert record["dynamodb"]["NewImage"]["body"] == {"B": "AQI="}
    assert isinstance(record["dynamodb"]["ApproximateCreationDateTime"], int)
    json.dumps(event)  # what Lambda hands over is plain JSON
    DynamoDBStreamModel.model_validate(event)


def test_a_reported_failure_is_delivered_again(stack: LocalStack, recorder: Recorder, aws: Any) -> None:
    recorder.outbox_failures["OUTBOX#flaky"] = 1

    put(aws, "OUTBOX#flaky")
    stack.drain_outbox()

    assert recorder.delivered_keys().count("OUTBOX#flaky") == 2
    assert recorder.outbox_failures["OUTBOX#flaky"] == 0
    assert not [d for d in stack.get("/_local/dead-letters").json()["dead_letters"] if "flaky" in json.dumps(d)]


def test_a_record_failing_every_attempt_ends_in_the_dead_letters(
    stack: LocalStack, recorder: Recorder, aws: Any
) -> None:
    recorder.outbox_failures["OUTBOX#poison"] = 99

    put(aws, "OUTBOX#poison")
    stack.drain_outbox()
    put(aws, "OUTBOX#after-poison")
    stack.drain_outbox()

    assert recorder.delivered_keys().count("OUTBOX#poison") == 3
    dead = stack.get("/_local/dead-letters").json()["dead_letters"]
    assert [(d["record"]["dynamodb"]["Keys"]["pk"]["S"], d["attempts"]) for d in dead] == [("OUTBOX#poison", 3)]
    assert recorder.delivered_keys().count("OUTBOX#after-poison") == 1  # the shard moved on


def test_a_cancelled_transaction_leaves_no_trace_on_the_stream(stack: LocalStack, aws: Any) -> None:
    """DynamoDB streams only committed writes. moto rolled back by swapping in a copy of the table, so a
    reader holding an iterator saw the cancelled writes and then skipped the committed ones that reused
    their sequence numbers: an outbox email lost."""
    db, streams = aws("dynamodb"), aws("dynamodbstreams")
    stream_arn = db.describe_table(TableName="payportal-local")["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"][0]["ShardId"]
    put(aws, "OUTBOX#before-cancel")
    iterator = streams.get_shard_iterator(StreamArn=stream_arn, ShardId=shard, ShardIteratorType="LATEST")[
        "ShardIterator"
    ]

    # A transaction that writes one outbox item, then fails a condition on another item
    with pytest.raises(db.exceptions.TransactionCanceledException):
        db.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": "payportal-local",
                        "Item": {"pk": {"S": "OUTBOX#cancelled"}, "sk": {"S": "OUTBOX"}},
                    }
                },
                {
                    "ConditionCheck": {
                        "TableName": "payportal-local",
                        "Key": {"pk": {"S": "OUTBOX#before-cancel"}, "sk": {"S": "OUTBOX"}},
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ]
        )
    put(aws, "OUTBOX#committed")

    # The iterator handed out before the transaction reads the committed write, and only that
    records = streams.get_records(ShardIterator=iterator)["Records"]
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in records] == ["OUTBOX#committed"]
    assert "Item" not in db.get_item(
        TableName="payportal-local", Key={"pk": {"S": "OUTBOX#cancelled"}, "sk": {"S": "OUTBOX"}}
    )


def test_concurrent_transactions_do_not_trip_moto(stack: LocalStack, aws: Any) -> None:
    """moto rolls a cancelled transaction back after applying its writes one by one; a write from another
    thread meanwhile used to fail moto's copy of the table (a 500) or be undone by the rollback. The stack
    lets one request into moto at a time."""
    db = aws("dynamodb")
    errors: list[Exception] = []

    def write(n: int) -> None:
        try:
            for i in range(15):
                key = {"pk": {"S": f"INVOICE#race-{n}-{i}"}, "sk": {"S": "INVOICE"}}
                with contextlib.suppress(db.exceptions.TransactionCanceledException):  # cancelled, as it should be
                    db.transact_write_items(
                        TransactItems=[
                            {"Put": {"TableName": "payportal-local", "Item": key}},
                            {
                                "ConditionCheck": {
                                    "TableName": "payportal-local",
                                    "Key": {"pk": {"S": "INVOICE#missing"}, "sk": {"S": "INVOICE"}},
                                    "ConditionExpression": "attribute_exists(pk)",
                                }
                            },
                        ]
                    )
                db.put_item(TableName="payportal-local", Item={**key, "kept": {"S": "yes"}})
        except Exception as error:  # collected for the assertion below
            errors.append(error)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    kept = [
        db.get_item(TableName="payportal-local", Key={"pk": {"S": f"INVOICE#race-{n}-{i}"}, "sk": {"S": "INVOICE"}})
        for n in range(4)
        for i in range(15)
    ]
    assert all(item.get("Item", {}).get("kept") == {"S": "yes"} for item in kept)


def test_the_poller_prunes_only_its_own_shard_iterators(stack: LocalStack, aws: Any) -> None:
    from moto.dynamodbstreams.models import dynamodbstreams_backends

    iterators = dynamodbstreams_backends["123456789012"]["us-east-1"].shard_iterators
    streams = aws("dynamodbstreams")
    stream_arn = aws("dynamodb").describe_table(TableName="payportal-local")["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"][0]["ShardId"]
    mine = streams.get_shard_iterator(StreamArn=stream_arn, ShardId=shard, ShardIteratorType="LATEST")["ShardIterator"]
    stack.drain_outbox()
    before = len(iterators)

    for n in range(5):  # polls that each take an iterator and get a next one back
        put(aws, f"OUTBOX#prune-{n}")
        stack.drain_outbox()

    assert len(iterators) == before
    assert mine in iterators


def test_seeding_says_what_went_wrong_when_the_operator_api_misbehaves(stack: LocalStack) -> None:
    # The stand-in operator API answers 201 without a customer id
    with pytest.raises(SeedError, match="customer_id"):
        stack.seed_demo_data()


# -- the Stripe front ------------------------------------------------------------------------------------------


@pytest.mark.skipif(not stripe_front_available(), reason="local/fake_stripe is not there")
def test_the_stripe_front_is_up_and_the_functions_point_at_it(stack: LocalStack) -> None:
    assert stack.stripe_front_running
    assert requests.get(f"{stack.stripe_url}/_front/health", timeout=10).status_code == 200
    assert os.environ["PAYPORTAL_STRIPE_API_BASE"] == stack.stripe_url
