"""How Stripe reads an `amount` per currency (docs.stripe.com/currencies), as far as the front needs it:
to show the figure Stripe would show, and to refuse what Stripe would refuse.

Stripe's own tables, not CLDR's: ISK and UGX are two-decimal here (5 ISK is 500), and three-decimal
currencies must end in 0. payportal's copy is shared/domain/stripe_amounts.py; a test holds them together.
"""

from __future__ import annotations

from local.fake_stripe.errors import StripeApiError

# UGX is on Stripe's zero-decimal list too, but its special case (below) is how the API reads it.
ZERO_DECIMAL = frozenset("BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF VND VUV XAF XOF XPF".split())  # noqa: SIM905
THREE_DECIMAL = frozenset(["BHD", "JOD", "KWD", "OMR", "TND"])
WHOLE_UNITS_IN_HUNDREDTHS = frozenset(["ISK", "UGX"])


def exponent(currency: str) -> int:
    """Decimals of Stripe's `amount` in the currency."""
    code = currency.upper()
    return 0 if code in ZERO_DECIMAL else 3 if code in THREE_DECIMAL else 2


def check_amount(amount: int, currency: str, param: str) -> None:
    """Stripe's 400 for an amount it cannot charge in the currency."""
    code = currency.upper()
    if code in WHOLE_UNITS_IN_HUNDREDTHS and amount % 100:
        raise StripeApiError(
            400,
            f"Invalid amount. Currency {code} has become effectively zero-decimal and charged amounts must be"
            " evenly divisible by 100.",
            code="invalid_charge_amount_no_decimal_compatible",
            param=param,
        )
    if code in THREE_DECIMAL and amount % 10:
        raise StripeApiError(
            400, f"Invalid amount. {code} amounts must end in 0 (round to the nearest ten).", param=param
        )
