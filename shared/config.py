"""Settings, read from the environment once per container on first use (never at import time).

Environment variables (CDK sets them in AWS; the local stack sets them for `make dev`):

| variable                         | meaning                                                        |
|----------------------------------|----------------------------------------------------------------|
| PAYPORTAL_TABLE                  | DynamoDB table name                                            |
| PAYPORTAL_EVENT_BUS              | EventBridge bus for domain events                              |
| PAYPORTAL_SENDER_EMAIL           | SES sender identity (From)                                     |
| PAYPORTAL_PUBLIC_BASE_URL        | base URL of the pay pages, e.g. https://pay.example.com        |
| PAYPORTAL_SUPPORT_CONTACT        | shown on error pages and emails                                |
| PAYPORTAL_PAYMENT_METHOD_TYPES   | Checkout payment method types, comma-separated (default card)  |
| PAYPORTAL_STRIPE_SECRET_ID       | Secrets Manager id of {"api_key": ..., "webhook_secret": ...}  |
| PAYPORTAL_STRIPE_API_BASE        | only for the local stack: where the Stripe SDK sends requests  |
| PAYPORTAL_PAY_LINK_TTL_DAYS      | how long a pay link stays valid (default 90)                   |
| PAYPORTAL_BUSINESS_NAME          | the name customers see on pages and emails                     |
| PAYPORTAL_BUSINESS_ADDRESS       | its address on documents (PDFs), one line per line             |
| PAYPORTAL_BUSINESS_TAX_ID        | its tax id (VAT number, EIN) on documents; empty: none         |
| PAYPORTAL_BUSINESS_LOGO          | a PNG or JPEG in shared/branding/ drawn on documents; empty: none |
| PAYPORTAL_PROMISE_MAX_DAYS       | how far ahead a customer may promise to pay (default 14)       |
| PAYPORTAL_CHARGE_RETRY_DAYS      | days between retries of a declined off-session charge (3,5,7) |
| PAYPORTAL_AUTOPAY_NOTICE_DAYS    | days before the due date an autopay charge is announced (3)   |
| PAYPORTAL_SES_CONFIGURATION_SET  | SES configuration set whose events report bounces, complaints  |
| PAYPORTAL_REMINDERS_QUEUE_URL    | SQS queue where a dunning run out of time leaves the rest      |
| PAYPORTAL_IMPORTS_QUEUE_URL      | SQS queue of bulk imports' chunks (operator API, the worker)   |
| PAYPORTAL_IMPORTS_BUCKET         | S3 bucket of files uploaded for an import (operator API, the worker) |
| PAYPORTAL_DIGEST_RECIPIENTS      | the operator's addresses for the morning digest, comma-separated; empty: none |
| PAYPORTAL_DIGEST_TIMEZONE        | the operator's IANA time zone: the digest's "today" (default UTC) |
| PAYPORTAL_CONSOLE_CLIENT_ID      | the console's Cognito app client (the console function only)   |
| PAYPORTAL_CONSOLE_USER_POOL_ID   | the console's Cognito user pool, for its Users page (the console function only) |
| PAYPORTAL_WEBHOOKS_QUEUE_URL     | SQS queue of outbound webhook deliveries (the delivery function) |
| PAYPORTAL_FINANCIAL_RETENTION_DAYS | days financial records are kept once final (default 3653: 10 years) |
| PAYPORTAL_LOCAL_STACK            | "1" only on the local stack: webhooks may go to http://127.0.0.1 |
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from shared.domain import retention

# The business's logo (PAYPORTAL_BUSINESS_LOGO) is a file here, shipped with shared/ in every function's code.
BRANDING_DIR = Path(__file__).parent / "branding"


class ConfigurationError(RuntimeError):
    """A required setting is missing: a deployment problem, never the caller's fault."""


