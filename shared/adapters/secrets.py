"""Stripe credentials from Secrets Manager, cached for five minutes per container.

A small reader of our own instead of Powertools Parameters: importing that package loads boto3 (through
its AppConfig provider), about 50 ms of the webhook's cold start (docs/decisions.md).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass

from shared.adapters.aws import client

SECRET_MAX_AGE_SECONDS = 300

_lock = threading.Lock()
_cache: dict[str, tuple[float, StripeCredentials]] = {}


@dataclass(frozen=True, slots=True)
class StripeCredentials:
    api_key: str
    webhook_secrets: tuple[str, ...]  # the current one first; a previous one during a rotation

    def __repr__(self) -> str:  # never print a secret, even by accident
        return "StripeCredentials(<redacted>)"

    @property
    def livemode(self) -> bool:
        """Whether the key moves real money (Stripe's live mode): only events of the same mode are ours."""
        return self.api_key.startswith(("sk_live_", "rk_live_"))


def stripe_credentials(secret_id: str) -> StripeCredentials:
    now = time.monotonic()
    with _lock:
        cached = _cache.get(secret_id)
        if cached and now - cached[0] < SECRET_MAX_AGE_SECONDS:
            return cached[1]
    credentials = _parse(secret_id, _fetch(secret_id))
    with _lock:
        _cache[secret_id] = (now, credentials)
    return credentials


def clear_cache() -> None:
    with _lock:
        _cache.clear()


def _fetch(secret_id: str) -> str:
    return str(client("secretsmanager").get_secret_value(SecretId=secret_id)["SecretString"])


def _parse(secret_id: str, raw: str) -> StripeCredentials:
    try:
        value = json.loads(raw)
    except ValueError:
        value = None
    if not isinstance(value, dict) or not value.get("api_key") or not value.get("webhook_secret"):
        raise RuntimeError(f"secret {secret_id} must be JSON with api_key and webhook_secret")
    secrets = [str(value["webhook_secret"])]
    if value.get("previous_webhook_secret"):
        secrets.append(str(value["previous_webhook_secret"]))
    return StripeCredentials(api_key=str(value["api_key"]), webhook_secrets=tuple(secrets))
