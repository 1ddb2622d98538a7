"""The `Stripe-Signature` header, computed as Stripe computes it for a webhook endpoint's secret.

The fake signs on its own rather than borrowing payportal's verifier: payportal's check is then tested
against an independent signer, as it is against Stripe.
"""

from __future__ import annotations

import hashlib
import hmac


def stripe_signature(payload: bytes, secret: str, timestamp: int) -> str:
    """`t=<unix time>,v1=<HMAC-SHA256 of "<t>.<payload>" under the endpoint secret, in hex>`."""
    signed = str(timestamp).encode() + b"." + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"
