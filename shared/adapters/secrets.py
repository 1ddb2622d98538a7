"""Stripe credentials from Secrets Manager, through Powertools Parameters (cached, refreshed every 5 min)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

SECRET_MAX_AGE_SECONDS = 300


@dataclass(frozen=True, slots=True)
class StripeCredentials:
    api_key: str
    webhook_secrets: tuple[str, ...]  # the current one first; a previous one during a rotation

    def __repr__(self) -> str:  # never print a secret, even by accident
        return "StripeCredentials(<redacted>)"


@cache
def _provider() -> Any:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

    from shared.adapters.aws import client

    return SecretsProvider(boto3_client=client("secretsmanager"))


def stripe_credentials(secret_id: str) -> StripeCredentials:
    value = _provider().get(secret_id, transform="json", max_age=SECRET_MAX_AGE_SECONDS)
    if not isinstance(value, dict) or not value.get("api_key") or not value.get("webhook_secret"):
        raise RuntimeError(f"secret {secret_id} must hold api_key and webhook_secret")
    secrets = [str(value["webhook_secret"])]
    if value.get("previous_webhook_secret"):
        secrets.append(str(value["previous_webhook_secret"]))
    return StripeCredentials(api_key=str(value["api_key"]), webhook_secrets=tuple(secrets))
