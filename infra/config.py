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
| payportal:nag                  | `false` turns the cdk-nag checks off                           |
| payportal:alarmEmail           | subscribed to the alarm topic (confirm the email); empty: none |
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from aws_cdk import RemovalPolicy, aws_logs
from constructs import Node

CONTEXT_STAGE: Final = "stage"
CONTEXT_SES_SENDER: Final = "payportal:sesSender"
CONTEXT_PUBLIC_BASE_URL: Final = "payportal:publicBaseUrl"
CONTEXT_SUPPORT_CONTACT: Final = "payportal:supportContact"
CONTEXT_PAYMENT_METHOD_TYPES: Final = "payportal:paymentMethodTypes"
CONTEXT_BUSINESS_NAME: Final = "payportal:businessName"
CONTEXT_NAG: Final = "payportal:nag"
CONTEXT_ALARM_EMAIL: Final = "payportal:alarmEmail"

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
    alarm_email: str = ""  # empty: alarms go to the topic only

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
        return cls(
            stage=stage,
            sender_email=sender_email,
            public_base_url=value(CONTEXT_PUBLIC_BASE_URL).rstrip("/"),
            support_contact=value(CONTEXT_SUPPORT_CONTACT, sender_email),
            payment_method_types=value(CONTEXT_PAYMENT_METHOD_TYPES, "card"),
            business_name=value(CONTEXT_BUSINESS_NAME, DEFAULT_BUSINESS_NAME),
            alarm_email=alarm_email,
        )

    @property
    def is_prod(self) -> bool:
        return self.stage == "prod"

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


def nag_enabled(node: Node) -> bool:
    """cdk-nag runs unless the context says `false` (a string from `-c`, or a JSON false)."""
    return str(node.try_get_context(CONTEXT_NAG)).strip().lower() != "false"
