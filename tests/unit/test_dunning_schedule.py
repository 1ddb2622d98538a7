"""Dunning schedule: the right step, in the customer's hours, across DST, with catch-up after downtime."""

from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.domain.dunning import (
    DEFAULT_POLICY,
    DunningPolicy,
    DunningStep,
    InvalidPolicy,
    due_reminder,
    planned_reminders,
)

NEW_YORK = "America/New_York"
DUE = date(2027, 3, 15)


def local(moment: datetime, zone: str = NEW_YORK) -> datetime:
    return moment.astimezone(ZoneInfo(zone))


def test_before_the_first_step_the_next_reminder_is_the_upcoming_notice_at_nine_local() -> None:
    reminder = due_reminder(DEFAULT_POLICY, DUE, NEW_YORK, frozenset(), datetime(2027, 3, 1, 12, tzinfo=UTC))
    assert reminder is not None
    assert reminder.step.template == "upcoming"
    assert local(reminder.send_at) == datetime(2027, 3, 8, 9, 0, tzinfo=ZoneInfo(NEW_YORK))


def test_a_due_step_inside_the_window_goes_out_now() -> None:
    now = datetime(2027, 3, 15, 15, 0, tzinfo=UTC)  # 11:00 in New York (EDT)
    reminder = due_reminder(DEFAULT_POLICY, DUE, NEW_YORK, frozenset({"-7:upcoming"}), now)
    assert reminder is not None and reminder.step.template == "due_today" and reminder.send_at == now


def test_a_due_step_outside_the_window_waits_for_the_window_to_open() -> None:
    now = datetime(2027, 3, 15, 23, 30, tzinfo=UTC)  # 19:30 in New York: after hours
    reminder = due_reminder(DEFAULT_POLICY, DUE, NEW_YORK, frozenset({"-7:upcoming"}), now)
    assert reminder is not None
    assert local(reminder.send_at) == datetime(2027, 3, 16, 9, 0, tzinfo=ZoneInfo(NEW_YORK))


@pytest.mark.parametrize(
    ("day", "utc_hour"),
    [
        (date(2027, 3, 13), 14),  # Saturday before spring forward: EST, 09:00 = 14:00 UTC
        (date(2027, 3, 15), 13),  # Monday after: EDT, 09:00 = 13:00 UTC
        (date(2027, 11, 6), 13),  # Saturday before fall back: EDT
        (date(2027, 11, 8), 14),  # Monday after: EST
    ],
)
def test_nine_local_stays_nine_local_across_daylight_saving_changes(day: date, utc_hour: int) -> None:
    policy = DunningPolicy(steps=(DunningStep(0, "due_today"),))
    reminder = due_reminder(policy, day, NEW_YORK, frozenset(), datetime.combine(day - timedelta(days=2), time(), UTC))
    assert reminder is not None
    assert reminder.send_at == datetime.combine(day, time(utc_hour), UTC)


def test_a_window_opening_inside_the_spring_forward_gap_moves_past_it() -> None:
    policy = DunningPolicy(steps=(DunningStep(0, "due_today"),), window_start=time(2, 30), window_end=time(18))
    reminder = due_reminder(policy, date(2027, 3, 14), NEW_YORK, frozenset(), datetime(2027, 3, 10, tzinfo=UTC))
    assert reminder is not None
    assert local(reminder.send_at).hour == 3  # 02:30 does not exist that night


def test_after_downtime_only_the_latest_overdue_step_is_sent_and_earlier_ones_are_skipped() -> None:
    now = datetime(2027, 3, 30, 15, tzinfo=UTC)  # +15 days: the +3, +7 and +14 steps all passed unsent
    reminder = due_reminder(DEFAULT_POLICY, DUE, NEW_YORK, frozenset({"-7:upcoming", "+0:due_today"}), now)
    assert reminder is not None
    assert reminder.step.key == "+14:overdue"
    assert [s.key for s in reminder.skipped] == ["+3:overdue", "+7:overdue"]


def test_a_step_is_never_offered_twice_and_the_next_one_is_scheduled() -> None:
    sent = frozenset({"-7:upcoming", "+0:due_today"})
    now = datetime(2027, 3, 16, 15, tzinfo=UTC)
    reminder = due_reminder(DEFAULT_POLICY, DUE, NEW_YORK, sent, now)
    assert reminder is not None and reminder.step.key == "+3:overdue"
    assert local(reminder.send_at).date() == date(2027, 3, 18)


def test_after_the_final_notice_there_is_nothing_left() -> None:
    sent = frozenset(s.key for s in DEFAULT_POLICY.steps)
    assert due_reminder(DEFAULT_POLICY, DUE, NEW_YORK, sent, datetime(2027, 6, 1, tzinfo=UTC)) is None


@pytest.mark.parametrize(
    "policy_args",
    [
        {"steps": ()},
        {"steps": (DunningStep(3, "a"), DunningStep(3, "b"))},
        {"steps": (DunningStep(0, "a"),), "window_start": time(18), "window_end": time(9)},
    ],
)
def test_impossible_policies_are_refused(policy_args: dict[str, object]) -> None:
    with pytest.raises(InvalidPolicy):
        DunningPolicy(**policy_args)  # type: ignore[arg-type]


zones = st.sampled_from(["America/New_York", "Europe/Berlin", "Australia/Sydney", "Asia/Kolkata", "UTC"])
moments = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC))


