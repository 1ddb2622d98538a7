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
    ("text", "currency", "locale", "minor"),
    [
        ("12.50", "USD", "en-US", 1250),
        ("12,50", "EUR", "de-DE", 1250),
        ("1.234,56", "EUR", "de-DE", 123456),  # a German customer's thousands and decimals
        ("1.234", "EUR", "de-DE", 123400),
        ("1,234.56", "USD", "en-US", 123456),
        ("$50", "USD", "en-US", 5000),
        ("$ 50.00", "USD", "en-US", 5000),
        ("50 $", "USD", "de-DE", 5000),
        ("US$50", "USD", "en-GB", 5000),
        ("USD 12", "USD", "en-US", 1200),
        ("1 234,56 €", "EUR", "fr-FR", 123456),  # typed with a plain space; CLDR groups with U+202F
        ("1\u202f234,56\u00a0€", "EUR", "fr-FR", 123456),  # copied from the page
        ("1'234.50", "CHF", "de-CH", 123450),
        ("12,34,567.50", "INR", "hi-IN", 123456750),
        ("\u200f1,234.50\u00a0US$", "USD", "ar-EG", 123450),
        ("1 000", "JPY", "ja-JP", 1000),
        ("0.005", "KWD", "en-US", 5),
        ("7", "USD", "en-US", 700),
    ],
)
def test_customer_typed_amounts_become_minor_units(text: str, currency: str, locale: str, minor: int) -> None:
    assert parse_major_amount(text, currency, locale) == minor


@pytest.mark.parametrize(
    ("text", "currency", "locale"),
    [
        ("12.345", "USD", "en-US"),
        ("10.5", "JPY", "en-US"),
        ("-5", "USD", "en-US"),
        ("0", "USD", "en-US"),
        ("abc", "USD", "en-US"),
        ("nan", "USD", "en-US"),
        ("inf", "USD", "en-US"),
        ("Infinity", "USD", "en-US"),
        ("1e2", "USD", "en-US"),  # Python's Decimal reads these; no person types them as money
        ("1e999999", "USD", "en-US"),
        ("1_0", "USD", "en-US"),
        ("\u0661\u0660", "USD", "en-US"),  # Arabic-Indic digits
        ("\u0661\u0660", "USD", "ar-EG"),
        ("\uff11\uff10", "USD", "ja-JP"),  # full-width digits
        ("12,50", "USD", "en-US"),  # a comma is no decimal point in en-US
        ("12.50", "EUR", "de-DE"),  # nor a dot in de-DE
        ("1,2345", "USD", "en-US"),
        ("+5", "USD", "en-US"),
        ("\u20ac12", "USD", "en-US"),  # another currency's symbol
        ("$", "USD", "en-US"),
        ("$$5", "USD", "en-US"),
        (",", "USD", "en-US"),
        ("9" * 30, "USD", "en-US"),
        ("9" * 5_000, "USD", "en-US"),
        ("0x10", "USD", "en-US"),
    ],
)
def test_impossible_amounts_are_refused(text: str, currency: str, locale: str) -> None:
    with pytest.raises(InvalidAmount):
        parse_major_amount(text, currency, locale)


def test_the_message_shows_an_amount_as_the_customer_writes_it() -> None:
    with pytest.raises(InvalidAmount, match="25,00"):
        parse_major_amount("12.50", "EUR", "de-DE")
    with pytest.raises(InvalidAmount, match=r"such as 25$"):
        parse_major_amount("abc", "JPY", "ja-JP")


LOCALES = ["en-US", "en-GB", "de-DE", "de-CH", "fr-FR", "es-ES", "it-IT", "nl-NL", "pt-BR", "sv-SE", "pl-PL", "hi-IN"]
LOCALES += ["ja-JP", "ar-EG", "he-IL", "fa-IR"]
CURRENCIES = ["USD", "EUR", "JPY", "KWD", "CHF", "INR"]


@given(st.integers(min_value=1, max_value=99_999_999), st.sampled_from(CURRENCIES), st.sampled_from(LOCALES))
def test_the_amount_the_page_fills_in_reads_back_exactly(amount: int, currency: str, locale: str) -> None:
    from shared.rendering import major_units

    assert parse_major_amount(major_units(amount, currency, locale), currency, locale) == amount


@given(st.integers(min_value=1, max_value=99_999_999), st.sampled_from(CURRENCIES), st.sampled_from(LOCALES))
def test_an_amount_as_the_page_shows_it_reads_back_exactly(amount: int, currency: str, locale: str) -> None:
    from shared.rendering import format_money

    assert parse_major_amount(format_money(amount, currency, locale), currency, locale) == amount


@given(st.text(max_size=40), st.sampled_from(CURRENCIES), st.sampled_from(LOCALES))
def test_anything_typed_is_an_amount_or_the_pages_message(text: str, currency: str, locale: str) -> None:
    try:
        amount = parse_major_amount(text, currency, locale)
    except InvalidAmount as refused:
        assert refused.field == "amount" and refused.message
    else:
        assert isinstance(amount, int) and amount > 0


@pytest.mark.parametrize(
    ("text", "currency", "locale", "minor"),
    [
        ("1.234,50", "EUR", "de-DE", 123450),
        ("1.234,50 €", "EUR", "de-DE", 123450),
        ("1 234,50", "EUR", "fr-FR", 123450),  # a plain space, as people type it
        ("1\u202f234,50", "EUR", "fr-FR", 123450),  # CLDR's narrow no-break space, as the page shows it
        ("1\u00a0234,50\u00a0€", "EUR", "fr-FR", 123450),  # the no-break space older CLDR used
        ("1 234,50 $", "CAD", "fr-CA", 123450),
        ("1.234,50", "BRL", "pt-BR", 123450),
        ("R$ 1.234,50", "BRL", "pt-BR", 123450),
        ("1 234,50", "EUR", "pt-PT", 123450),
        ("1.234,50", "EUR", "es-ES", 123450),
    ],
)
def test_an_amount_typed_the_way_the_customers_locale_writes_it_is_understood(
    text: str, currency: str, locale: str, minor: int
) -> None:
    assert parse_major_amount(text, currency, locale) == minor


@pytest.mark.parametrize(
    ("text", "currency", "locale"),
    [
        ("1.23,50", "EUR", "de-DE"),  # grouping in the wrong place: refused, not guessed
        ("1,234.50", "BRL", "pt-BR"),  # the English way in a Brazilian locale: refused, not read as 1.23450
        ("1234.50", "EUR", "fr-FR"),  # a point is no French separator
    ],
)
def test_an_amount_written_against_the_customers_locale_is_refused_with_an_example(
    text: str, currency: str, locale: str
) -> None:
    with pytest.raises(InvalidAmount) as refused:
        parse_major_amount(text, currency, locale)
    assert refused.value.payer is not None and refused.value.payer.english() == "Enter an amount such as 25,00."
