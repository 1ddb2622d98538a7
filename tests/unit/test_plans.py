"""Installment plans: exact splits, due dates that never drift, the plans on offer, and retry rules."""

import calendar
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.domain.declines import DEFAULT_RETRY_DAYS, HARD_DECLINE_CODES, DeclineKind, classify_decline, next_retry
from shared.domain.errors import DomainError
from shared.domain.plans import (
    Frequency,
    InvalidPlan,
    PlanChoice,
    PlanOffer,
    ScheduledInstallment,
    choose,
    installment_date,
    plan_choices,
    schedule,
    split_amount,
)
from shared.domain.stripe_amounts import chargeable_increment

FIRST = date(2027, 1, 15)
dates = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31))
frequencies = st.sampled_from(list(Frequency))


# split_amount


def test_an_uneven_split_puts_the_remainder_on_the_first_installment() -> None:
    assert split_amount(10_000, 3) == (3_334, 3_333, 3_333)


def test_an_even_split_is_all_equal() -> None:
    assert split_amount(12_000, 4) == (3_000, 3_000, 3_000, 3_000)


def test_one_part_is_the_whole_amount_and_one_unit_per_part_is_the_smallest_split() -> None:
    assert split_amount(999, 1) == (999,)
    assert split_amount(5, 5) == (1, 1, 1, 1, 1)


@given(count=st.integers(min_value=1, max_value=48), data=st.data())
def test_a_split_sums_exactly_and_only_the_first_part_carries_the_remainder(count: int, data: st.DataObject) -> None:
    amount = data.draw(st.integers(min_value=count, max_value=10**12))
    parts = split_amount(amount, count)
    assert len(parts) == count
    assert sum(parts) == amount
    assert all(isinstance(part, int) and part >= 1 for part in parts)
    assert len(set(parts[1:])) <= 1  # every later charge is the same figure
    assert parts[0] - min(parts) == amount % count < count


@given(count=st.integers(min_value=1, max_value=24), data=st.data())
def test_a_bhd_split_is_in_multiples_of_10_that_sum_exactly(count: int, data: st.DataObject) -> None:
    # BHD has three decimals, and Stripe charges it only in amounts ending in 0
    increment = chargeable_increment("BHD")
    amount = data.draw(st.integers(min_value=count, max_value=10**9)) * increment
    parts = split_amount(amount, count, increment)
    assert sum(parts) == amount and len(parts) == count
    assert all(part % 10 == 0 and part >= 10 for part in parts)
    assert len(set(parts[1:])) <= 1


def test_the_plans_on_offer_for_a_bhd_invoice_are_all_chargeable() -> None:
    offer = PlanOffer(max_installments=6, min_installment_amount=1_000)
    for choice in plan_choices(offer, 12_340, FIRST, chargeable_increment("BHD")):
        amounts = [i.amount for i in choice.installments]
        assert sum(amounts) == 12_340 and all(a % 10 == 0 for a in amounts), amounts
    assert [i.amount for i in choose(offer, 12_340, FIRST, "monthly-3", 10).installments] == [4_120, 4_110, 4_110]


@pytest.mark.parametrize(("amount", "count", "field"), [(100, 0, "count"), (100, -1, "count"), (2, 3, "amount")])
def test_an_impossible_split_is_rejected(amount: int, count: int, field: str) -> None:
    with pytest.raises(InvalidPlan) as error:
        split_amount(amount, count)
    assert error.value.field == field and error.value.code == "invalid_plan"


@pytest.mark.parametrize("amount", [100.0, True, "100"])
def test_a_split_refuses_anything_but_an_integer_amount(amount: object) -> None:
    with pytest.raises(InvalidPlan):
        split_amount(amount, 2)  # type: ignore[arg-type]


# installment_date


