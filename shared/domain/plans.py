"""Installment plans: which plans an invoice may be split into, their schedules, and when a failed
the installments fall due (a failed charge's retries are in declines.py, how a stored plan moves in
plan_lifecycle.py).

Pure: no I/O, no clock, no AWS or Stripe. The caller passes the first due date. Amounts are integers
in the currency's minor unit.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from shared.domain.errors import DomainError

MIN_INSTALLMENTS = 2
MAX_INSTALLMENTS = 24


class InvalidPlan(DomainError):
    code = "invalid_plan"


class Frequency(StrEnum):
    WEEKLY = "weekly"
    BIWEEKLY = "biweekly"
    MONTHLY = "monthly"


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True, slots=True)
class PlanOffer:
    """What the operator allows for an invoice."""

    max_installments: int
    min_installment_amount: int  # minor units
    frequencies: tuple[Frequency, ...] = (Frequency.MONTHLY,)

    def __post_init__(self) -> None:
        if not _is_int(self.max_installments) or not (MIN_INSTALLMENTS <= self.max_installments <= MAX_INSTALLMENTS):
            raise InvalidPlan(
                f"max_installments must be from {MIN_INSTALLMENTS} to {MAX_INSTALLMENTS}", field="max_installments"
            )
        if not _is_int(self.min_installment_amount) or self.min_installment_amount <= 0:
            raise InvalidPlan(
                "min_installment_amount must be a positive amount in minor units", field="min_installment_amount"
            )
        if isinstance(self.frequencies, str):
            raise InvalidPlan("frequencies is a sequence of frequencies", field="frequencies")
        try:
            frequencies = tuple(Frequency(f) for f in self.frequencies)
        except (TypeError, ValueError):
            raise InvalidPlan("frequencies must be weekly, biweekly or monthly", field="frequencies") from None
        if not frequencies:
            raise InvalidPlan("an offer needs at least one frequency", field="frequencies")
        if len(set(frequencies)) != len(frequencies):
            raise InvalidPlan("a frequency is listed twice", field="frequencies")
        # Operator config may arrive as plain strings or a list; store the canonical, hashable form.
        object.__setattr__(self, "frequencies", frequencies)


@dataclass(frozen=True, slots=True)
class ScheduledInstallment:
    number: int  # 1-based
    due_on: date
    amount: int


def installment_date(first: date, frequency: Frequency, index: int) -> date:
    """Due date of the installment at `index` (0 is `first`)."""
    if not _is_int(index) or index < 0:
        raise InvalidPlan("index must be zero or more", field="index")
    try:
        frequency = Frequency(frequency)
    except ValueError:
        raise InvalidPlan("frequency must be weekly, biweekly or monthly", field="frequency") from None
    if frequency is Frequency.WEEKLY:
        return first + timedelta(weeks=index)
    if frequency is Frequency.BIWEEKLY:
        return first + timedelta(weeks=2 * index)
    # Always counted from `first`, never from the previous due date: stepping month by month would
    # carry a clamp forward (Jan 31 -> Feb 28 -> Mar 28) and the customer's payday would drift.
    months = first.month - 1 + index
    year, month = first.year + months // 12, months % 12 + 1
    return date(year, month, min(first.day, calendar.monthrange(year, month)[1]))


def split_amount(amount: int, count: int, increment: int = 1) -> tuple[int, ...]:
    """`count` parts summing exactly to `amount`, each a multiple of `increment` (the currency's chargeable
    step at Stripe, stripe_amounts.chargeable_increment); the first carries the remainder."""
    if not _is_int(count) or count < 1:
        raise InvalidPlan("count must be at least 1", field="count")
    if not _is_int(amount):
        raise InvalidPlan("amounts are integers in the currency's minor unit", field="amount")
    if not _is_int(increment) or increment < 1:
        raise InvalidPlan("the increment is a positive number of minor units", field="increment")
    steps, odd = divmod(amount, increment)
    if steps < count:
        raise InvalidPlan("the amount is too small to split into that many installments", field="amount")
    base, remainder = divmod(steps, count)
    # The odd steps go up front, so every later charge is the same figure the customer agreed to. An amount
    # that is itself no multiple of the increment (never one we let in) keeps its odd units there too.
    return ((base + remainder) * increment + odd,) + (base * increment,) * (count - 1)


def schedule(
    amount: int, count: int, first: date, frequency: Frequency, increment: int = 1
) -> tuple[ScheduledInstallment, ...]:
    return tuple(
        ScheduledInstallment(number=index + 1, due_on=installment_date(first, frequency, index), amount=part)
        for index, part in enumerate(split_amount(amount, count, increment))
    )


@dataclass(frozen=True, slots=True)
class PlanChoice:
    frequency: Frequency
    count: int
    installments: tuple[ScheduledInstallment, ...]

    @property
    def key(self) -> str:
        """Stable identity of the choice, e.g. "monthly-3": what the pay page posts back."""
        return f"{self.frequency.value}-{self.count}"

    @classmethod
    def parse_key(cls, key: str) -> tuple[Frequency, int]:
        if not isinstance(key, str):
            raise InvalidPlan("choose one of the plans on offer", field="plan")
        frequency_text, _, count_text = key.rpartition("-")
        try:
            frequency = Frequency(frequency_text)
        except ValueError:
            raise InvalidPlan("choose one of the plans on offer", field="plan") from None
        # Only the canonical spelling ("monthly-3", not "monthly-03" or "monthly-+3"): one plan, one key.
        if not (count_text.isascii() and count_text.isdigit() and len(count_text) <= 2) or count_text.startswith("0"):
            raise InvalidPlan("choose one of the plans on offer", field="plan")
        count = int(count_text)
        if not MIN_INSTALLMENTS <= count <= MAX_INSTALLMENTS:
            raise InvalidPlan("choose one of the plans on offer", field="plan")
        return frequency, count


def plan_choices(offer: PlanOffer, amount: int, first: date, increment: int = 1) -> tuple[PlanChoice, ...]:
    """Every plan the offer allows for `amount`: by frequency as the offer lists them, then count ascending.
    Installments are multiples of `increment`, the currency's chargeable step."""
    if not _is_int(amount) or amount <= 0:
        raise InvalidPlan("the amount must be a positive amount in minor units", field="amount")
    return tuple(
        PlanChoice(frequency=frequency, count=count, installments=schedule(amount, count, first, frequency, increment))
        for frequency in offer.frequencies
        for count in range(MIN_INSTALLMENTS, offer.max_installments + 1)
        # The last part is the smallest: the first only ever carries more.
        if (amount // increment) // count * increment >= offer.min_installment_amount
    )


def choose(offer: PlanOffer, amount: int, first: date, key: str, increment: int = 1) -> PlanChoice:
    """The plan the customer picked, if the offer allows it for this amount."""
    PlanChoice.parse_key(key)
    for choice in plan_choices(offer, amount, first, increment):
        if choice.key == key:
            return choice
    raise InvalidPlan("that plan is not on offer for this amount", field="plan")
