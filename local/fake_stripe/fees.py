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
DISPUTE_FEE_UNITS = 15  # 15.00 a dispute, in the currency's major unit


def card_fee(amount: int, currency: str) -> int:
    """The fee on a charge of `amount` (Stripe's units) in `currency`."""
    fee = (amount * PERCENT_TENTHS + 500) // 1000
    if exponent(currency) == 2:
        fee += FIXED_IN_HUNDREDTHS
    if currency.upper() in WHOLE_UNITS_IN_HUNDREDTHS:
        fee = (fee + 50) // 100 * 100
    return fee


def dispute_fee(currency: str) -> int:
    """What a dispute costs (Stripe's units), withdrawn with the disputed amount and kept whatever the outcome."""
    return DISPUTE_FEE_UNITS * 10 ** exponent(currency)


def dispute_transaction(transaction_id: str, amount: int, currency: str, *, fee: int, created: int) -> dict[str, Any]:
    """A balance transaction of a dispute, whole, as Stripe lists them on the dispute: the withdrawal (a negative
    amount and the fee) when it opens, a reinstatement (positive, no fee) when it is won."""
    return {
        "id": transaction_id, "object": "balance_transaction", "amount": amount, "currency": currency, "fee": fee,
        "net": amount - fee, "type": "adjustment", "reporting_category": "dispute", "created": created,
        "fee_details": [{"amount": fee, "currency": currency, "description": "Dispute fee", "type": "stripe_fee"}]
        if fee else [],
    }  # fmt: skip


def with_fee(transaction: Mapping[str, Any]) -> dict[str, Any]:
    """The balance transaction as Stripe shows it: a charge's fee, its detail and what is left (net)."""
    shown = dict(transaction)
    amount, currency = int(shown.get("amount") or 0), str(shown.get("currency") or "usd")
    fee = card_fee(amount, currency) if shown.get("type") == "charge" and amount > 0 else 0
    details = [{"amount": fee, "currency": currency, "description": "Stripe processing fees", "type": "stripe_fee"}]
    return shown | {"fee": fee, "fee_details": details if fee else [], "net": amount - fee}
