"""Settings of the offline stack: ports, resource names and the fake AWS identity it runs under.

Only the ports and the seeding switch come from the environment (`make dev` defaults below); the rest
are fixed so every developer's stack looks the same.

| variable                          | default |
|-----------------------------------|---------|
| PAYPORTAL_LOCAL_API_PORT          | 3000    |
| PAYPORTAL_LOCAL_MOTO_PORT         | 5000    |
| PAYPORTAL_LOCAL_STRIPE_PORT       | 8420    |
| PAYPORTAL_LOCAL_LOCALSTRIPE_PORT  | 8421    |
| PAYPORTAL_LOCAL_SEED              | 1       |
| PAYPORTAL_LOCAL_CONSOLE_PASSWORD  | Local-Console-2027! (the console's three seeded users) |

A port of 0 means "any free port" (what the tests use, so they never clash with a running `make dev`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Final

from local.cognito import DEFAULT_CONSOLE_PASSWORD
from shared import schema
from shared.routes import SCHEDULED_FUNCTIONS

HOST: Final = "127.0.0.1"

# The fake AWS account everything runs in; moto's default account.
REGION: Final = "us-east-1"
ACCOUNT_ID: Final = "123456789012"
ACCESS_KEY_ID: Final = "testing"
SECRET_ACCESS_KEY: Final = "testing"

# Who a correctly signed operator request comes from (requestContext.identity).
OPERATOR_USER_ID: Final = "AIDALOCALOPERATOR0001"
OPERATOR_USER_ARN: Final = f"arn:aws:iam::{ACCOUNT_ID}:user/local-operator"

# Scheduled functions `POST /_local/schedules/{name}/run` may fire (only those whose folder exists).
SCHEDULES: Final = tuple(SCHEDULED_FUNCTIONS)

# The outbox function's event source mapping filter, as deployed: only new outbox items reach it.
# infra builds the same pattern; keep the two in step.
OUTBOX_FILTER_PATTERN: Final[Mapping[str, object]] = {
    "eventName": ["INSERT"],
    "dynamodb": {"Keys": {schema.PARTITION_KEY: {"S": [{"prefix": schema.OUTBOX_PREFIX}]}}},
}


def _port(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    return parse_port(raw, name) if raw else default


def parse_port(raw: object, name: str) -> int:
    """A TCP port from a flag or variable; 0 means any free port."""
    try:
        port = int(str(raw))
    except ValueError:
        raise ValueError(f"{name} must be a port number, got {raw!r}") from None
    if not 0 <= port <= 65535:
        raise ValueError(f"{name} must be between 0 and 65535, got {port}")
    return port


@dataclass(frozen=True, slots=True)
class StackConfig:
    api_port: int = 3000
    moto_port: int = 5000
    stripe_port: int = 8420
    localstripe_port: int = 8421

    table_name: str = "payportal-local"
    event_bus_name: str = "payportal-local"
    events_queue_name: str = "payportal-local-observed-events"
    reminders_queue_name: str = "payportal-local-reminders-continuations"
    imports_queue_name: str = "payportal-local-imports"
    imports_bucket: str = "payportal-local-import-uploads"
    webhooks_queue_name: str = "payportal-local-webhook-deliveries"
    sender_email: str = "billing@payportal.local"
    ses_configuration_set: str = "payportal-local"
    support_contact: str = "support@payportal.local"
    business_name: str = "Payportal Local"
    business_address: str = "1 Example Street\n10115 Berlin\nGermany"
    business_tax_id: str = "DE000000000"
    business_logo: str = "example-logo.png"
    # Who gets the morning digest (POST /_local/schedules/digest/run; GET /_local/emails shows it).
    digest_recipients: str = "finance@payportal.local"
    digest_timezone: str = "UTC"
    stripe_secret_id: str = "payportal/local/stripe"
    stripe_api_key: str = "sk_test_local"
    stripe_webhook_secret: str = "whsec_local"
    console_pool_name: str = "payportal-local-console"
    console_password: str = DEFAULT_CONSOLE_PASSWORD

    # "auto": start the Stripe front when local/fake_stripe exists; True: it must; False: never.
    stripe_front: bool | str = "auto"
    stripe_front_start_timeout_s: float = 60.0
    seed: bool = True

    outbox_poll_interval_s: float = 0.25
    queue_poll_interval_s: float = 0.25  # the imports queue (local/queue_poller.py)
    outbox_batch_size: int = 100
    # Deliveries of a failing record before it goes to the dead letters (first try included).
    outbox_max_attempts: int = 3

    extra_environment: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> StackConfig:
        env = os.environ if environ is None else environ
        return cls(
            api_port=_port(env, "PAYPORTAL_LOCAL_API_PORT", 3000),
            moto_port=_port(env, "PAYPORTAL_LOCAL_MOTO_PORT", 5000),
            stripe_port=_port(env, "PAYPORTAL_LOCAL_STRIPE_PORT", 8420),
            localstripe_port=_port(env, "PAYPORTAL_LOCAL_LOCALSTRIPE_PORT", 8421),
            seed=env.get("PAYPORTAL_LOCAL_SEED", "1").strip().lower() not in {"0", "false", "no", "off"},
            console_password=env.get("PAYPORTAL_LOCAL_CONSOLE_PASSWORD") or DEFAULT_CONSOLE_PASSWORD,
        )

    @classmethod
    def for_tests(cls, **overrides: object) -> StackConfig:
        """Free ports, no demo data: safe next to a running `make dev`."""
        base = cls(api_port=0, moto_port=0, stripe_port=0, localstripe_port=0, seed=False)
        return replace(base, **overrides)  # type: ignore[arg-type]
