"""Dunning: which reminder is due for an invoice, and when it may go out in the customer's own hours.

Pure: the caller passes "now" (the business clock) and the customer's IANA time zone. Local wall-clock
rules are applied with zoneinfo, so the sending window holds across daylight-saving changes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from shared.domain.errors import DomainError

if TYPE_CHECKING:
    from shared.domain.plans import PlanOffer


class InvalidPolicy(DomainError):
    code = "invalid_dunning_policy"


@dataclass(frozen=True, slots=True)
class LateFee:
    """A fee added when a step is sent: a fixed amount, or a percentage of what remains, optionally capped.
    Percentages are decimal strings ("1.5"), never floats; fees round half up to the minor unit."""

    fixed: int | None = None
    percent: str | None = None
    cap: int | None = None

    def __post_init__(self) -> None:
        if (self.fixed is None) == (self.percent is None):
            raise InvalidPolicy("a late fee is either fixed or a percentage", field="late_fee")
        if self.fixed is not None and self.fixed <= 0:
            raise InvalidPolicy("a fixed late fee must be positive", field="late_fee")
        if self.percent is not None:
            try:
                value = Decimal(self.percent)
            except InvalidOperation:
                raise InvalidPolicy("percent must be a number such as 1.5", field="late_fee") from None
            if not value.is_finite() or not Decimal(0) < value <= Decimal(100):
                raise InvalidPolicy("percent must be more than 0 and at most 100", field="late_fee")
        if self.cap is not None and self.cap <= 0:
            raise InvalidPolicy("a cap must be positive", field="late_fee")

    def amount_for(self, remaining: int, increment: int = 1) -> int:
        """The fee on `remaining`, a multiple of `increment` (the currency's chargeable step at Stripe, so
        the invoice stays chargeable): rounded half up to it, and never above the cap."""
        exact = Decimal(self.fixed) if self.fixed is not None else Decimal(remaining) * Decimal(str(self.percent)) / 100
        if self.cap is not None:
            exact = min(exact, Decimal(self.cap))
        fee = int((exact / increment).to_integral_value(rounding=ROUND_HALF_UP)) * increment
        if self.cap is not None and fee > self.cap:
            fee -= increment
        return fee


@dataclass(frozen=True, slots=True)
class DunningStep:
    offset_days: int  # relative to the due date: -7 is a week before, 3 is three days after
    template: str
    late_fee: LateFee | None = None

    @property
    def key(self) -> str:
        """Stable identity of the step, for "sent once per (invoice, step)"."""
        return f"{self.offset_days:+d}:{self.template}"


@dataclass(frozen=True, slots=True)
class DunningPolicy:
    steps: tuple[DunningStep, ...]
    window_start: time = time(9, 0)
    window_end: time = time(18, 0)
    mark_uncollectible_after_days: int | None = None  # days after the due date; None: never
    # Installment plans offered on new invoices that do not set their own; None: only where set.
    default_installments: PlanOffer | None = None

    def __post_init__(self) -> None:
        if self.mark_uncollectible_after_days is not None and self.mark_uncollectible_after_days < 1:
            raise InvalidPolicy(
                "mark_uncollectible_after_days must be at least 1", field="mark_uncollectible_after_days"
            )
        offsets = [s.offset_days for s in self.steps]
        if not self.steps:
            raise InvalidPolicy("a dunning policy needs at least one step", field="steps")
        if len(set(offsets)) != len(offsets):
            raise InvalidPolicy("two steps have the same offset", field="steps")
        for moment in (self.window_start, self.window_end):
            if moment.tzinfo is not None:
                raise InvalidPolicy("the sending window is in the customer's local time: no offset", field="window")
        if not self.window_start < self.window_end:
            raise InvalidPolicy("the sending window must start before it ends", field="window")
        object.__setattr__(self, "steps", tuple(sorted(self.steps, key=lambda s: s.offset_days)))


def policy_revision(policy: DunningPolicy) -> str:
    """A short digest of everything the policy says: equal exactly when the policies are equal. Stored with the
    policy, so a replacement can be made over the one revision it was edited from (ports.PolicyReplacement)."""
    return hashlib.sha256(repr(policy).encode()).hexdigest()[:20]


DEFAULT_POLICY = DunningPolicy(
    steps=(
        DunningStep(-7, "upcoming"),
        DunningStep(0, "due_today"),
        DunningStep(3, "overdue"),
        DunningStep(7, "overdue"),
        DunningStep(14, "overdue"),
        DunningStep(30, "final_notice"),
    )
)


@dataclass(frozen=True, slots=True)
class Reminder:
    step: DunningStep
    send_at: datetime  # UTC, inside the customer's sending window
    skipped: tuple[DunningStep, ...] = field(default=())  # earlier steps overtaken while we were away


def uncollectible_at(policy: DunningPolicy, due_date: date, timezone: str) -> datetime | None:
    """When an unpaid invoice is written off: the start of that local day, or None if the policy never does."""
    if policy.mark_uncollectible_after_days is None:
        return None
    day = due_date + timedelta(days=policy.mark_uncollectible_after_days)
    return _at_local(day, time(0), ZoneInfo(timezone))


def _local(moment: datetime, zone: ZoneInfo) -> datetime:
    return moment.astimezone(zone)


def _at_local(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of a local wall-clock time; a time that does not exist (spring forward) maps to
    the first instant after the gap, a time that exists twice (fall back) to its first occurrence."""
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def next_window_opening(moment: datetime, policy: DunningPolicy, zone: ZoneInfo) -> datetime:
    """`moment` if it lies inside the customer's sending window, else when the window next opens."""
    local = _local(moment, zone)
    if policy.window_start <= local.time().replace(tzinfo=None) < policy.window_end:
        return moment.astimezone(UTC)
    day = local.date() if local.time().replace(tzinfo=None) < policy.window_start else local.date() + timedelta(days=1)
    return _at_local(day, policy.window_start, zone)


