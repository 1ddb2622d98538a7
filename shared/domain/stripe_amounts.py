"""Stripe's rules per currency: which currencies it charges, and how it writes an amount.

Our amounts are integers in the currency's ISO 4217 / CLDR minor unit (money.py): ISK 5,000 is 5000.
Stripe writes amounts in its own minor unit, which is not always that one (docs.stripe.com/currencies,
docs/decisions.md, entry 33):

- zero-decimal currencies (JPY, KRW, ...) are sent as they are;
- three-decimal currencies (BHD, JOD, KWD, OMR, TND) are sent in thousandths whose last digit is 0;
- ISK and UGX have no fractions any more but are still written as two-decimal values ending in 00,
  so ISK 5,000 goes to Stripe as 500000;
- every other currency is two-decimal at Stripe, including AFN, ALL, LAK, LBP, MMK, RSD, SOS, STD and
  YER, which CLDR gives no decimals: they are multiplied by 100 like ISK.

`to_stripe` and `from_stripe` are the only conversion; `chargeable_increment` is the step every amount
we let into the ledger for a currency is a multiple of, so whatever we later send is valid.

Pure tables, no Babel: the webhook's cold path converts every amount it reads. A unit test holds
`_CLDR_EXPONENT` to Babel's data, so a Babel upgrade that changes a minor unit fails the build.
"""

from __future__ import annotations

from math import gcd

from shared.domain.errors import AmountNotChargeable, CurrencyNotChargeable

# docs.stripe.com/currencies, "Zero-decimal currencies".
STRIPE_ZERO_DECIMAL = frozenset(
    ["BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF"]
)  # UGX is listed here, but its special case below is what the API does
# docs.stripe.com/currencies, "Three-decimal currencies": the last digit must be 0.
STRIPE_THREE_DECIMAL = frozenset(["BHD", "JOD", "KWD", "OMR", "TND"])
# docs.stripe.com/currencies, "Special cases": whole units, written as two-decimal values ending in 00.
STRIPE_WHOLE_UNITS_IN_HUNDREDTHS = frozenset({"ISK", "UGX"})
# docs.stripe.com/currencies, "Supported presentment currencies" (card payments).
# fmt: off
STRIPE_PRESENTMENT = frozenset([
    "USD", "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT", "BGN", "BIF",
    "BMD", "BND", "BOB", "BRL", "BSD", "BWP", "BYN", "BZD", "CAD", "CDF", "CHF", "CLP", "CNY", "COP", "CRC", "CVE",
    "CZK", "DJF", "DKK", "DOP", "DZD", "EGP", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL", "GIP", "GMD", "GNF", "GTQ",
    "GYD", "HKD", "HNL", "HTG", "HUF", "IDR", "ILS", "INR", "ISK", "JMD", "JPY", "KES", "KGS", "KHR", "KMF", "KRW",
    "KYD", "KZT", "LAK", "LBP", "LKR", "LRD", "LSL", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MUR", "MVR",
    "MWK", "MXN", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "PAB", "PEN", "PGK", "PHP", "PKR", "PLN",
    "PYG", "QAR", "RON", "RSD", "RUB", "RWF", "SAR", "SBD", "SCR", "SEK", "SGD", "SHP", "SLE", "SOS", "SRD", "STD",
    "SZL", "THB", "TJS", "TOP", "TRY", "TTD", "TWD", "TZS", "UAH", "UGX", "UYU", "UZS", "VND", "VUV", "WST", "XAF",
    "XCD", "XOF", "XPF", "YER", "ZAR", "ZMW",
])
# fmt: on
STRIPE_CHARGEABLE = STRIPE_PRESENTMENT | STRIPE_THREE_DECIMAL

# The chargeable currencies whose CLDR minor unit (ours) differs from Stripe's; all others agree.
_CLDR_EXPONENT = {code: 0 for code in ["AFN", "ALL", "ISK", "LAK", "LBP", "MMK", "RSD", "SOS", "STD", "UGX", "YER"]}

# ISO 4217 codes that are not money anyone can be charged in.
_METALS = {"XAU": "gold", "XAG": "silver", "XPT": "platinum", "XPD": "palladium"}
_FUNDS = frozenset(
    [
        "XDR",
        "XSU",
        "XUA",
        "XBA",
        "XBB",
        "XBC",
        "XBD",
        "XFO",
        "XFU",
        "USN",
        "USS",
        "BOV",
        "CHE",
        "CHW",
        "CLF",
        "COU",
        "MXV",
        "UYI",
        "UYW",
    ]
)


def stripe_exponent(currency: str) -> int:
    """Decimals of Stripe's `amount` for the currency."""
    code = currency.upper()
    if code in STRIPE_THREE_DECIMAL:
        return 3
    if code in STRIPE_ZERO_DECIMAL and code not in STRIPE_WHOLE_UNITS_IN_HUNDREDTHS:
        return 0
    return 2


def internal_exponent(currency: str) -> int:
    """Decimals of our amounts for the currency (CLDR's, as money.minor_unit_exponent gives them)."""
    code = currency.upper()
    return _CLDR_EXPONENT.get(code, stripe_exponent(code))