@pytest.mark.parametrize(
    ("first", "index", "due"),
    [
        (date(2027, 1, 31), 0, date(2027, 1, 31)),
        (date(2027, 1, 31), 1, date(2027, 2, 28)),
        (date(2027, 1, 31), 2, date(2027, 3, 31)),  # back to the 31st: anchored on the first date
        (date(2027, 1, 31), 3, date(2027, 4, 30)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),  # leap year
        (date(2028, 1, 31), 2, date(2028, 3, 31)),
        (date(2027, 11, 30), 2, date(2028, 1, 30)),  # across the year end
        (date(2027, 12, 31), 2, date(2028, 2, 29)),
        (date(2028, 2, 29), 12, date(2029, 2, 28)),
        (date(2028, 2, 29), 48, date(2032, 2, 29)),
        (date(2027, 1, 15), 25, date(2029, 2, 15)),
    ],
)
def test_monthly_due_dates_keep_the_day_of_month_clamped_to_the_month_end(first: date, index: int, due: date) -> None:
    assert installment_date(first, Frequency.MONTHLY, index) == due


def test_a_monthly_schedule_from_january_31_does_not_drift_after_february() -> None:
    installments = schedule(30_000, 3, date(2027, 1, 31), Frequency.MONTHLY)
    assert [i.due_on for i in installments] == [date(2027, 1, 31), date(2027, 2, 28), date(2027, 3, 31)]


@pytest.mark.parametrize(
    ("frequency", "first", "index", "due"),
    [
        (Frequency.WEEKLY, date(2027, 1, 15), 1, date(2027, 1, 22)),
        (Frequency.WEEKLY, date(2028, 2, 22), 1, date(2028, 2, 29)),  # leap day
        (Frequency.WEEKLY, date(2027, 12, 29), 1, date(2028, 1, 5)),
        (Frequency.BIWEEKLY, date(2027, 1, 15), 1, date(2027, 1, 29)),
        (Frequency.BIWEEKLY, date(2027, 2, 20), 1, date(2027, 3, 6)),  # no leap day in 2027
        (Frequency.BIWEEKLY, date(2028, 2, 20), 1, date(2028, 3, 5)),
    ],
)
def test_weekly_and_biweekly_due_dates(frequency: Frequency, first: date, index: int, due: date) -> None:
    assert installment_date(first, frequency, index) == due


@given(first=dates, index=st.integers(min_value=0, max_value=60))
def test_weekly_and_biweekly_are_exact_day_counts(first: date, index: int) -> None:
    assert installment_date(first, Frequency.WEEKLY, index) - first == timedelta(days=7 * index)
    assert installment_date(first, Frequency.BIWEEKLY, index) - first == timedelta(days=14 * index)
    assert installment_date(first, Frequency.WEEKLY, index).weekday() == first.weekday()


@given(first=dates, index=st.integers(min_value=0, max_value=60))
def test_monthly_moves_exactly_index_months_and_keeps_the_day_when_the_month_has_it(first: date, index: int) -> None:
    due = installment_date(first, Frequency.MONTHLY, index)
    assert (due.year - first.year) * 12 + due.month - first.month == index
    assert due.day == min(first.day, calendar.monthrange(due.year, due.month)[1])


@given(first=dates, frequency=frequencies, count=st.integers(min_value=2, max_value=24))
def test_due_dates_strictly_increase(first: date, frequency: Frequency, count: int) -> None:
    due = [installment_date(first, frequency, index) for index in range(count)]
    assert due == sorted(set(due))


def test_a_negative_index_or_unknown_frequency_is_rejected() -> None:
    with pytest.raises(InvalidPlan) as error:
        installment_date(FIRST, Frequency.MONTHLY, -1)
    assert error.value.field == "index"
    with pytest.raises(InvalidPlan) as error:
        installment_date(FIRST, "yearly", 1)  # type: ignore[arg-type]
    assert error.value.field == "frequency"


# schedule