def due_reminder(
    policy: DunningPolicy, due_date: date, timezone: str, sent: frozenset[str], now: datetime
) -> Reminder | None:
    """The reminder to send now or next for an invoice, or None when every step is behind us.

    A step becomes due on its local day (due date + offset) when the window opens. When several steps
    are due at once (the job was down, the invoice was imported late) only the latest is sent; the
    earlier ones are reported as skipped so they are never sent later.
    """
    zone = ZoneInfo(timezone)
    today = _local(now, zone).date()
    reached = [s for s in policy.steps if due_date + timedelta(days=s.offset_days) <= today]
    if reached:
        latest = reached[-1]
        if latest.key not in sent:
            skipped = tuple(s for s in reached[:-1] if s.key not in sent)
            return Reminder(step=latest, send_at=next_window_opening(now, policy, zone), skipped=skipped)
    # Not-yet-sent future steps (a step can be "sent" ahead of its day when the clock was moved back).
    upcoming = [s for s in policy.steps if due_date + timedelta(days=s.offset_days) > today and s.key not in sent]
    if not upcoming:
        return None
    step = upcoming[0]
    return Reminder(
        step=step, send_at=_at_local(due_date + timedelta(days=step.offset_days), policy.window_start, zone)
    )


def planned_reminders(policy: DunningPolicy, due_date: date, timezone: str, now: datetime) -> list[Reminder]:
    """Every reminder an unpaid invoice due on `due_date` gets from `now` on, in the order and at the times the
    dunning run sends them: `due_reminder` asked again after each send, as the run asks it. Steps already
    reached at `now` collapse into the latest one (the others are its `skipped`), as for an invoice imported
    late; nothing is planned at or after the write-off."""
    write_off = uncollectible_at(policy, due_date, timezone)
    planned: list[Reminder] = []
    sent: frozenset[str] = frozenset()
    moment = now
    while (reminder := due_reminder(policy, due_date, timezone, sent, moment)) is not None:
        if write_off is not None and reminder.send_at >= write_off:
            break
        planned.append(reminder)
        sent |= {reminder.step.key, *(s.key for s in reminder.skipped)}
        moment = reminder.send_at
    return planned
