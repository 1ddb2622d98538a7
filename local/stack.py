"""The whole offline stack in one object: moto, the resources, the Stripe front, the API and the outbox.

    stack = LocalStack(StackConfig.for_tests())
    stack.start()
    ...  # stack.api_url, stack.signed(...), stack.drain_outbox()
    stack.stop()

Each function runs in instances of its own (worker processes, local/lambda_runtime.py), started with the
environment `start()` gives this process (os.environ); the outbox and email_feedback functions and any
stand-in `handlers` run in this process, which is why `start()` also points the process at the stack (the
business clock too) and `stop()` puts back what was there before, for the tests that run after it.
`stop()` stops every instance.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import socket
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import requests

from local import sigv4
from local.api_server import ApiGateway, ApiServer
from local.aws import MotoServer, ObservedEvents, Resources, SentEmails, client, provision
from local.batch_poller import BatchQueuePoller
from local.config import (
    ACCESS_KEY_ID,
    HOST,
    OUTBOX_FILTER_PATTERN,
    REGION,
    SECRET_ACCESS_KEY,
    StackConfig,
)
from local.continuations import ContinuationQueues
from local.control import SCHEDULE_TIMEOUT_S, LocalClock, LocalControl
from local.fake_stripe.process import FrontError, FrontProcess
from local.lambda_runtime import FunctionNotFound, FunctionResolver, Handler, LambdaContext
from local.outbox_poller import OutboxHandlerUnavailable, OutboxPoller
from local.queue_poller import QueuePoller
from local.seed import DemoData, seed_demo_data
from local.ses_feedback import SesFeedback
from shared import clock as clock_module
from shared import wiring
from shared.adapters import aws as aws_adapter
from shared.routes import HTTP_FUNCTIONS, IMPORT_FUNCTIONS

logger = logging.getLogger("local.stack")

REPO_ROOT = Path(__file__).resolve().parent.parent
STRIPE_FRONT_MODULE = "local.fake_stripe"
STREAM_TIMEOUT_S = 60.0  # the outbox function's Lambda timeout
WEBHOOK_TIMEOUT_S = 60.0  # the webhook delivery function's


class StackError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def ensure_port_free(port: int, variable: str) -> None:
    """Fail clearly now rather than hang or half-start later (moto's server thread dies silently)."""
    if port == 0:
        return
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError as error:
            raise StackError(
                f"{HOST}:{port} is in use ({error.strerror}); is `make dev` already running? "
                f"Set {variable} to use another port."
            ) from error


def stripe_front_available() -> bool:
    return importlib.util.find_spec(STRIPE_FRONT_MODULE) is not None


_active_stack: LocalStack | None = None  # moto's state and os.environ are per process: one stack at a time


class LocalStack:
    def __init__(
        self,
        config: StackConfig | None = None,
        *,
        handlers: Mapping[str, Handler] | None = None,
        **overrides: Any,
    ) -> None:
        """`config` defaults to `make dev`'s (from the environment); `overrides` change single fields, e.g.
        `LocalStack(api_port=0, seed=False)`. `handlers` replace functions by name (tests); the others are
        imported on first use."""
        config = config or StackConfig.from_environment()
        self.config = replace(config, **overrides) if overrides else config
        self.clock = LocalClock()
        self.resolver = FunctionResolver(handlers, clock=self.clock.fixed_instant)
        self.emails = SentEmails()
        self.ses_feedback = SesFeedback(self._invoke_email_feedback)

        self.resources: Resources | None = None
        self.events: ObservedEvents | None = None
        self.poller: OutboxPoller | None = None
        self.queue_poller: QueuePoller | None = None
        self.webhook_poller: BatchQueuePoller | None = None
        self.control: LocalControl | None = None
        self.stripe_front_running = False

        self._moto: MotoServer | None = None
        self._api: ApiServer | None = None
        self._front: FrontProcess | None = None
        self._stripe_port = 0
        self._saved_environment: dict[str, str | None] = {}
        self._saved_clock: clock_module.Clock | None = None
        self._started = False

    # -- where things are ----------------------------------------------------------------------------------

    @property
    def api_url(self) -> str:
        return f"http://{HOST}:{self._require(self._api).port}"

    @property
    def moto_url(self) -> str:
        return self._require(self._moto).url

    @property
    def stripe_url(self) -> str:
        """Where the Stripe front listens (or would, when it is not running: see `stripe_front_running`)."""
        return f"http://{HOST}:{self._stripe_port}"

    @property
    def started(self) -> bool:
        return self._started

    @staticmethod
    def _require(part: Any) -> Any:
        if part is None:
            raise StackError("the local stack is not started")
        return part

    def environment(self) -> dict[str, str]:
        """What the functions read: the settings CDK gives them in AWS, pointed at this stack."""
        resources = self._require(self.resources)
        return {
            "PAYPORTAL_TABLE": resources.table_name,
            "PAYPORTAL_EVENT_BUS": resources.event_bus_name,
            "PAYPORTAL_SENDER_EMAIL": resources.sender_email,
            "PAYPORTAL_PUBLIC_BASE_URL": self.api_url,
            "PAYPORTAL_SUPPORT_CONTACT": self.config.support_contact,
            "PAYPORTAL_STRIPE_SECRET_ID": resources.stripe_secret_id,
            "PAYPORTAL_STRIPE_API_BASE": self.stripe_url,
            "PAYPORTAL_BUSINESS_NAME": self.config.business_name,
            "PAYPORTAL_BUSINESS_ADDRESS": self.config.business_address,
            "PAYPORTAL_BUSINESS_TAX_ID": self.config.business_tax_id,
            "PAYPORTAL_BUSINESS_LOGO": self.config.business_logo,
            "PAYPORTAL_SES_CONFIGURATION_SET": resources.ses_configuration_set,
            "PAYPORTAL_REMINDERS_QUEUE_URL": resources.reminders_queue_url,
            "PAYPORTAL_IMPORTS_QUEUE_URL": resources.imports_queue_url,
            "PAYPORTAL_IMPORTS_BUCKET": resources.imports_bucket,
            "PAYPORTAL_DIGEST_RECIPIENTS": self.config.digest_recipients,
            "PAYPORTAL_DIGEST_TIMEZONE": self.config.digest_timezone,
            "PAYPORTAL_CONSOLE_CLIENT_ID": resources.console_client_id,
            "PAYPORTAL_CONSOLE_USER_POOL_ID": resources.console_user_pool_id,
            "PAYPORTAL_LOCAL_STACK": "1",
            "PAYPORTAL_WEBHOOKS_QUEUE_URL": resources.webhooks_queue_url,
            "POWERTOOLS_SERVICE_NAME": "payportal",
            "POWERTOOLS_METRICS_NAMESPACE": "payportal-local",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": "INFO",
            "AWS_ENDPOINT_URL": self.moto_url,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            # Nothing from the developer's own AWS setup may leak in (profiles, real endpoints).
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
            **self.config.extra_environment,
        }

    _REMOVED_VARIABLES = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN")

    # -- start / stop --------------------------------------------------------------------------------------

    def start(self) -> LocalStack:
        global _active_stack
        if self._started:
            return self
        if _active_stack is not None:
            raise StackError("another LocalStack is running in this process; stop it first")
        _active_stack = self
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        self._started = True
        return self

    def _start(self) -> None:
        config = self.config
        ensure_port_free(config.api_port, "PAYPORTAL_LOCAL_API_PORT")
        ensure_port_free(config.moto_port, "PAYPORTAL_LOCAL_MOTO_PORT")
        # Bind the API first: its port goes into the settings and the Stripe front's webhook URL.
        self._api = ApiServer(config.api_port, ApiGateway(self.resolver, local_control=self._local_control))

        self._moto = MotoServer(config.moto_port)
        self._moto.start()
        self.resources = provision(self.moto_url, config)
        self.emails.install()
        self.events = ObservedEvents(self.moto_url, self.resources.events_queue_url)
        logger.info("moto ready at %s (table %s)", self.moto_url, self.resources.table_name)

        self._stripe_port = config.stripe_port or free_port()
        self._apply_environment()
        self._saved_clock = clock_module.business_clock()
        clock_module.use_clock(self.clock)
        # One instance of each HTTP function imports its handler while the Stripe front starts: the first
        # requests skip the cold start.
        self.resolver.prewarm(HTTP_FUNCTIONS)

        self._start_stripe_front()

        self.poller = OutboxPoller(
            streams_client=client("dynamodbstreams", self.moto_url),
            stream_arn=self.resources.stream_arn,
            invoke=self._invoke_outbox,
            filter_pattern=OUTBOX_FILTER_PATTERN,
            batch_size=config.outbox_batch_size,
            max_attempts=config.outbox_max_attempts,
            interval_s=config.outbox_poll_interval_s,
        )
        self.control = LocalControl(
            clock=self.clock,
            emails=self.emails,
            events=self.events,
            poller=self.poller,
            resolver=self.resolver,
            stripe_front_url=self.stripe_url if self.stripe_front_running else None,
            continuations=ContinuationQueues(
                client("sqs", self.moto_url),
                {"reminders": self.resources.reminders_queue_url},
                lambda name, event: self.resolver.invoke(name, event, timeout_s=SCHEDULE_TIMEOUT_S),
            ),
        )
        self.queue_poller = QueuePoller(
            ContinuationQueues(
                client("sqs", self.moto_url),
                {name: self.resources.imports_queue_url for name in IMPORT_FUNCTIONS},
                lambda name, event: self.resolver.invoke(name, event, timeout_s=SCHEDULE_TIMEOUT_S),
            ),
            IMPORT_FUNCTIONS,
            interval_s=config.queue_poll_interval_s,
        )
        # Outbound webhooks, as the deployed SQS event source runs them (functions/webhook_delivery).
        self.webhook_poller = BatchQueuePoller(
            client("sqs", self.moto_url),
            self.resources.webhooks_queue_url,
            lambda event: self.resolver.invoke("webhook_delivery", event, timeout_s=WEBHOOK_TIMEOUT_S),
        )
        self._api.start()
        self.poller.start()
        self.queue_poller.start()
        self.webhook_poller.start()
        logger.info("API ready at %s", self.api_url)

    def stop(self) -> None:
        """Stop everything started, in reverse; safe to call twice or after a failed start."""
        if self.poller is not None:
            self.poller.stop()
        if self.queue_poller is not None:
            self.queue_poller.stop()
        if self.webhook_poller is not None:
            self.webhook_poller.stop()
            self.webhook_poller = None
        if self._api is not None:
            self._api.stop()
            self._api = None
        self.resolver.stop()
        self._stop_stripe_front()
        if self._moto is not None:
            self._moto.stop()
            self._moto = None
        if self._saved_clock is not None:
            clock_module.use_clock(self._saved_clock)
            self._saved_clock = None
        self._restore_environment()
        self._started = False
        global _active_stack
        if _active_stack is self:
            _active_stack = None

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def _apply_environment(self) -> None:
        environment = self.environment()
        for name in (*environment, *self._REMOVED_VARIABLES):
            self._saved_environment.setdefault(name, os.environ.get(name))
        for name in self._REMOVED_VARIABLES:
            os.environ.pop(name, None)
        os.environ.update(environment)
        wiring.reset()  # settings and clients are built once per "container": from this environment now

    def _restore_environment(self) -> None:
        for name, value in self._saved_environment.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved_environment.clear()
        wiring.reset()

    # -- the Stripe front ----------------------------------------------------------------------------------

    def _start_stripe_front(self) -> None:
        wanted = self.config.stripe_front
        if wanted is False:
            return
        if not stripe_front_available():
            if wanted is True:
                raise StackError(f"{STRIPE_FRONT_MODULE} does not exist")
            logger.warning("%s does not exist yet: running without the Stripe front", STRIPE_FRONT_MODULE)
            return
        ensure_port_free(self.config.stripe_port, "PAYPORTAL_LOCAL_STRIPE_PORT")
        ensure_port_free(self.config.localstripe_port, "PAYPORTAL_LOCAL_LOCALSTRIPE_PORT")
        self._front = FrontProcess(
            port=self._stripe_port,
            localstripe_port=self.config.localstripe_port or free_port(),
            api_key=self.config.stripe_api_key,
            webhook_secret=self.config.stripe_webhook_secret,
            webhook_url=f"{self.api_url}/webhooks/stripe",
            start_timeout_s=self.config.stripe_front_start_timeout_s,
        )
        try:
            self._front.start()
        except FrontError as error:
            raise StackError(str(error)) from None
        self.stripe_front_running = True
        logger.info("Stripe front ready at %s", self.stripe_url)

    def _stop_stripe_front(self) -> None:
        front, self._front = self._front, None
        self.stripe_front_running = False
        if front is not None:
            front.stop()

    # -- functions -----------------------------------------------------------------------------------------

    def _local_control(self, request: Any) -> Any:
        return self._require(self.control)(request)

    def _invoke_outbox(self, event: dict[str, Any]) -> Any:
        # A function that cannot load leaves the records on the stream, as a broken deployment would.
        try:
            handler = self.resolver.resolve("outbox")
        except FunctionNotFound as error:
            raise OutboxHandlerUnavailable("functions/outbox/handler.py does not exist (yet)") from error
        except Exception as error:
            raise OutboxHandlerUnavailable(f"functions/outbox/handler.py does not load: {error!r}") from error
        self.ses_feedback.watch(aws_adapter.client("ses"))  # the functions' SES client; rebuilt after wiring.reset()
        try:
            return handler(event, LambdaContext(function_name="payportal-local-outbox", timeout_s=STREAM_TIMEOUT_S))
        finally:
            self.ses_feedback.flush()  # SES's verdict on simulator addresses, as SNS would deliver it

    def _invoke_email_feedback(self, event: dict[str, Any]) -> Any:
        return self.resolver.invoke("email_feedback", event)

    # -- for tests and seeding -----------------------------------------------------------------------------

    def drain_outbox(self, timeout_s: float = 30.0) -> None:
        """Deliver every outbox record on the stream now (retries included)."""
        self._require(self.poller).drain(timeout_s)

    def signed(
        self, method: str, path: str, body: Any = None, headers: Mapping[str, str] | None = None
    ) -> requests.Response:
        """An operator API request to this stack, signed as the local operator."""
        return sigv4.signed_request(method, f"{self.api_url}{path}", body, headers)

    def seed_demo_data(self) -> DemoData:
        """The demo customer and invoice `make dev` starts with."""
        return seed_demo_data(self.api_url, self.clock.now().date())

    def function_logs(self, name: str) -> list[str]:
        """The recent lines the function's instances wrote (its Powertools log lines among them)."""
        return self.resolver.logs.lines(name)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return requests.get(f"{self.api_url}{path}", timeout=30, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return requests.post(f"{self.api_url}{path}", timeout=30, **kwargs)
