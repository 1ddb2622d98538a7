"""Handlers over moto: a fresh mocked AWS account per test, built from shared/schema.py."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from moto import mock_aws

from local import moto_cognito, moto_patches
from shared import schema
from shared.clock import FixedClock, SystemClock, use_clock
from tests.support import STRIPE_KEY, WEBHOOK_SECRET, FakeLambdaContext

TABLE = "payportal-test"
BUS = "payportal-test"
SENDER = "billing@payportal.test"
REGION = "us-east-1"
ACCOUNT = "123456789012"


@dataclass
class SentEmail:
    to: list[str]
    subject: str
    text: str
    html: str

    @classmethod
    def parse(cls, raw: str) -> SentEmail:
        from email import message_from_string, policy

        message = message_from_string(raw, policy=policy.default)
        text = message.get_body(preferencelist=("plain",))  # type: ignore[attr-defined]
        html = message.get_body(preferencelist=("html",))  # type: ignore[attr-defined]
        return cls(
            to=[a.strip() for a in str(message["To"]).split(",")],
            subject=str(message["Subject"]),
            text=text.get_content() if text else "",
            html=html.get_content() if html else "",
        )


@dataclass
class Aws:
    dynamodb: Any
    sqs: Any
    events_queue_url: str

    def items(self, prefix: str) -> list[dict[str, Any]]:
        from shared.adapters.dynamodb.codec import deserialize

        pages = self.dynamodb.get_paginator("scan").paginate(TableName=TABLE)
        found = [deserialize(i) for page in pages for i in page["Items"]]
        return [i for i in found if i["pk"].startswith(prefix)]

    def emails(self) -> list[SentEmail]:
        from moto.ses.models import ses_backends

        return [SentEmail.parse(m.raw_data) for m in ses_backends[ACCOUNT][REGION].sent_messages]

    def domain_events(self) -> list[dict[str, Any]]:
        events = []
        while True:
            reply = self.sqs.receive_message(QueueUrl=self.events_queue_url, MaxNumberOfMessages=10)
            if not reply.get("Messages"):
                return events
            for message in reply["Messages"]:
                events.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=self.events_queue_url, ReceiptHandle=message["ReceiptHandle"])

    def drain_outbox(self, statuses: tuple[str, ...] = ("pending",)) -> dict[str, Any]:
        """What the table's stream would hand the outbox function: every pending outbox insert (or, to
        replay a stream retry, those in any of `statuses`)."""
        from boto3.dynamodb.types import TypeSerializer

        from functions.outbox.handler import lambda_handler

        serializer = TypeSerializer()
        records = []
        for n, item in enumerate(i for i in self.items("OUTBOX#") if i["status"] in statuses):
            image = {k: serializer.serialize(v) for k, v in item.items()}
            records.append(
                {
                    "eventID": str(n),
                    "eventName": "INSERT",
                    "eventSource": "aws:dynamodb",
                    "awsRegion": REGION,
                    "dynamodb": {
                        "Keys": {"pk": image["pk"], "sk": image["sk"]},
                        "NewImage": image,
                        "SequenceNumber": f"{n:021d}",
                        "SizeBytes": 100,
                        "StreamViewType": "NEW_IMAGE",
                    },
                    "eventSourceARN": f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{TABLE}/stream/x",
                }
            )
        if not records:  # the stream never invokes the function with an empty batch
            return {"batchItemFailures": []}
        return lambda_handler({"Records": records}, FakeLambdaContext())


@pytest.fixture(scope="session", autouse=True)
def moto_rolls_back_items() -> None:
    """The local stack's moto patches, here too: without them each transaction deep-copies the table (about
    30 s of the integration tests' CPU time, measured), and the tests would run a moto the stack does not."""
    moto_patches.install()
    moto_cognito.install()


