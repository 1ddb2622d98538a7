"""The dunning policy as the outside world sends it: one pydantic model for the operator API's
`PUT /v1/dunning-policy` and the console's Dunning policy page, so both validate a policy alike, and the
conversions to and from the domain's DunningPolicy.

Below the handlers (both functions use it), above the domain; no AWS, no JSON I/O here.
"""

from __future__ import annotations

import re
from datetime import time
from decimal import Decimal
from typing import Annotated, Final, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictInt, WithJsonSchema, model_validator

from shared.domain.dunning import DunningPolicy, DunningStep, LateFee
from shared.domain.plans import Frequency, PlanOffer

# Stripe's ceiling for a single charge, in minor units.
MAX_AMOUNT: Final = 99_999_999
# A sending window's times: "09:00", or "09:00:00" as the API reads them back; no seconds, no offset.
WALL_CLOCK_PATTERN: Final = r"^([01][0-9]|2[0-3]):[0-5][0-9](:00)?$"
_WALL_CLOCK = re.compile(WALL_CLOCK_PATTERN)
_WITH_OFFSET = re.compile(r"(Z|[+-][0-9]{2}(:?[0-9]{2})?)$")
TEMPLATES: Final = ("upcoming", "due_today", "overdue", "final_notice")  # the reminder copy a step may use
FREQUENCIES: Final = ("weekly", "biweekly", "monthly")


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _wall_clock_time(value: object) -> object:
    """The window is in each customer's own time zone: an offset would say whose, and seconds would be lost.
    Only "HH:MM" (or "HH:MM:00", as it is read back) gets in, the exact strings WALL_CLOCK_PATTERN documents:
    pydantic's own time parsing would also take numbers of seconds, fractions and offsets. A `time` comes
    only from payportal's own code (a stored policy read back), never from JSON."""
    if isinstance(value, time) and value.tzinfo is None and not (value.second or value.microsecond):
        return value
    if not isinstance(value, str) or not _WALL_CLOCK.fullmatch(value):
        if isinstance(value, str) and _WITH_OFFSET.search(value):
            raise ValueError('must be a local time such as "09:00", without a UTC offset')
        raise ValueError('must be a local time in whole minutes, "HH:MM" such as "09:00"')
    return value


WallClockTime = Annotated[
    time,
    BeforeValidator(_wall_clock_time),
    # Not pydantic's `format: time`: RFC 3339 requires an offset there, so it calls "18:00:00" invalid.
    WithJsonSchema({"type": "string", "pattern": WALL_CLOCK_PATTERN, "examples": ["09:00", "18:00"]}),
]


MinorUnits = Annotated[StrictInt, Field(gt=0, le=MAX_AMOUNT, description="integer in the currency's minor unit")]


class PlanOfferModel(StrictModel):
    max_installments: int = Field(ge=2, le=24, description="the most installments a customer may choose")
    min_installment_amount: MinorUnits = Field(description="no installment may be smaller, minor units")
    frequencies: list[Literal["weekly", "biweekly", "monthly"]] = Field(default=["monthly"], min_length=1)

    @model_validator(mode="after")
    def _distinct(self) -> PlanOfferModel:
        if len(set(self.frequencies)) != len(self.frequencies):
            raise ValueError("frequencies has a duplicate")
        return self


class LateFeeModel(StrictModel):
    fixed: MinorUnits | None = Field(default=None, description="a fixed fee in minor units")
    percent: str | None = Field(
        default=None, pattern=r"^\d{1,3}(\.\d{1,4})?$", description='of the amount remaining, e.g. "1.5"; never a float'
    )
    cap: MinorUnits | None = Field(default=None, description="the most a percentage fee may be")

    @model_validator(mode="after")
    def _one_kind(self) -> LateFeeModel:
        if (self.fixed is None) == (self.percent is None):
            raise ValueError("a late fee has either fixed or percent")
        if self.percent is not None and not Decimal(0) < Decimal(self.percent) <= Decimal(100):
            raise ValueError("percent must be more than 0 and at most 100")
        return self


class DunningStepModel(StrictModel):
    offset_days: int = Field(ge=-90, le=365, description="days relative to the due date; negative is before")
    template: Literal["upcoming", "due_today", "overdue", "final_notice"]
    late_fee: LateFeeModel | None = Field(default=None, description="added once, as its own line, when sent")


class DunningPolicyModel(StrictModel):
    steps: list[DunningStepModel] = Field(min_length=1, max_length=20)
    window_start: WallClockTime = Field(
        default=time(9), description="customer's local time the sending window opens, e.g. 09:00 (no UTC offset)"
    )
    window_end: WallClockTime = Field(default=time(18), description="customer's local time it closes, e.g. 18:00")
    mark_uncollectible_after_days: int | None = Field(
        default=None, ge=1, le=3650, description="days after the due date an unpaid invoice is written off"
    )
    default_installments: PlanOfferModel | None = Field(
        default=None, description="installment plans offered on new invoices that set none of their own"
    )

    @model_validator(mode="after")
    def _coherent(self) -> DunningPolicyModel:
        offsets = [s.offset_days for s in self.steps]
        if len(set(offsets)) != len(offsets):
            raise ValueError("two steps have the same offset_days")
        if self.window_start >= self.window_end:
            raise ValueError("window_start must be before window_end")
        return self


def plan_offer_in(model: PlanOfferModel) -> PlanOffer:
    return PlanOffer(
        max_installments=model.max_installments,
        min_installment_amount=model.min_installment_amount,
        frequencies=tuple(Frequency(f) for f in model.frequencies),
    )


def plan_offer_out(offer: PlanOffer) -> PlanOfferModel:
    return PlanOfferModel(
        max_installments=offer.max_installments,
        min_installment_amount=offer.min_installment_amount,
        frequencies=[f.value for f in offer.frequencies],
    )


def policy_in(model: DunningPolicyModel) -> DunningPolicy:
    steps = tuple(
        DunningStep(
            s.offset_days,
            s.template,
            LateFee(fixed=s.late_fee.fixed, percent=s.late_fee.percent, cap=s.late_fee.cap) if s.late_fee else None,
        )
        for s in model.steps
    )
    return DunningPolicy(
        steps=steps,
        window_start=model.window_start,
        window_end=model.window_end,
        mark_uncollectible_after_days=model.mark_uncollectible_after_days,
        default_installments=plan_offer_in(model.default_installments) if model.default_installments else None,
    )


def policy_out(policy: DunningPolicy) -> DunningPolicyModel:
    return DunningPolicyModel(
        steps=[
            DunningStepModel(
                offset_days=s.offset_days,
                template=s.template,
                late_fee=LateFeeModel(fixed=s.late_fee.fixed, percent=s.late_fee.percent, cap=s.late_fee.cap)
                if s.late_fee
                else None,
            )
            for s in policy.steps
        ],
        window_start=policy.window_start,
        window_end=policy.window_end,
        mark_uncollectible_after_days=policy.mark_uncollectible_after_days,
        default_installments=plan_offer_out(policy.default_installments) if policy.default_installments else None,
    )