@given(
    zones,
    moments,
    st.integers(min_value=-30, max_value=60),
    st.sets(st.sampled_from([s.key for s in DEFAULT_POLICY.steps])),
)
def test_every_reminder_goes_out_inside_the_window_and_never_in_the_past(
    zone: str, now: datetime, due_in: int, sent: set[str]
) -> None:
    due_date = now.astimezone(ZoneInfo(zone)).date() + timedelta(days=due_in)
    reminder = due_reminder(DEFAULT_POLICY, due_date, zone, frozenset(sent), now)
    if reminder is None:
        return
    assert reminder.send_at >= now
    assert reminder.step.key not in sent
    wall = local(reminder.send_at, zone).time()
    assert DEFAULT_POLICY.window_start <= wall < DEFAULT_POLICY.window_end


@pytest.mark.parametrize(
    ("fee", "remaining", "expected"),
    [
        ({"fixed": 500}, 10_000, 500),
        ({"percent": "1.5"}, 10_000, 150),
        ({"percent": "1.5"}, 3_333, 50),  # 49.995 rounds half up
        ({"percent": "10", "cap": 2_000}, 50_000, 2_000),
    ],
)
def test_late_fees_are_exact_and_capped(fee: dict[str, object], remaining: int, expected: int) -> None:
    from shared.domain.dunning import LateFee

    assert LateFee(**fee).amount_for(remaining) == expected  # type: ignore[arg-type]


@given(
    st.integers(min_value=1, max_value=10**8),
    st.decimals(min_value="0.01", max_value="100", places=2),
    st.one_of(st.none(), st.integers(min_value=1, max_value=10**6)),
    st.sampled_from([1, 10]),  # USD's chargeable step, and BHD's (three-decimal currencies end in 0 at Stripe)
)
def test_late_fees_are_whole_chargeable_steps_never_above_the_cap(
    remaining: int, percent: object, cap: int | None, increment: int
) -> None:
    from shared.domain.dunning import LateFee

    fee = LateFee(percent=str(percent), cap=cap).amount_for(remaining, increment)
    assert fee % increment == 0 and fee >= 0
    assert cap is None or fee <= cap
    exact = remaining * Decimal(str(percent)) / 100
    assert cap is not None or abs(fee - exact) <= Decimal(increment) / 2


@pytest.mark.parametrize("fee", [{}, {"fixed": 1, "percent": "1"}, {"fixed": 0}, {"percent": "0"}, {"percent": "x"}])
def test_impossible_late_fees_are_refused(fee: dict[str, object]) -> None:
    from shared.domain.dunning import LateFee

    with pytest.raises(InvalidPolicy):
        LateFee(**fee)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (time(9, tzinfo=timezone(timedelta(hours=5))), time(18)),
        (time(9), time(18, tzinfo=UTC)),
        (time(9, tzinfo=UTC), time(18, tzinfo=UTC)),
    ],
)
def test_a_sending_window_with_a_utc_offset_is_refused(start: time, end: time) -> None:
    # The window is each customer's own wall clock: comparing it with an offset crashed every run
    with pytest.raises(InvalidPolicy, match="local time"):
        DunningPolicy(steps=(DunningStep(0, "due_today"),), window_start=start, window_end=end)


def test_the_planned_reminders_are_each_step_in_turn_at_the_window_opening_of_its_local_day() -> None:
    # Given an invoice due 2027-03-15 in New York, planned on 2027-03-01
    planned = planned_reminders(DEFAULT_POLICY, DUE, NEW_YORK, datetime(2027, 3, 1, 12, tzinfo=UTC))
    # Then every step comes in turn, at 09:00 local on due date + offset, none skipped
    assert [(r.step.key, local(r.send_at).replace(tzinfo=None)) for r in planned] == [
        (step.key, datetime.combine(DUE + timedelta(days=step.offset_days), time(9))) for step in DEFAULT_POLICY.steps
    ]
    assert all(not r.skipped for r in planned)


def test_planned_reminders_agree_with_the_run_asking_due_reminder_after_each_send() -> None:
    now = datetime(2027, 3, 18, 23, tzinfo=UTC)  # 19:00 in New York, three days overdue: after hours
    planned = planned_reminders(DEFAULT_POLICY, DUE, NEW_YORK, now)
    # The steps already reached collapse into the latest, sent when the window next opens
    first = due_reminder(DEFAULT_POLICY, DUE, NEW_YORK, frozenset(), now)
    assert planned[0] == first and [s.key for s in planned[0].skipped] == ["-7:upcoming", "+0:due_today"]
    assert [r.step.key for r in planned] == ["+3:overdue", "+7:overdue", "+14:overdue", "+30:final_notice"]


def test_nothing_is_planned_at_or_after_the_write_off() -> None:
    policy = DunningPolicy(steps=DEFAULT_POLICY.steps, mark_uncollectible_after_days=14)
    planned = planned_reminders(policy, DUE, NEW_YORK, datetime(2027, 3, 1, tzinfo=UTC))
    assert [r.step.key for r in planned] == ["-7:upcoming", "+0:due_today", "+3:overdue", "+7:overdue"]
    assert planned_reminders(policy, DUE, NEW_YORK, datetime(2027, 6, 1, tzinfo=UTC)) == []