@functools.cache
def _test_session() -> Any:
    """The tests' own botocore session (inside mock_aws: moto's handler is in every session), with the data
    loader the functions' sessions share (shared.adapters.aws._loader): boto3.client() would make a new session
    per test, moto saw to that, and read the service models again each time."""
    import botocore.session

    from shared.adapters import aws

    session = botocore.session.get_session()
    session.register_component("data_loader", aws._loader())
    return session


def moto_client(service: str) -> Any:
    return _test_session().create_client(service, region_name=REGION)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Aws]:
    env = {
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "PAYPORTAL_TABLE": TABLE,
        "PAYPORTAL_EVENT_BUS": BUS,
        "PAYPORTAL_SENDER_EMAIL": SENDER,
        "PAYPORTAL_PUBLIC_BASE_URL": "https://pay.example.com",
        "PAYPORTAL_SUPPORT_CONTACT": "help@example.com",
        "PAYPORTAL_STRIPE_SECRET_ID": "payportal/test/stripe",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_IDEMPOTENCY_DISABLED": "false",
    }
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    # No test reaches Stripe: without the `stripe` fixture, calls meet a closed local port and fail at once.
    monkeypatch.setenv("PAYPORTAL_STRIPE_API_BASE", "http://127.0.0.1:9")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    from shared import wiring
    from shared.adapters.dynamodb.counters import mark_new_table

    wiring.reset()
    with mock_aws():
        dynamodb = moto_client("dynamodb")
        dynamodb.create_table(**schema.create_table_kwargs(TABLE))
        mark_new_table(dynamodb, TABLE)
        moto_client("secretsmanager").create_secret(
            Name="payportal/test/stripe",
            SecretString=json.dumps({"api_key": STRIPE_KEY, "webhook_secret": WEBHOOK_SECRET}),
        )
        moto_client("ses").verify_email_identity(EmailAddress=SENDER)
        events = moto_client("events")
        events.create_event_bus(Name=BUS)
        sqs = moto_client("sqs")
        queue_url = sqs.create_queue(QueueName="observed-events")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events.put_rule(Name="all", EventBusName=BUS, EventPattern=json.dumps({"source": ["payportal"]}))
        events.put_targets(Rule="all", EventBusName=BUS, Targets=[{"Id": "q", "Arn": queue_arn}])
        yield Aws(dynamodb=dynamodb, sqs=sqs, events_queue_url=queue_url)
    wiring.reset()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def stripe_front_url() -> Iterator[str]:
    """The local Stripe stand-in (localstripe behind the front), as `make dev` runs it."""
    from local.fake_stripe.process import FrontProcess

    front = FrontProcess(
        port=_free_port(),
        localstripe_port=_free_port(),
        api_key=STRIPE_KEY,
        webhook_secret=WEBHOOK_SECRET,
        webhook_url="http://127.0.0.1:9/unused",
        quiet=True,
    )
    with front as url:
        yield url


@pytest.fixture
def stripe(aws: Aws, stripe_front_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Handlers over moto, talking to the local Stripe front."""
    from shared import wiring

    monkeypatch.setenv("PAYPORTAL_STRIPE_API_BASE", stripe_front_url)
    wiring.reset()
    return stripe_front_url


@pytest.fixture
def clock() -> Iterator[FixedClock]:
    """The business clock fixed at 2027-03-01 15:00 UTC for the test (a module may define its own)."""
    fixed = FixedClock(datetime(2027, 3, 1, 15, tzinfo=UTC))
    use_clock(fixed)
    yield fixed
    use_clock(SystemClock())


@pytest.fixture
def console(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The console's Cognito pool in moto, its app client configured for the console's function; the pool's id."""
    from shared import wiring
    from tests.integration.console_browser import console_pool

    pool = console_pool()
    monkeypatch.setenv("PAYPORTAL_CONSOLE_CLIENT_ID", pool.client_id)
    monkeypatch.setenv("PAYPORTAL_CONSOLE_USER_POOL_ID", pool.user_pool_id)
    wiring.reset()
    yield pool.user_pool_id
    wiring.reset()
