"""Money rules: an amount is an integer count of the currency's minor unit plus an ISO 4217 code. Never a float.

Minor-unit exponents come from CLDR through Babel (e.g. USD 2, JPY 0, KWD 3), so the rule for each
currency lives in one well-kept place rather than a table of our own.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from functools import cache

from shared.domain.errors import InvalidAmount, UnknownCurrency


@cache
def _known_currencies() -> frozenset[str]:
    from babel.numbers import list_currencies  # lazy: Babel's CLDR data is heavy for paths that never format

    return frozenset(list_currencies())


def normalise_currency(code: str) -> str:
    """Upper-case ISO 4217 code, or UnknownCurrency."""
    upper = code.strip().upper()
    if len(upper) != 3 or not upper.isalpha() or upper not in _known_currencies():
        raise UnknownCurrency(f"{code!r} is not an ISO 4217 currency code", field="currency")
    return upper


@cache
def minor_unit_exponent(currency: str) -> int:
    from babel.numbers import get_currency_precision  # lazy: as above

    return int(get_currency_precision(normalise_currency(currency)))


def parse_major_amount(text: str, currency: str) -> int:
    """A customer-typed amount such as "12.50" or "12,50" to minor units; rejects extra precision."""
    cleaned = text.strip().replace(" ", "").replace("\u00a0", "")
    if cleaned.count(",") == 1 and "." not in cleaned:
        cleaned = cleaned.replace(",", ".")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise InvalidAmount("enter an amount such as 25.00", field="amount") from None
    if not value.is_finite() or value <= 0:
        raise InvalidAmount("enter an amount greater than zero", field="amount")
    minor = value.scaleb(minor_unit_exponent(currency))
    if minor != minor.to_integral_value():
        raise InvalidAmount(f"{currency} amounts have at most {minor_unit_exponent(currency)} decimals", field="amount")
    return int(minor)
