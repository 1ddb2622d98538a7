"""Stripe's per-currency rules at the boundary (shared/domain/stripe_amounts.py, docs.stripe.com/currencies):
our amounts stay in the currency's real minor unit, Stripe gets its own form, and nothing Stripe cannot
charge gets in."""

from __future__ import annotations

import pytest
from babel.numbers import get_currency_precision
from hypothesis import given
from hypothesis import strategies as st

from local.fake_stripe import currencies as fake_stripe_currencies
from shared.domain.errors import AmountNotChargeable, CurrencyNotChargeable, InvalidAmount, UnknownCurrency
from shared.domain.money import minor_unit_exponent
from shared.domain.stripe_amounts import (
    STRIPE_CHARGEABLE,
    STRIPE_THREE_DECIMAL,
    STRIPE_WHOLE_UNITS_IN_HUNDREDTHS,
    chargeable_increment,
    check_chargeable,
    check_chargeable_currency,
    from_stripe,
    internal_exponent,
    stripe_exponent,
    to_stripe,
)

CHARGEABLE = sorted(STRIPE_CHARGEABLE)


def test_isk_5000_is_sent_as_500000_and_read_back_as_5000() -> None:
    # ISK has no decimals (CLDR), but Stripe writes it as a two-decimal value ending in 00
    assert (minor_unit_exponent("ISK"), stripe_exponent("ISK")) == (0, 2)
    assert to_stripe(5_000, "ISK") == 500_000
    assert from_stripe(500_000, "ISK") == 5_000


@pytest.mark.parametrize(
    ("amount", "currency", "sent"),
    [
        (5_000, "UGX", 500_000),  # Stripe's other special case
        (1_050, "USD", 1_050),
        (500, "JPY", 500),  # zero-decimal at Stripe and in CLDR alike
        (1_230, "BHD", 1_230),  # three-decimal, last digit 0
        (1_045, "HUF", 1_045),  # two-decimal for charges (zero-decimal only for payouts)
        (80_045, "TWD", 80_045),
        (500, "ALL", 50_000),  # CLDR gives no decimals, Stripe two
    ],
)
def test_amounts_are_sent_in_stripes_form(amount: int, currency: str, sent: int) -> None:
    assert to_stripe(amount, currency) == sent
    assert from_stripe(sent, currency) == amount


def test_the_tables_agree_with_babel_for_every_chargeable_currency() -> None:
    # If a Babel upgrade changes a minor unit, conversion would silently be off by a factor of ten or more
    for code in CHARGEABLE:
        assert internal_exponent(code) == get_currency_precision(code), code


def test_the_local_stripe_front_reads_amounts_as_payportal_sends_them() -> None:
    for code in CHARGEABLE:
        assert fake_stripe_currencies.exponent(code) == stripe_exponent(code), code


@given(st.sampled_from(CHARGEABLE), st.integers(min_value=1, max_value=10**9))
def test_every_chargeable_amount_round_trips_and_is_valid_at_stripe(currency: str, steps: int) -> None:
    amount = steps * chargeable_increment(currency)
    sent = to_stripe(amount, currency)
    assert from_stripe(sent, currency) == amount
    if currency in STRIPE_THREE_DECIMAL:
        assert sent % 10 == 0
    if currency in STRIPE_WHOLE_UNITS_IN_HUNDREDTHS:
        assert sent % 100 == 0
    fake_stripe_currencies.check_amount(sent, currency, "amount")  # the local front accepts it too


@given(st.sampled_from(CHARGEABLE), st.integers(min_value=1, max_value=10**9))
def test_whatever_stripe_can_charge_round_trips_from_stripes_side(currency: str, steps: int) -> None:
    # Stripe's smallest valid step, read back, is a whole number of our units and goes out unchanged
    stripe_step = 10 if currency in STRIPE_THREE_DECIMAL else 100 if currency in STRIPE_WHOLE_UNITS_IN_HUNDREDTHS else 1
    scale = 10 ** (stripe_exponent(currency) - internal_exponent(currency))
    sent = steps * stripe_step * scale
    assert to_stripe(from_stripe(sent, currency), currency) == sent


@given(st.sampled_from(sorted(STRIPE_THREE_DECIMAL)), st.integers(min_value=1, max_value=10**9))
def test_three_decimal_amounts_not_ending_in_0_are_refused_with_the_reason(currency: str, amount: int) -> None:
    if amount % 10 == 0:
        assert to_stripe(amount, currency) == amount
        return
    with pytest.raises(AmountNotChargeable) as refused:
        check_chargeable(amount, currency, field="amount_due")
    assert "multiples of 10" in refused.value.message and refused.value.field == "amount_due"
    assert isinstance(refused.value, InvalidAmount)  # the APIs' 422


def test_bhd_1234_is_refused_with_what_would_do() -> None:
    with pytest.raises(AmountNotChargeable, match=r"1234 is not a chargeable BHD amount.*0\.010 BHD.*1230 or 1240"):
        to_stripe(1_234, "BHD")


@pytest.mark.parametrize(
    ("code", "why"),
    [
        ("XAU", "precious metal"),
        ("XTS", "testing"),
        ("XXX", "no currency"),
        ("DEM", "withdrawn"),
        ("ZWD", "withdrawn"),
        ("USN", "fund"),
        ("CUP", "Stripe does not charge in it"),
    ],
)
def test_codes_stripe_can_never_charge_are_refused_saying_why(code: str, why: str) -> None:
    with pytest.raises(CurrencyNotChargeable) as refused:
        check_chargeable_currency(code)
    assert why in refused.value.message and refused.value.field == "currency"
    assert isinstance(refused.value, UnknownCurrency)  # the APIs' 422
    with pytest.raises(CurrencyNotChargeable):
        to_stripe(100, code)


def test_a_stripe_amount_with_a_fraction_of_our_unit_is_not_rounded() -> None:
    with pytest.raises(ValueError, match="not a whole number"):
        from_stripe(500_050, "ISK")