def test_a_schedule_numbers_installments_from_one_with_dates_and_amounts() -> None:
    assert schedule(10_000, 3, FIRST, Frequency.BIWEEKLY) == (
        ScheduledInstallment(number=1, due_on=date(2027, 1, 15), amount=3_334),
        ScheduledInstallment(number=2, due_on=date(2027, 1, 29), amount=3_333),
        ScheduledInstallment(number=3, due_on=date(2027, 2, 12), amount=3_333),
    )


# PlanOffer


def test_an_offer_defaults_to_monthly_and_accepts_frequencies_given_as_text() -> None:
    assert PlanOffer(max_installments=6, min_installment_amount=1_000).frequencies == (Frequency.MONTHLY,)
    offer = PlanOffer(6, 1_000, ["weekly", "monthly"])  # type: ignore[arg-type]
    assert offer.frequencies == (Frequency.WEEKLY, Frequency.MONTHLY)
    assert hash(offer) == hash(PlanOffer(6, 1_000, (Frequency.WEEKLY, Frequency.MONTHLY)))


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"max_installments": 1}, "max_installments"),
        ({"max_installments": 25}, "max_installments"),
        ({"max_installments": 6.0}, "max_installments"),
        ({"min_installment_amount": 0}, "min_installment_amount"),
        ({"min_installment_amount": -100}, "min_installment_amount"),
        ({"min_installment_amount": 10.5}, "min_installment_amount"),
        ({"frequencies": ()}, "frequencies"),
        ({"frequencies": (Frequency.MONTHLY, Frequency.MONTHLY)}, "frequencies"),
        ({"frequencies": ("yearly",)}, "frequencies"),
        ({"frequencies": "monthly"}, "frequencies"),
    ],
)
def test_an_invalid_offer_is_rejected_naming_the_field(changes: dict[str, object], field: str) -> None:
    arguments: dict[str, object] = {"max_installments": 6, "min_installment_amount": 1_000, **changes}
    with pytest.raises(InvalidPlan) as error:
        PlanOffer(**arguments)  # type: ignore[arg-type]
    assert error.value.field == field
    assert isinstance(error.value, DomainError) and error.value.code == "invalid_plan"


@pytest.mark.parametrize("max_installments", [2, 24])
def test_the_installment_count_limits_are_inclusive(max_installments: int) -> None:
    assert PlanOffer(max_installments, 1).max_installments == max_installments


# plan_choices


def test_choices_stop_where_an_installment_would_fall_below_the_minimum() -> None:
    offer = PlanOffer(max_installments=12, min_installment_amount=2_500)
    choices = plan_choices(offer, 10_000, FIRST)
    assert [c.key for c in choices] == ["monthly-2", "monthly-3", "monthly-4"]
    assert choices[1].installments == schedule(10_000, 3, FIRST, Frequency.MONTHLY)


def test_choices_stop_at_the_maximum_count_and_follow_the_offer_frequency_order() -> None:
    offer = PlanOffer(max_installments=3, min_installment_amount=1, frequencies=(Frequency.MONTHLY, Frequency.WEEKLY))
    keys = [c.key for c in plan_choices(offer, 1_000_000, FIRST)]
    assert keys == ["monthly-2", "monthly-3", "weekly-2", "weekly-3"]


def test_the_remainder_on_the_first_installment_does_not_lift_a_plan_over_the_minimum() -> None:
    # 10_001 / 4 is 2_501 + 2_500 * 3: the smallest installment meets a 2_500 minimum, a 2_501 one does not
    assert "monthly-4" in [c.key for c in plan_choices(PlanOffer(12, 2_500), 10_001, FIRST)]
    assert "monthly-4" not in [c.key for c in plan_choices(PlanOffer(12, 2_501), 10_001, FIRST)]


def test_an_amount_too_small_for_two_installments_has_no_choices() -> None:
    assert plan_choices(PlanOffer(12, 2_500), 4_999, FIRST) == ()


