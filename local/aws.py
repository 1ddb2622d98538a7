"""The AWS side of the offline stack: moto in server mode, the resources the functions expect, and
read-only views of what the functions did (emails sent, domain events published)."""

from __future__ import annotations

import email
import email.policy
import json
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import boto3
import requests
from moto.server import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from moto.ses.models import Message, RawMessage, TemplateMessage, ses_backends
from werkzeug.serving import BaseWSGIServer, make_server

from local import cognito, moto_cognito, moto_patches
from local.config import ACCESS_KEY_ID, ACCOUNT_ID, HOST, REGION, SECRET_ACCESS_KEY, StackConfig
from shared import schema
from shared.adapters.dynamodb.counters import mark_new_table
from shared.clock import business_clock

logger = logging.getLogger("local.aws")


def client(service: str, endpoint_url: str) -> Any:
    """A boto3 client for moto, independent of whatever AWS_* the process environment holds."""
    return boto3.session.Session().client(
        service,  # type: ignore[call-overload]
        endpoint_url=endpoint_url,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY_ID,
        aws_secret_access_key=SECRET_ACCESS_KEY,
    )


# moto's backends are not safe under concurrent requests: a `TransactWriteItems` applies its writes one by
# one and puts back what it changed when a condition fails (local/moto_patches.py), so another thread's
# request in between could see writes that never commit, or have its own write undone. AWS has no such
# race, so the stack lets one request into moto at a time; code here that touches moto's backends directly
# takes it too.
MOTO_LOCK = threading.RLock()


class _OneAtATime:
    """WSGI middleware: each request runs moto under MOTO_LOCK. moto builds whole responses (no
    streaming, no long polls here), so holding the lock for the call covers all of its work."""

    def __init__(self, app: Any) -> None:
        self._app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        with MOTO_LOCK:
            return self._app(environ, start_response)


class MotoServer:
    """moto in server mode, in this process: the functions reach it over HTTP like they reach AWS."""

    def __init__(self, port: int) -> None:
        self._port = port
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    def start(self) -> str:
        # werkzeug logs every request at INFO; the stack logs what matters itself.
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        moto_patches.install()  # before the first request: a moto it does not fit stops the stack here
        moto_cognito.install()  # Cognito as the console meets it: MFA_SETUP, a TOTP secret per user
        app = _OneAtATime(DomainDispatcherApplication(create_backend_app))
        self._server = make_server(HOST, self._port, app, threaded=True, request_handler=MotoRequestHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="moto", daemon=True)
        self._thread.start()
        self.url = f"http://{HOST}:{self._server.server_port}"
        # moto's state is process-wide: a stack started earlier in this process must not leak into this one.
        requests.post(f"{self.url}/moto-api/reset", timeout=10).raise_for_status()
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self.url = ""


@dataclass(frozen=True, slots=True)
class Resources:
    table_name: str
    stream_arn: str
    event_bus_name: str
    events_queue_url: str
    stripe_secret_id: str
    sender_email: str
    ses_configuration_set: str
    reminders_queue_url: str
    imports_queue_url: str
    imports_bucket: str
    webhooks_queue_url: str
    console_user_pool_id: str
    console_client_id: str


