"""Money rules: an amount is an integer count of the currency's minor unit plus an ISO 4217 code. Never a float.

Minor-unit exponents come from CLDR through Babel (e.g. USD 2, JPY 0, KWD 3), so the rule for each
currency lives in one well-kept place rather than a table of our own.
"""

from __future__ import annotations

from decimal import Decimal
from functools import cache

from shared.domain.errors import InvalidAmount, UnknownCurrency
from shared.domain.payer_text import payer_plural, payer_text
from shared.domain.text import strip_bidi_controls


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


# Longer than any amount a person types (Stripe's ceiling is 99,999,999 minor units): refused unread. It
# also keeps every amount read well inside Decimal's 28 digits, so moving the point never rounds.
MAX_TYPED_LENGTH = 24


def parse_major_amount(text: str, currency: str, locale: str) -> int:
    """What a customer typed, in their locale ("1.234,56" in de-DE, "$50" in en-US), to minor units.

    The number is read by Babel in strict mode with the locale's own decimal and group symbols; one
    currency symbol or code may come before or after it. Only the digits 0-9 count: "1e2", "1_0", "NaN"
    and other scripts' digits are refused (Python's Decimal would take them all). Never a float.
    """
    from babel.numbers import NumberFormatError, parse_decimal  # lazy: as above

    sample = _example(currency, locale)
    example = InvalidAmount(
        f"enter an amount such as {sample}",
        field="amount",
        payer=payer_text("Enter an amount such as %(example)s.", example=sample),
    )
    cleaned = _without_currency(_without_spaces(strip_bidi_controls(text)), currency, locale)
    symbols = _number_symbols(locale)
    if "\u2019" in symbols:  # de-CH groups with a right single quote; people type an apostrophe
        cleaned = cleaned.replace("'", "\u2019")
    negative = cleaned.startswith(("-", "\u2212"))
    cleaned = cleaned[1:] if negative else cleaned
    if not cleaned or len(cleaned) > MAX_TYPED_LENGTH or not set(cleaned) <= set("0123456789") | symbols:
        raise example
    try:
        value = parse_decimal(cleaned, locale=babel_locale(locale), strict=True)
    except NumberFormatError:
        raise example from None
    if negative or value <= 0:
        raise InvalidAmount(
            "enter an amount greater than zero",
            field="amount",
            payer=payer_text("Enter an amount greater than zero."),
        )
    exponent = minor_unit_exponent(currency)
    minor = value.scaleb(exponent)
    if minor != minor.to_integral_value():
        raise InvalidAmount(
            f"{currency} amounts have at most {exponent} decimals",
            field="amount",
            payer=payer_plural(
                "Amounts in %(currency)s have at most %(count)s decimal.",
                "Amounts in %(currency)s have at most %(count)s decimals.",
                exponent,
                currency=currency,
            ),
        )
    return int(minor)


def babel_locale(locale: str) -> str:
    """Babel spells locales with an underscore: en-US is en_US."""
    return locale.replace("-", "_")


def _without_spaces(text: str) -> str:
    """Spaces of any kind go: no locale reads one as a decimal point, and French and Swedish group with
    narrow or no-break spaces that nobody types."""
    return "".join(ch for ch in text if not ch.isspace())


def _without_currency(text: str, currency: str, locale: str) -> str:
    """The number without one leading or trailing symbol of the invoice's currency ("$", "US$", "USD")."""
    from babel.numbers import get_currency_symbol  # lazy: as above

    code = normalise_currency(currency)
    symbols = {code, code.lower(), get_currency_symbol(code, babel_locale(locale)), get_currency_symbol(code, "en")}
    for symbol in sorted((_without_spaces(strip_bidi_controls(s)) for s in symbols), key=len, reverse=True):
        if symbol and text.startswith(symbol):
            return text.removeprefix(symbol)
        if symbol and text.endswith(symbol):
            return text.removesuffix(symbol)
    return text


@cache
def _number_symbols(locale: str) -> frozenset[str]:
    """The locale's decimal and group symbols (a space-like group symbol is dropped with the spaces)."""
    from babel.numbers import get_decimal_symbol, get_group_symbol  # lazy: as above

    name = babel_locale(locale)
    return frozenset(s for s in (get_decimal_symbol(name), get_group_symbol(name)) if not s.isspace())


def _example(currency: str, locale: str) -> str:
    """25.00, 25,00 or 25: what an amount looks like for this currency in this locale."""
    from babel.numbers import format_decimal  # lazy: as above

    exponent = minor_unit_exponent(currency)
    pattern = "0." + "0" * exponent if exponent else "0"
    return str(format_decimal(Decimal(25), format=pattern, locale=babel_locale(locale)))
