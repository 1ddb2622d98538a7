"""Installment plans: which plans an invoice may be split into, their schedules, and when a failed
off-session installment charge is retried (how a stored plan moves is in plan_lifecycle.py).

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


def split_amount(amount: int, count: int) -> tuple[int, ...]:
    """`count` parts summing exactly to `amount`; the first carries the remainder."""
    if not _is_int(count) or count < 1:
        raise InvalidPlan("count must be at least 1", field="count")
    if not _is_int(amount):
        raise InvalidPlan("amounts are integers in the currency's minor unit", field="amount")
    if amount < count:
        raise InvalidPlan("the amount is too small to split into that many installments", field="amount")
    base, remainder = divmod(amount, count)
    # The odd minor units go up front, so every later charge is the same figure the customer agreed to.
    return (base + remainder,) + (base,) * (count - 1)


def schedule(amount: int, count: int, first: date, frequency: Frequency) -> tuple[ScheduledInstallment, ...]:
    return tuple(
        ScheduledInstallment(number=index + 1, due_on=installment_date(first, frequency, index), amount=part)
        for index, part in enumerate(split_amount(amount, count))
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


def plan_choices(offer: PlanOffer, amount: int, first: date) -> tuple[PlanChoice, ...]:
    """Every plan the offer allows for `amount`: by frequency as the offer lists them, then count ascending."""
    if not _is_int(amount) or amount <= 0:
        raise InvalidPlan("the amount must be a positive amount in minor units", field="amount")
    return tuple(
        PlanChoice(frequency=frequency, count=count, installments=schedule(amount, count, first, frequency))
        for frequency in offer.frequencies
        for count in range(MIN_INSTALLMENTS, offer.max_installments + 1)
        # amount // count is the smallest part: the first only ever carries more.
        if amount // count >= offer.min_installment_amount
    )


def choose(offer: PlanOffer, amount: int, first: date, key: str) -> PlanChoice:
    """The plan the customer picked, if the offer allows it for this amount."""
    PlanChoice.parse_key(key)
    for choice in plan_choices(offer, amount, first):
        if choice.key == key:
            return choice
    raise InvalidPlan("that plan is not on offer for this amount", field="plan")


class DeclineKind(StrEnum):
    SOFT = "soft"  # may succeed later on the same card
    HARD = "hard"  # the card will not pay: the customer must give another payment method
    AUTHENTICATION = "authentication"  # the customer must come back on-session and authenticate


# Never retried on the same card. Source: Stripe's decline code reference
# (https://docs.stripe.com/declines/codes): for each of these the next step is the customer's, not time's
# (use another card, contact the issuer, correct the card details, or show only a generic decline because
# the card is lost, stolen or suspected of fraud), and Stripe's own retry logic skips non-retryable issuer
# declines (https://docs.stripe.com/billing/revenue-recovery/smart-retries). Card networks charge for
# retrying "never approve" declines. do_not_honor and generic_decline stay soft: the issuer gave no reason.
HARD_DECLINE_CODES: frozenset[str] = frozenset(
    {
        "lost_card",
        "stolen_card",
        "pickup_card",
        "fraudulent",
        "restricted_card",
        "security_violation",
        "revocation_of_authorization",
        "revocation_of_all_authorizations",
        "stop_payment_order",
        "invalid_account",
        "new_account_information_available",
        "card_not_supported",
        "currency_not_supported",
        "expired_card",
        "incorrect_number",
        "do_not_try_again",
    }
)

AUTHENTICATION_REQUIRED = "authentication_required"


def classify_decline(code: str | None, decline_code: str | None) -> DeclineKind:
    """Kind of a failed charge from Stripe's error `code` and `decline_code`."""
    if AUTHENTICATION_REQUIRED in (code, decline_code):
        return DeclineKind.AUTHENTICATION
    # Stripe reports some card errors in `code` alone (e.g. code "expired_card" with no decline_code).
    if decline_code in HARD_DECLINE_CODES or code in HARD_DECLINE_CODES:
        return DeclineKind.HARD
    return DeclineKind.SOFT


DEFAULT_RETRY_DAYS: tuple[int, ...] = (3, 5, 7)  # days after each failed attempt


def next_retry(failed_attempts: int, kind: DeclineKind, retry_days: tuple[int, ...] = DEFAULT_RETRY_DAYS) -> int | None:
    """Days until the next attempt after `failed_attempts` failures, or None: no automatic retry."""
    if not _is_int(failed_attempts) or failed_attempts < 1:
        raise ValueError("failed_attempts counts failures so far and starts at 1")
    if any(not _is_int(days) or days < 1 for days in retry_days):
        raise ValueError("retry days must be positive whole days")
    if kind != DeclineKind.SOFT or failed_attempts > len(retry_days):
        return None
    return retry_days[failed_attempts - 1]