def _stripe_step(code: str) -> int:
    """What every Stripe `amount` in the currency must be a multiple of."""
    if code in STRIPE_THREE_DECIMAL:
        return 10
    if code in STRIPE_WHOLE_UNITS_IN_HUNDREDTHS:
        return 100
    return 1


def chargeable_increment(currency: str) -> int:
    """The smallest amount (our minor units) Stripe can charge in the currency; every chargeable amount
    is a multiple of it. BHD: 10 (0.010 BHD); ISK: 1 (one króna); USD: 1."""
    code = currency.upper()
    step, scale = _stripe_step(code), stripe_exponent(code) - internal_exponent(code)
    if scale >= 0:
        return step // gcd(step, 10**scale)
    return step * 10**-scale


def is_chargeable_currency(currency: str) -> bool:
    return currency.upper() in STRIPE_CHARGEABLE


def is_chargeable(amount: int, currency: str) -> bool:
    return is_chargeable_currency(currency) and amount > 0 and amount % chargeable_increment(currency) == 0


def check_chargeable_currency(currency: str, *, field: str = "currency") -> None:
    """CurrencyNotChargeable, saying why, unless Stripe can charge in the currency."""
    code = currency.upper()
    if code in STRIPE_CHARGEABLE:
        return
    raise CurrencyNotChargeable(f"{code} cannot be charged: {_why_not_chargeable(code)}", field=field)


def check_chargeable(amount: int, currency: str, *, field: str) -> None:
    """AmountNotChargeable (our minor units in the message, as the operator API takes them) unless
    Stripe can charge exactly `amount`."""
    check_chargeable_currency(currency)
    code = currency.upper()
    increment = chargeable_increment(code)
    if amount % increment == 0:
        return
    down = amount - amount % increment
    suggestion = f"{down} or {down + increment}" if down > 0 else f"{increment}"
    raise AmountNotChargeable(
        f"{amount} is not a chargeable {code} amount: {_why_increment(code, increment)}; use {suggestion}",
        field=field,
    )


def increment_text(currency: str) -> str:
    """The chargeable increment in major units, for people: "0.010 BHD"."""
    from decimal import Decimal  # lazy: only an error message needs it, and decimal is 7 ms of the webhook's start

    code = currency.upper()
    return f"{Decimal(chargeable_increment(code)).scaleb(-internal_exponent(code))} {code}"


def to_stripe(amount: int, currency: str) -> int:
    """Our amount as Stripe's `amount` (ISK 5000 -> 500000). Refuses what Stripe cannot charge, so no
    request ever carries an amount Stripe would reject or read differently."""
    check_chargeable(amount, currency, field="amount")
    code = currency.upper()
    scale = stripe_exponent(code) - internal_exponent(code)
    return amount * 10**scale if scale >= 0 else amount // 10**-scale


class NotRepresentable(ValueError):
    """A Stripe amount with a fraction of our minor unit (never one we sent)."""


def from_stripe(amount: int, currency: str) -> int:
    """Stripe's `amount` as ours (ISK 500000 -> 5000): the inverse of `to_stripe`. Raises
    NotRepresentable rather than round money."""
    code = currency.upper()
    scale = stripe_exponent(code) - internal_exponent(code)
    if scale < 0:
        return amount * 10**-scale
    whole, fraction = divmod(amount, 10**scale)
    if fraction:
        raise NotRepresentable(f"{amount} is not a whole number of {code} minor units")
    return whole


def _why_increment(code: str, increment: int) -> str:
    if code in STRIPE_THREE_DECIMAL:
        return (
            f"Stripe charges {code}, a three-decimal currency, in multiples of 10 minor units ({increment_text(code)})"
        )
    return f"Stripe charges {code} only in multiples of {increment} minor units ({increment_text(code)})"


def _why_not_chargeable(code: str) -> str:
    if code in _METALS:
        return f"it is the ISO 4217 code for {_METALS[code]}, a precious metal, not a currency Stripe charges"
    if code == "XTS":
        return "it is the ISO 4217 code reserved for testing, not a currency"
    if code == "XXX":
        return "it is the ISO 4217 code for transactions with no currency"
    if code in _FUNDS:
        return "it is an ISO 4217 fund or accounting unit, not a currency Stripe charges"
    if _withdrawn(code):
        return "it is a withdrawn currency, no longer issued anywhere, and Stripe does not charge in it"
    return "Stripe does not charge in it (see the supported presentment currencies at docs.stripe.com/currencies)"


def _withdrawn(code: str) -> bool:
    """Known to CLDR but legal tender nowhere today (DEM, ZWD, ...). Only on the error path."""
    from babel.core import get_global  # lazy: Babel's CLDR data is heavy, and only a refusal needs it

    territories = get_global("territory_currencies")
    ever = any(entry[0] == code for entries in territories.values() for entry in entries)
    current = any(entry[0] == code and entry[2] is None for entries in territories.values() for entry in entries)
    return ever and not current
