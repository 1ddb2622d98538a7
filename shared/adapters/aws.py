"""boto3 clients, built lazily once per container and reused across invocations."""

from __future__ import annotations

from functools import cache
from typing import Any

# Short timeouts and bounded retries: a hung call must fail fast enough for Stripe or the stream to retry.
_CLIENT_CONFIG: dict[str, Any] = {
    "connect_timeout": 2,
    "read_timeout": 5,
    "retries": {"mode": "standard", "max_attempts": 3},
}


@cache
def client(service: str) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.session.Session().client(service, config=Config(**_CLIENT_CONFIG))  # type: ignore[call-overload]
