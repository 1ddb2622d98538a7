"""Stripe webhook signatures, checked on the raw body before anything is parsed or stored.

This is Stripe's documented scheme (HMAC-SHA256 over "{timestamp}.{body}", header
`Stripe-Signature: t=...,v1=...`). It is written here rather than taken from the stripe SDK so the
webhook function never imports the SDK: that import alone is about half a second of cold start
(see docs/decisions.md).
"""

from __future__ import annotations

import hashlib
import hmac

TOLERANCE_SECONDS = 300


class SignatureError(Exception):
    """Missing, malformed, stale or wrong signature."""


def verify(payload: bytes, header: str | None, secrets: tuple[str, ...], *, now: float) -> None:
    if not header:
        raise SignatureError("missing Stripe-Signature header")
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t":
            try:
                timestamp = int(value)
            except ValueError:
                raise SignatureError("malformed timestamp") from None
        elif name == "v1" and value:
            candidates.append(value)
    if timestamp is None or not candidates:
        raise SignatureError("malformed Stripe-Signature header")
    if abs(now - timestamp) > TOLERANCE_SECONDS:
        raise SignatureError("timestamp outside the tolerance")
    signed = str(timestamp).encode() + b"." + payload
    for secret in secrets:
        expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
        if any(hmac.compare_digest(expected, candidate) for candidate in candidates):
            return
    raise SignatureError("no signature matches")


def sign(payload: bytes, secret: str, timestamp: int) -> str:
    """The header Stripe would send: for tests and the local Stripe front."""
    digest = hmac.new(secret.encode(), str(timestamp).encode() + b"." + payload, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"