@pytest.mark.parametrize("amount", [0, -100, 100.0])
def test_choices_need_a_positive_integer_amount(amount: int) -> None:
    with pytest.raises(InvalidPlan) as error:
        plan_choices(PlanOffer(12, 100), amount, FIRST)
    assert error.value.field == "amount"


@given(
    max_installments=st.integers(min_value=2, max_value=24),
    minimum=st.integers(min_value=1, max_value=50_000),
    amount=st.integers(min_value=1, max_value=2_000_000),
    offered=st.lists(frequencies, min_size=1, max_size=3, unique=True),
    first=dates,
)
def test_choices_are_exactly_the_plans_the_offer_allows(
    max_installments: int, minimum: int, amount: int, offered: list[Frequency], first: date
) -> None:
    offer = PlanOffer(max_installments, minimum, tuple(offered))
    choices = plan_choices(offer, amount, first)
    expected = [
        (frequency, count)
        for frequency in offered
        for count in range(2, max_installments + 1)
        if min(split_amount(amount, count) if amount >= count else (0,)) >= minimum
    ]
    assert [(c.frequency, c.count) for c in choices] == expected
    for choice in choices:
        assert len(choice.installments) == choice.count
        assert sum(i.amount for i in choice.installments) == amount
        assert min(i.amount for i in choice.installments) >= minimum
        assert choice.installments[0].due_on == first
        assert choose(offer, amount, first, choice.key) == choice


# keys and choose


@given(frequency=frequencies, count=st.integers(min_value=2, max_value=24))
def test_a_key_round_trips(frequency: Frequency, count: int) -> None:
    choice = PlanChoice(frequency=frequency, count=count, installments=())
    assert PlanChoice.parse_key(choice.key) == (frequency, count)


def test_a_key_reads_as_frequency_and_count() -> None:
    assert PlanChoice(Frequency.MONTHLY, 3, ()).key == "monthly-3"
    assert PlanChoice.parse_key("biweekly-12") == (Frequency.BIWEEKLY, 12)


@pytest.mark.parametrize(
    "key",
    [
        "",
        "monthly",
        "monthly-",
        "-3",
        "monthly3",
        "monthly_3",
        "Monthly-3",
        "yearly-3",
        "monthly-03",
        "monthly-+3",
        "monthly--3",
        "monthly-3.0",
        "monthly- 3",
        "monthly-3 ",
        "monthly-\u0663",  # Arabic-Indic digit three
        "monthly-1",
        "monthly-0",
        "monthly-25",
        "monthly-100",
        "monthly-3-3",
        "9" * 5_000,
        None,
        3,
    ],
)
def test_a_malformed_key_is_rejected_as_the_plan_field(key: str) -> None:
    with pytest.raises(InvalidPlan) as error:
        PlanChoice.parse_key(key)
    assert error.value.field == "plan"


def test_choose_returns_the_choice_on_offer() -> None:
    offer = PlanOffer(6, 1_000, (Frequency.WEEKLY, Frequency.MONTHLY))
    choice = choose(offer, 10_000, FIRST, "weekly-3")
    assert (choice.frequency, choice.count) == (Frequency.WEEKLY, 3)
    assert [i.due_on for i in choice.installments] == [date(2027, 1, 15), date(2027, 1, 22), date(2027, 1, 29)]


@pytest.mark.parametrize(
    "key",
    [
        "monthly-7",  # beyond max_installments
        "monthly-11",  # 909 each: below the minimum
        "biweekly-3",  # a frequency the operator did not offer
        "monthly-03",  # malformed
    ],
)
def test_choose_rejects_a_plan_that_is_not_on_offer(key: str) -> None:
    offer = PlanOffer(6, 1_000, (Frequency.WEEKLY, Frequency.MONTHLY))
    with pytest.raises(InvalidPlan) as error:
        choose(offer, 10_000, FIRST, key)
    assert error.value.field == "plan"