def provision(endpoint_url: str, config: StackConfig) -> Resources:
    """Create what the deployed stack has: the table (from shared/schema.py), the Stripe secret, the SES
    sender, the event bus, plus a queue that observes every event on the bus for `GET /_local/events`."""
    dynamodb = client("dynamodb", endpoint_url)
    table = dynamodb.create_table(**schema.create_table_kwargs(config.table_name))["TableDescription"]
    mark_new_table(dynamodb, config.table_name)  # a new table: its counters hold every invoice from the start
    dynamodb.update_time_to_live(
        TableName=config.table_name,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": schema.TTL_ATTRIBUTE},
    )

    client("secretsmanager", endpoint_url).create_secret(
        Name=config.stripe_secret_id,
        SecretString=json.dumps({"api_key": config.stripe_api_key, "webhook_secret": config.stripe_webhook_secret}),
    )
    ses = client("ses", endpoint_url)
    ses.verify_email_identity(EmailAddress=config.sender_email)
    ses.create_configuration_set(ConfigurationSet={"Name": config.ses_configuration_set})

    events = client("events", endpoint_url)
    sqs = client("sqs", endpoint_url)
    events.create_event_bus(Name=config.event_bus_name)
    queue_url = sqs.create_queue(QueueName=config.events_queue_name)["QueueUrl"]
    reminders_queue_url = sqs.create_queue(QueueName=config.reminders_queue_name)["QueueUrl"]
    imports_queue_url = sqs.create_queue(QueueName=config.imports_queue_name)["QueueUrl"]
    # The import uploads bucket (presigned POST forms from POST /v1/imports/uploads)
    client("s3", endpoint_url).create_bucket(Bucket=config.imports_bucket)
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    # EventBridge has no "match everything" pattern; every event on the bus carries our account.
    events.put_rule(
        Name="local-observe-all",
        EventBusName=config.event_bus_name,
        EventPattern=json.dumps({"account": [ACCOUNT_ID]}),
        State="ENABLED",
    )
    events.put_targets(
        Rule="local-observe-all",
        EventBusName=config.event_bus_name,
        Targets=[{"Id": "observer", "Arn": queue_arn}],
    )
    # Outbound webhooks: the deployed stack's rule, every payportal event to the deliveries queue.
    webhooks_queue_url = sqs.create_queue(QueueName=config.webhooks_queue_name)["QueueUrl"]
    webhooks_arn = sqs.get_queue_attributes(QueueUrl=webhooks_queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events.put_rule(
        Name="local-webhooks",
        EventBusName=config.event_bus_name,
        EventPattern=json.dumps({"source": ["payportal"]}),
        State="ENABLED",
    )
    events.put_targets(
        Rule="local-webhooks", EventBusName=config.event_bus_name, Targets=[{"Id": "webhooks", "Arn": webhooks_arn}]
    )
    # The console's user pool, with one user per role: they enrol TOTP at their first sign-in, as in AWS.
    idp = client("cognito-idp", endpoint_url)
    console_pool = cognito.provision(idp, config.console_pool_name)
    cognito.seed_staff(idp, console_pool, config.console_password)
    return Resources(
        console_user_pool_id=console_pool.user_pool_id,
        console_client_id=console_pool.client_id,
        table_name=config.table_name,
        stream_arn=table["LatestStreamArn"],
        event_bus_name=config.event_bus_name,
        events_queue_url=queue_url,
        stripe_secret_id=config.stripe_secret_id,
        sender_email=config.sender_email,
        ses_configuration_set=config.ses_configuration_set,
        reminders_queue_url=reminders_queue_url,
        imports_queue_url=imports_queue_url,
        imports_bucket=config.imports_bucket,
        webhooks_queue_url=webhooks_queue_url,
    )


_LOOKS_LIKE_HTML = re.compile(r"<\s*(!doctype|html|head|body|p|div|table|a|br|h[1-6]|span)\b", re.I)


class _StampedList(list[Any]):
    """moto's list of sent messages, noting when (business time) each one was appended."""

    def __init__(self, items: list[Any], on_append: Callable[[Any], None]) -> None:
        super().__init__(items)
        self._on_append = on_append

    def append(self, item: Any) -> None:
        super().append(item)
        self._on_append(item)


class SentEmails:
    """What the functions sent through SES, read from moto's SES backend in this process.

    moto keeps one body per simple (non-raw) email: the HTML part when there is one, else the text. Raw
    MIME emails keep every part. `sent_at` is business-clock time, so emails sent after a clock jump show
    the date the stack believes it is."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sent_at: dict[str, str] = {}

    def _backend(self) -> Any:
        return ses_backends[ACCOUNT_ID][REGION]

    def install(self) -> None:
        backend = self._backend()
        if not isinstance(backend.sent_messages, _StampedList):
            backend.sent_messages = _StampedList(backend.sent_messages, self._stamp)

    def _stamp(self, message: Any) -> None:
        message_id = getattr(message, "id", None)
        if message_id:
            with self._lock:
                self._sent_at[message_id] = business_clock().now().isoformat()

    def list(self) -> list[dict[str, Any]]:
        self.install()  # again, in case moto was reset since
        with self._lock:
            sent_at = dict(self._sent_at)
        with MOTO_LOCK:
            messages = list(self._backend().sent_messages)
        return [{**_describe(message), "sent_at": sent_at.get(getattr(message, "id", ""))} for message in messages]

    def clear(self) -> None:
        with MOTO_LOCK:
            self._backend().sent_messages.clear()
        with self._lock:
            self._sent_at.clear()


def _destinations(destinations: Any) -> dict[str, list[str]]:
    if isinstance(destinations, dict):
        return {
            "to": list(destinations.get("ToAddresses", [])),
            "cc": list(destinations.get("CcAddresses", [])),
            "bcc": list(destinations.get("BccAddresses", [])),
        }
    # A raw email's list: moto appends the To/Cc/Bcc headers' addresses to the ones the caller gave.
    return {"to": list(dict.fromkeys(destinations or [])), "cc": [], "bcc": []}


def _describe(message: Any) -> dict[str, Any]:
    described: dict[str, Any] = {"id": getattr(message, "id", None), "from": getattr(message, "source", None)}
    if isinstance(message, Message):
        is_html = bool(_LOOKS_LIKE_HTML.search(message.body or ""))
        return {
            **described,
            **_destinations(message.destinations),
            "subject": message.subject,
            "text": None if is_html else message.body,
            "html": message.body if is_html else None,
        }
    if isinstance(message, RawMessage):
        parsed = email.message_from_string(message.raw_data, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        text_part = parsed.get_body(preferencelist=("plain",))
        html_part = parsed.get_body(preferencelist=("html",))
        return {
            **described,
            "from": described["from"] or parsed.get("From"),
            **_destinations(message.destinations),
            "subject": parsed.get("Subject"),
            "text": text_part.get_content() if isinstance(text_part, EmailMessage) else None,
            "html": html_part.get_content() if isinstance(html_part, EmailMessage) else None,
        }
    if isinstance(message, TemplateMessage):
        return {
            **described,
            **_destinations(message.destinations),
            "subject": None,
            "text": None,
            "html": None,
            "template": message.template,
            "template_data": message.template_data,
        }
    return {**described, "to": [], "cc": [], "bcc": [], "subject": None, "text": None, "html": None}


class ObservedEvents:
    """Domain events put on the bus, as delivered to the observer queue; kept once read, so the list
    only ever grows (until cleared)."""

    def __init__(self, endpoint_url: str, queue_url: str) -> None:
        self._sqs = client("sqs", endpoint_url)
        self._queue_url = queue_url
        self._lock = threading.Lock()
        self._events: list[dict[str, Any]] = []

    def list(self) -> list[dict[str, Any]]:
        with self._lock:
            while True:
                messages = self._sqs.receive_message(
                    QueueUrl=self._queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
                ).get("Messages", [])
                if not messages:
                    break
                for message in messages:
                    try:
                        self._events.append(json.loads(message["Body"]))
                    except json.JSONDecodeError:
                        self._events.append({"unparsed": message["Body"]})
                    self._sqs.delete_message(QueueUrl=self._queue_url, ReceiptHandle=message["ReceiptHandle"])
            return list(self._events)

    def clear(self) -> None:
        self.list()
        with self._lock:
            self._events.clear()
