"""Money rules: integers in minor units, per-currency exponents, careful parsing of what customers type."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.domain.errors import InvalidAmount, UnknownCurrency
from shared.domain.money import minor_unit_exponent, normalise_currency, parse_major_amount


@pytest.mark.parametrize(("currency", "exponent"), [("USD", 2), ("eur", 2), ("JPY", 0), ("KWD", 3)])
def test_minor_unit_exponent_follows_iso_4217(currency: str, exponent: int) -> None:
    assert minor_unit_exponent(currency) == exponent


@pytest.mark.parametrize("code", ["", "US", "USDX", "XYZ", "12$"])
def test_unknown_currency_codes_are_rejected(code: str) -> None:
    with pytest.raises(UnknownCurrency):
        normalise_currency(code)


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [("12.50", "USD", 1250), ("12,50", "EUR", 1250), ("1 000", "JPY", 1000), ("0.005", "KWD", 5), ("7", "USD", 700)],
)
def test_customer_typed_amounts_become_minor_units(text: str, currency: str, minor: int) -> None:
    assert parse_major_amount(text, currency) == minor


@pytest.mark.parametrize(
    ("text", "currency"),
    [("12.345", "USD"), ("10.5", "JPY"), ("-5", "USD"), ("0", "USD"), ("abc", "USD"), ("nan", "USD"), ("inf", "USD")],
)
def test_impossible_amounts_are_refused(text: str, currency: str) -> None:
    with pytest.raises(InvalidAmount):
        parse_major_amount(text, currency)


@given(st.integers(min_value=1, max_value=99_999_999), st.sampled_from(["USD", "JPY", "KWD", "EUR"]))
def test_formatting_to_major_units_and_back_is_exact(amount: int, currency: str) -> None:
    from shared.rendering import major_units

    assert parse_major_amount(major_units(amount, currency), currency) == amount