def test_a_plan_on_offer_for_a_larger_amount_is_refused_for_a_smaller_one() -> None:
    offer = PlanOffer(6, 1_000)
    assert choose(offer, 6_000, FIRST, "monthly-6").count == 6
    with pytest.raises(InvalidPlan):
        choose(offer, 5_999, FIRST, "monthly-6")


# classify_decline


@pytest.mark.parametrize(
    ("code", "decline_code"),
    [("authentication_required", None), ("card_declined", "authentication_required")],
)
def test_authentication_required_needs_the_customer_back(code: str, decline_code: str | None) -> None:
    assert classify_decline(code, decline_code) is DeclineKind.AUTHENTICATION


@pytest.mark.parametrize("decline_code", sorted(HARD_DECLINE_CODES))
def test_hard_decline_codes_are_hard(decline_code: str) -> None:
    assert classify_decline("card_declined", decline_code) is DeclineKind.HARD


def test_a_card_error_reported_only_in_code_is_hard() -> None:
    assert classify_decline("expired_card", None) is DeclineKind.HARD
    assert classify_decline("incorrect_number", None) is DeclineKind.HARD


def test_the_hard_list_holds_the_codes_stripe_says_not_to_retry() -> None:
    for code in ("lost_card", "stolen_card", "pickup_card", "fraudulent", "expired_card", "stop_payment_order"):
        assert code in HARD_DECLINE_CODES
    assert "do_not_honor" not in HARD_DECLINE_CODES
    assert "insufficient_funds" not in HARD_DECLINE_CODES


@pytest.mark.parametrize(
    ("code", "decline_code"),
    [
        ("card_declined", "insufficient_funds"),
        ("card_declined", "do_not_honor"),
        ("card_declined", "generic_decline"),
        ("card_declined", "try_again_later"),
        ("processing_error", None),
        ("card_declined", None),
        (None, None),
        ("card_declined", "a_code_stripe_adds_tomorrow"),
    ],
)
def test_everything_else_is_soft(code: str | None, decline_code: str | None) -> None:
    assert classify_decline(code, decline_code) is DeclineKind.SOFT


def test_authentication_wins_over_a_hard_code() -> None:
    assert classify_decline("authentication_required", "lost_card") is DeclineKind.AUTHENTICATION


# next_retry


@pytest.mark.parametrize(("failed_attempts", "days"), [(1, 3), (2, 5), (3, 7), (4, None), (10, None)])
def test_soft_declines_follow_the_default_retry_days_then_stop(failed_attempts: int, days: int | None) -> None:
    assert next_retry(failed_attempts, DeclineKind.SOFT) == days


@pytest.mark.parametrize("kind", [DeclineKind.HARD, DeclineKind.AUTHENTICATION])
def test_hard_and_authentication_declines_are_never_retried_automatically(kind: DeclineKind) -> None:
    assert next_retry(1, kind) is None


def test_a_custom_retry_schedule_is_followed() -> None:
    assert [next_retry(n, DeclineKind.SOFT, (1, 2)) for n in (1, 2, 3)] == [1, 2, None]
    assert next_retry(1, DeclineKind.SOFT, ()) is None


@given(failed_attempts=st.integers(min_value=1, max_value=100))
def test_retries_never_exceed_the_schedule(failed_attempts: int) -> None:
    days = next_retry(failed_attempts, DeclineKind.SOFT)
    assert (days is None) == (failed_attempts > len(DEFAULT_RETRY_DAYS))


@pytest.mark.parametrize(
    ("failed_attempts", "retry_days"), [(0, DEFAULT_RETRY_DAYS), (-1, DEFAULT_RETRY_DAYS), (1, (3, 0)), (1, (-2,))]
)
def test_nonsense_retry_input_is_a_programming_error(failed_attempts: int, retry_days: tuple[int, ...]) -> None:
    with pytest.raises(ValueError):
        next_retry(failed_attempts, DeclineKind.SOFT, retry_days)
