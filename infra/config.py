"""What one deployment of payportal is configured with: the CDK context, read once per app.

Context keys (defaults in cdk.json, override with `cdk synth -c key=value`):

| key                            | meaning                                                        |
|--------------------------------|----------------------------------------------------------------|
| stage                          | `dev` or `prod`; names, retention and removal policies follow  |
| payportal:sesSender            | the SES sender identity (From)                                 |
| payportal:publicBaseUrl        | base URL of the pay pages; empty: the API's own invoke URL     |
| payportal:supportContact       | shown on error pages and emails                                |
| payportal:paymentMethodTypes   | Stripe Checkout payment method types, comma-separated          |
| payportal:businessName         | the name customers see on pages and emails                     |
| payportal:businessAddress      | its address on documents (PDFs); lines separated by newlines   |
| payportal:businessTaxId        | its tax id (VAT number, EIN) on documents; empty: none         |
| payportal:businessLogo         | a PNG or JPEG file name in shared/branding/ for documents      |
| payportal:nag                  | `false` turns the cdk-nag checks off                           |
| payportal:alarmEmail           | subscribed to the alarm topic (confirm the email); empty: none |
| payportal:domainName           | custom domain of the API and pay pages (`pay.example.com`)     |
| payportal:certificateArn       | ACM certificate for it, in the stack's region; or, instead:    |
| payportal:hostedZoneId         | Route 53 zone of the domain: a DNS-validated certificate is    |
| payportal:hostedZoneName       | made, and an alias record pointed at the API                   |
| payportal:reservedConcurrency  | `true`/`false`: cap outbox and charges (SES, Stripe limits);   |
|                                | default on in prod, off in dev (new accounts cannot reserve)   |
| payportal:digestRecipients     | the morning digest's addresses, comma-separated; empty: none   |
| payportal:digestHour           | the local hour (0-23) it is sent at; default 7                 |
| payportal:digestTimezone       | the IANA zone of that hour and of its "today"; default UTC     |
|                                | (also the days of the accounting exports)                      |
| payportal:auditTrail           | `true`/`false`: a CloudTrail trail of the account's management |
|                                | events (default true; false where an organization trail exists)|
| payportal:auditTrailDays       | days the trail's log files are kept (default 400)              |
| payportal:tableDataEvents      | `true`: the trail also records every read and write of the     |
|                                | table (data events, billed per event); default false           |
| payportal:financialRetentionDays | days financial records are kept once final (365-36500;       |
|                                | default 3653, 10 years); customers until their last one goes   |
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aws_cdk import RemovalPolicy, aws_logs
from constructs import Node

from shared.config import BRANDING_DIR
from shared.domain import retention

CONTEXT_STAGE: Final = "stage"
CONTEXT_SES_SENDER: Final = "payportal:sesSender"
CONTEXT_PUBLIC_BASE_URL: Final = "payportal:publicBaseUrl"
CONTEXT_SUPPORT_CONTACT: Final = "payportal:supportContact"
CONTEXT_PAYMENT_METHOD_TYPES: Final = "payportal:paymentMethodTypes"
CONTEXT_BUSINESS_NAME: Final = "payportal:businessName"
CONTEXT_BUSINESS_ADDRESS: Final = "payportal:businessAddress"
CONTEXT_BUSINESS_TAX_ID: Final = "payportal:businessTaxId"
CONTEXT_BUSINESS_LOGO: Final = "payportal:businessLogo"
LOGO_SUFFIXES: Final = (".png", ".jpg", ".jpeg")
CONTEXT_NAG: Final = "payportal:nag"
CONTEXT_ALARM_EMAIL: Final = "payportal:alarmEmail"
CONTEXT_DOMAIN_NAME: Final = "payportal:domainName"
CONTEXT_CERTIFICATE_ARN: Final = "payportal:certificateArn"
CONTEXT_HOSTED_ZONE_ID: Final = "payportal:hostedZoneId"
CONTEXT_HOSTED_ZONE_NAME: Final = "payportal:hostedZoneName"
CONTEXT_RESERVED_CONCURRENCY: Final = "payportal:reservedConcurrency"
CONTEXT_DIGEST_RECIPIENTS: Final = "payportal:digestRecipients"
CONTEXT_DIGEST_HOUR: Final = "payportal:digestHour"
CONTEXT_DIGEST_TIMEZONE: Final = "payportal:digestTimezone"
CONTEXT_AUDIT_TRAIL: Final = "payportal:auditTrail"
CONTEXT_AUDIT_TRAIL_DAYS: Final = "payportal:auditTrailDays"
CONTEXT_TABLE_DATA_EVENTS: Final = "payportal:tableDataEvents"
# Days financial records are kept once final (shared/domain/retention.py; docs/security.md section 2).
CONTEXT_FINANCIAL_RETENTION_DAYS: Final = "payportal:financialRetentionDays"
DEFAULT_AUDIT_TRAIL_DAYS: Final = 400  # over a year: PCI DSS keeps audit history 12 months
DEFAULT_DIGEST_HOUR: Final = 7

STAGES: Final = ("dev", "prod")
DEFAULT_BUSINESS_NAME: Final = "payportal"


class InvalidContextError(ValueError):
    """The CDK context does not describe a deployable stage."""


@dataclass(frozen=True, slots=True)
class StageConfig:
    stage: str
    sender_email: str
    public_base_url: str  # empty: use the API's invoke URL
    support_contact: str
    payment_method_types: str
    business_name: str
    business_address: str = ""  # its lines, separated by newlines
    business_tax_id: str = ""
    business_logo: str = ""  # a file name in shared/branding/
    alarm_email: str = ""  # empty: alarms go to the topic only
    domain_name: str = ""  # empty: the API's execute-api URL
    certificate_arn: str = ""
    hosted_zone_id: str = ""
    hosted_zone_name: str = ""
    reserve_concurrency: bool = False
    digest_recipients: tuple[str, ...] = ()  # empty: the digest runs daily and sends nothing
    digest_hour: int = DEFAULT_DIGEST_HOUR
    digest_timezone: str = "UTC"
    audit_trail: bool = True
    audit_trail_days: int = DEFAULT_AUDIT_TRAIL_DAYS
    table_data_events: bool = False
    financial_retention_days: int = retention.DEFAULT_FINANCIAL_DAYS

    @classmethod
    def from_context(cls, node: Node) -> StageConfig:
        def value(key: str, default: str = "") -> str:
            raw = node.try_get_context(key)
            return default if raw is None else str(raw).strip()

        stage = value(CONTEXT_STAGE, "dev")
        if stage not in STAGES:
            raise InvalidContextError(f"context {CONTEXT_STAGE!r} must be one of {STAGES}, got {stage!r}")
        sender_email = value(CONTEXT_SES_SENDER)
        if "@" not in sender_email:
            raise InvalidContextError(f"context {CONTEXT_SES_SENDER!r} must be an email address")
        alarm_email = value(CONTEXT_ALARM_EMAIL)
        if alarm_email and "@" not in alarm_email:
            raise InvalidContextError(f"context {CONTEXT_ALARM_EMAIL!r} must be an email address or empty")
        domain_name = value(CONTEXT_DOMAIN_NAME).lower().rstrip(".")
        certificate_arn, zone_id, zone_name = (
            value(CONTEXT_CERTIFICATE_ARN), value(CONTEXT_HOSTED_ZONE_ID), value(CONTEXT_HOSTED_ZONE_NAME),
        )  # fmt: skip
        if domain_name:
            if "." not in domain_name or "/" in domain_name or ":" in domain_name:
                raise InvalidContextError(f"context {CONTEXT_DOMAIN_NAME!r} must be a host name, got {domain_name!r}")
            if not certificate_arn and not (zone_id and zone_name):
                raise InvalidContextError(
                    f"a custom domain needs {CONTEXT_CERTIFICATE_ARN!r}, or {CONTEXT_HOSTED_ZONE_ID!r} and "
                    f"{CONTEXT_HOSTED_ZONE_NAME!r} to make a certificate"
                )
            if certificate_arn and not certificate_arn.startswith("arn:"):
                raise InvalidContextError(f"context {CONTEXT_CERTIFICATE_ARN!r} must be an ACM certificate ARN")
        elif certificate_arn or zone_id:
            raise InvalidContextError(f"a certificate or hosted zone needs {CONTEXT_DOMAIN_NAME!r}")
        reserve = value(CONTEXT_RESERVED_CONCURRENCY, "true" if stage == "prod" else "false").lower()
        if reserve not in ("true", "false"):
            raise InvalidContextError(f"context {CONTEXT_RESERVED_CONCURRENCY!r} must be true or false")
        recipients, hour, timezone = _digest(value)
        trail, trail_days, data_events = _audit_trail(value)
        try:
            financial_days = retention.financial_days_from(value(CONTEXT_FINANCIAL_RETENTION_DAYS))
        except ValueError as error:
            raise InvalidContextError(f"context {CONTEXT_FINANCIAL_RETENTION_DAYS!r}: {error}") from None
        logo = value(CONTEXT_BUSINESS_LOGO)
        if logo and (Path(logo).name != logo or not logo.lower().endswith(LOGO_SUFFIXES)):
            raise InvalidContextError(
                f"context {CONTEXT_BUSINESS_LOGO!r} must be a PNG or JPEG file name in shared/branding/, got {logo!r}"
            )
        if logo and not (BRANDING_DIR / logo).is_file():
            raise InvalidContextError(f"context {CONTEXT_BUSINESS_LOGO!r}: no file shared/branding/{logo}")
        return cls(
            stage=stage,
            sender_email=sender_email,
            public_base_url=value(CONTEXT_PUBLIC_BASE_URL).rstrip("/"),
            support_contact=value(CONTEXT_SUPPORT_CONTACT, sender_email),
            payment_method_types=value(CONTEXT_PAYMENT_METHOD_TYPES, "card"),
            business_name=value(CONTEXT_BUSINESS_NAME, DEFAULT_BUSINESS_NAME),
            business_address=value(CONTEXT_BUSINESS_ADDRESS),
            business_tax_id=value(CONTEXT_BUSINESS_TAX_ID),
            business_logo=logo,
            alarm_email=alarm_email,
            domain_name=domain_name,
            certificate_arn=certificate_arn,
            hosted_zone_id=zone_id,
            hosted_zone_name=zone_name,
            reserve_concurrency=reserve == "true",
            digest_recipients=recipients,
            digest_hour=hour,
            digest_timezone=timezone,
            audit_trail=trail,
            audit_trail_days=trail_days,
            table_data_events=data_events,
            financial_retention_days=financial_days,
        )

    @property
    def digest_schedule(self) -> str:
        """The digest's EventBridge Scheduler expression, at `digest_hour` in `digest_timezone` (its own
        ScheduleExpressionTimezone: Scheduler keeps the local hour across daylight saving changes)."""
        return f"cron(0 {self.digest_hour} * * ? *)"

    @property
    def is_prod(self) -> bool:
        return self.stage == "prod"

    @property
    def custom_origin(self) -> str:
        """`https://{domain}` with a custom domain, else empty."""
        return f"https://{self.domain_name}" if self.domain_name else ""

    @property
    def log_retention(self) -> aws_logs.RetentionDays:
        return aws_logs.RetentionDays.ONE_YEAR if self.is_prod else aws_logs.RetentionDays.ONE_MONTH

    @property
    def disposable_removal_policy(self) -> RemovalPolicy:
        """For what can be rebuilt (logs, the DLQ, the secret's shell): kept in prod, deleted in dev.

        The table and its KMS key never use this: they are RETAIN in every stage, because deleting
        the key makes the table and its backups unreadable.
        """
        return RemovalPolicy.RETAIN if self.is_prod else RemovalPolicy.DESTROY


def _digest(value: Callable[[str, str], str]) -> tuple[tuple[str, ...], int, str]:
    recipients = tuple(a.strip() for a in value(CONTEXT_DIGEST_RECIPIENTS, "").split(",") if a.strip())
    if any("@" not in a for a in recipients):
        raise InvalidContextError(f"context {CONTEXT_DIGEST_RECIPIENTS!r} must be email addresses, comma-separated")
    raw_hour = value(CONTEXT_DIGEST_HOUR, str(DEFAULT_DIGEST_HOUR))
    if not raw_hour.isdigit() or not 0 <= int(raw_hour) <= 23:
        raise InvalidContextError(f"context {CONTEXT_DIGEST_HOUR!r} must be an hour from 0 to 23, got {raw_hour!r}")
    timezone = value(CONTEXT_DIGEST_TIMEZONE, "UTC")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidContextError(
            f"context {CONTEXT_DIGEST_TIMEZONE!r} must be an IANA time zone, got {timezone!r}"
        ) from None
    return recipients, int(raw_hour), timezone


def nag_enabled(node: Node) -> bool:
    """cdk-nag runs unless the context says `false` (a string from `-c`, or a JSON false)."""
    return str(node.try_get_context(CONTEXT_NAG)).strip().lower() != "false"


def _flag(value: Callable[[str, str], str], key: str, default: bool) -> bool:
    raw = value(key, "true" if default else "false").lower()
    if raw not in ("true", "false"):
        raise InvalidContextError(f"context {key!r} must be true or false, got {raw!r}")
    return raw == "true"


def _audit_trail(value: Callable[[str, str], str]) -> tuple[bool, int, bool]:
    trail = _flag(value, CONTEXT_AUDIT_TRAIL, True)
    raw_days = value(CONTEXT_AUDIT_TRAIL_DAYS, str(DEFAULT_AUDIT_TRAIL_DAYS))
    if not raw_days.isdigit() or not 90 <= int(raw_days) <= 3653:
        raise InvalidContextError(f"context {CONTEXT_AUDIT_TRAIL_DAYS!r} must be a whole number of days, 90 to 3653")
    data_events = _flag(value, CONTEXT_TABLE_DATA_EVENTS, False)
    if data_events and not trail:
        raise InvalidContextError(f"context {CONTEXT_TABLE_DATA_EVENTS!r} needs the trail ({CONTEXT_AUDIT_TRAIL!r})")
    return trail, int(raw_days), data_events
