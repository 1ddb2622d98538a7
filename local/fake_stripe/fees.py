"""The local Stripe's fees: localstripe's balance transactions keep none (fee 0), so the front lays a fee
over a charge's as Stripe's standard card pricing would take it, so that exports and their tests see fees.

A stand-in's schedule, not Stripe's price list: 2.9% of the charge, half up, plus 0.30 in two-decimal
currencies; whole units where Stripe counts whole units in hundredths (ISK, UGX); refunds keep no fee.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from local.fake_stripe.currencies import WHOLE_UNITS_IN_HUNDREDTHS, exponent

PERCENT_TENTHS = 29  # 2.9%
FIXED_IN_HUNDREDTHS = 30  # 0.30


def card_fee(amount: int, currency: str) -> int:
    """The fee on a charge of `amount` (Stripe's units) in `currency`."""
    fee = (amount * PERCENT_TENTHS + 500) // 1000
    if exponent(currency) == 2:
        fee += FIXED_IN_HUNDREDTHS
    if currency.upper() in WHOLE_UNITS_IN_HUNDREDTHS:
        fee = (fee + 50) // 100 * 100
    return fee


def with_fee(transaction: Mapping[str, Any]) -> dict[str, Any]:
    """The balance transaction as Stripe shows it: a charge's fee, its detail and what is left (net)."""
    shown = dict(transaction)
    amount, currency = int(shown.get("amount") or 0), str(shown.get("currency") or "usd")
    fee = card_fee(amount, currency) if shown.get("type") == "charge" and amount > 0 else 0
    details = [{"amount": fee, "currency": currency, "description": "Stripe processing fees", "type": "stripe_fee"}]
    return shown | {"fee": fee, "fee_details": details if fee else [], "net": amount - fee}
