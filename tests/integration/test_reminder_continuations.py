"""A dunning run that runs out of time hands the rest to SQS, and its continuations finish the job, once."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from shared.clock import FixedClock, SystemClock, use_clock
from tests.integration.conftest import REGION, Aws
from tests.integration.helpers import create_customer, create_invoice
from tests.support import FakeLambdaContext

DUE = 13  # invoices due, over 8 shards, in pages of 2


class NoTimeLeft(FakeLambdaContext):
    """Every check says time is short: each invocation does its one guaranteed page, then hands on."""

    def get_remaining_time_in_millis(self) -> int:
        return 0


@pytest.fixture
def queue(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    from shared import wiring

    url = str(aws.sqs.create_queue(QueueName="reminders-continuations")["QueueUrl"])
    monkeypatch.setenv("PAYPORTAL_REMINDERS_QUEUE_URL", url)
    wiring.reset()
    yield url


@pytest.fixture
def due(aws: Aws, queue: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, Any]]]:
    from shared.services import reminders

    monkeypatch.setattr(reminders, "PAGE_SIZE", 2)
    clock = FixedClock(datetime(2027, 3, 1, 15, tzinfo=UTC))
    use_clock(clock)
    customer = create_customer(timezone="UTC", email="many@example.com")
    invoices = [create_invoice(customer["id"], due_date="2027-03-15") for _ in range(DUE)]
    clock.instant = datetime(2027, 3, 8, 10, tzinfo=UTC)  # the upcoming step, for all of them
    yield invoices
    use_clock(SystemClock())


def invoke(event: dict[str, Any]) -> dict[str, Any]:
    from functions.reminders.handler import lambda_handler

    return dict(lambda_handler(event, NoTimeLeft()))


def take(aws: Aws, url: str) -> list[dict[str, Any]]:
    reply = aws.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
    messages = reply.get("Messages", [])
    for message in messages:
        aws.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return list(messages)


def sqs_event(message: dict[str, Any]) -> dict[str, Any]:
    """What Lambda's SQS event source hands the function for one message (batch size 1)."""
    return {
        "Records": [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "0"},
                "messageAttributes": {},
                "md5OfBody": message["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": f"arn:aws:sqs:{REGION}:123456789012:reminders-continuations",
                "awsRegion": REGION,
            }
        ]
    }


def test_an_out_of_time_run_fans_out_and_its_continuations_send_every_reminder_once(
    aws: Aws, queue: str, due: list[dict[str, Any]]
) -> None:
    first = invoke({"source": "aws.scheduler", "detail": {}})
    assert first["complete"] is False and first["sent"] <= 2
    assert first["remaining"] >= 7  # one continuation per shard still to finish (shard 0 may be done)

    invocations, delivered = 1, 0
    while batch := take(aws, queue):
        for message in batch:
            body = json.loads(message["Body"])
            assert len(body["shards"]) == 1  # one shard per message: they run side by side
            assert invoke(sqs_event(message)) == {"batchItemFailures": []}
            invocations += 1
        delivered += len(batch)
        assert invocations < 100, "continuations must make progress"

    aws.drain_outbox()
    assert reminded(aws) == sorted(i["number"] for i in due)  # every invoice, once
    assert invoke({"source": "aws.scheduler", "detail": {}})["sent"] == 0


def test_a_continuation_delivered_twice_sends_nothing_twice(aws: Aws, queue: str, due: list[dict[str, Any]]) -> None:
    invoke({"source": "aws.scheduler", "detail": {}})
    messages = take(aws, queue)
    while more := take(aws, queue):
        messages += more
    for message in messages:
        invoke(sqs_event(message))
        invoke(sqs_event(message))  # SQS is at-least-once
    while batch := take(aws, queue):
        for message in batch:
            invoke(sqs_event(message))
    aws.drain_outbox()
    assert len(reminded(aws)) == DUE and len(set(reminded(aws))) == DUE


def reminded(aws: Aws) -> list[str]:
    """Each invoice number a reminder email names (a customer's reminders of one invocation share one email)."""
    return sorted(n for e in aws.emails() for n in set(re.findall(r"\b(INV-[0-9a-f]+)\b", e.text)))


def test_a_malformed_continuation_fails_so_sqs_retries_it_then_dead_letters_it(aws: Aws, queue: str) -> None:
    from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

    message = {"MessageId": str(uuid.uuid4()), "ReceiptHandle": "r", "Body": '{"shards": "all"}', "MD5OfBody": "x"}
    with pytest.raises(BatchProcessingError):  # every record of the batch failed: the invocation fails
        invoke(sqs_event(message))