@dataclass(frozen=True, slots=True)
class Settings:
    table_name: str
    event_bus_name: str
    sender_email: str
    public_base_url: str
    support_contact: str
    payment_method_types: tuple[str, ...]
    stripe_secret_id: str
    stripe_api_base: str | None
    pay_link_ttl_days: int
    business_name: str
    business_address: tuple[str, ...] = ()
    business_tax_id: str = ""
    business_logo: str = ""
    promise_max_days: int = 14
    ses_configuration_set: str | None = None
    autopay_notice_days: int = 3
    charge_retry_days: tuple[int, ...] = (3, 5, 7)
    reminders_queue_url: str | None = None
    digest_recipients: tuple[str, ...] = ()
    digest_timezone: str = "UTC"
    console_client_id: str | None = None
    console_user_pool_id: str | None = None
    imports_queue_url: str | None = None
    imports_bucket: str | None = None
    webhooks_queue_url: str | None = None
    local_stack: bool = False
    financial_retention_days: int = retention.DEFAULT_FINANCIAL_DAYS

    @classmethod
    def from_environment(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ

        def required(name: str) -> str:
            value = env.get(name, "").strip()
            if not value:
                raise ConfigurationError(f"{name} is not set")
            return value

        return cls(
            table_name=required("PAYPORTAL_TABLE"),
            event_bus_name=env.get("PAYPORTAL_EVENT_BUS", "payportal"),
            sender_email=env.get("PAYPORTAL_SENDER_EMAIL", "billing@example.com"),
            public_base_url=required("PAYPORTAL_PUBLIC_BASE_URL").rstrip("/"),
            support_contact=env.get("PAYPORTAL_SUPPORT_CONTACT", "support@example.com"),
            payment_method_types=tuple(
                t.strip() for t in env.get("PAYPORTAL_PAYMENT_METHOD_TYPES", "card").split(",") if t.strip()
            ),
            stripe_secret_id=env.get("PAYPORTAL_STRIPE_SECRET_ID", "payportal/stripe"),
            stripe_api_base=env.get("PAYPORTAL_STRIPE_API_BASE") or None,
            pay_link_ttl_days=int(env.get("PAYPORTAL_PAY_LINK_TTL_DAYS", "90")),
            business_name=env.get("PAYPORTAL_BUSINESS_NAME", "payportal"),
            business_address=tuple(
                line.strip() for line in env.get("PAYPORTAL_BUSINESS_ADDRESS", "").splitlines() if line.strip()
            ),
            business_tax_id=env.get("PAYPORTAL_BUSINESS_TAX_ID", "").strip(),
            business_logo=env.get("PAYPORTAL_BUSINESS_LOGO", "").strip(),
            promise_max_days=int(env.get("PAYPORTAL_PROMISE_MAX_DAYS", "14")),
            ses_configuration_set=env.get("PAYPORTAL_SES_CONFIGURATION_SET") or None,
            autopay_notice_days=int(env.get("PAYPORTAL_AUTOPAY_NOTICE_DAYS", "3")),
            charge_retry_days=_days(env.get("PAYPORTAL_CHARGE_RETRY_DAYS", "3,5,7"), "PAYPORTAL_CHARGE_RETRY_DAYS"),
            reminders_queue_url=env.get("PAYPORTAL_REMINDERS_QUEUE_URL") or None,
            digest_recipients=tuple(
                a.strip() for a in env.get("PAYPORTAL_DIGEST_RECIPIENTS", "").split(",") if a.strip()
            ),
            digest_timezone=env.get("PAYPORTAL_DIGEST_TIMEZONE", "").strip() or "UTC",
            console_client_id=env.get("PAYPORTAL_CONSOLE_CLIENT_ID") or None,
            console_user_pool_id=env.get("PAYPORTAL_CONSOLE_USER_POOL_ID") or None,
            imports_queue_url=env.get("PAYPORTAL_IMPORTS_QUEUE_URL") or None,
            imports_bucket=env.get("PAYPORTAL_IMPORTS_BUCKET") or None,
            webhooks_queue_url=env.get("PAYPORTAL_WEBHOOKS_QUEUE_URL") or None,
            local_stack=env.get("PAYPORTAL_LOCAL_STACK", "").strip() == "1",
            financial_retention_days=_retention_days(env.get("PAYPORTAL_FINANCIAL_RETENTION_DAYS")),
        )


def _retention_days(raw: str | None) -> int:
    try:
        return retention.financial_days_from(raw)
    except ValueError as error:
        raise ConfigurationError(f"PAYPORTAL_FINANCIAL_RETENTION_DAYS: {error}") from None


def _days(raw: str, name: str) -> tuple[int, ...]:
    try:
        days = tuple(int(part) for part in raw.split(",") if part.strip())
    except ValueError:
        raise ConfigurationError(f"{name} must be whole days separated by commas, e.g. 3,5,7") from None
    if not days or any(d < 1 for d in days):
        raise ConfigurationError(f"{name} must list at least one day, each 1 or more")
    return days


@cache
def settings() -> Settings:
    """The container's settings, read on first use."""
    return Settings.from_environment()
