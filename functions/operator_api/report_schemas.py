"""Reply models of the report routes (GET /v1/reports/...): amounts in minor units, ratios as numbers."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field


class AgingLineOut(BaseModel):
    currency: str = Field(examples=["USD"])
    current: int = Field(description="not yet due (minor units)")
    days_1_30: int
    days_31_60: int
    days_61_90: int
    days_91_plus: int
    total: int


class CustomerAgingOut(BaseModel):
    customer_id: str
    currencies: list[AgingLineOut]


class AgingReportOut(BaseModel):
    as_of: date
    currencies: list[AgingLineOut] = Field(description="what was still owed at the end of as_of, per currency")
    customers: list[CustomerAgingOut] | None = Field(
        default=None, description="with group_by=customer (as of today only): each customer's lines"
    )


class CollectionsFigures(BaseModel):
    """docs/reports.md defines each; null when there is nothing to measure it on (e.g. no invoice paid)."""

    dso: float = Field(description="days sales outstanding, countback method")
    best_possible_dso: float | None
    average_days_delinquent: float | None
    collection_effectiveness_index: float | None = Field(description="percent")
    collection_rate: float | None = Field(description="a share, 0 to 1")
    average_days_to_pay: float | None
    paid_on_time_share: float | None
    promises_kept_share: float | None
    offsession_first_attempt_failure_rate: float | None
    offsession_recovery_rate: float | None


class CollectionsLineOut(BaseModel):
    currency: str
    figures: CollectionsFigures
    inputs: dict[str, int] = Field(description="the sums (minor units) and counts the figures come from")
    dso_capped: bool = Field(description="the countback ran out of history (24 months) before the receivables")


class CollectionsReportOut(BaseModel):
    from_: date = Field(alias="from", serialization_alias="from")
    to: date
    currencies: list[CollectionsLineOut]
