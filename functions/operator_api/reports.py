"""GET /v1/reports/aging and /v1/reports/collections: read from the running aggregates, never the invoices."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from functions.operator_api.errors import reported
from functions.operator_api.list_query import OutputFormat, report_reply
from functions.operator_api.report_schemas import (
    AgingLineOut,
    AgingReportOut,
    CollectionsFigures,
    CollectionsLineOut,
    CollectionsReportOut,
    CustomerAgingOut,
)
from functions.operator_api.schemas import BusinessDate, CurrencyCode
from shared import wiring
from shared.clock import business_clock
from shared.services import reports
from shared.services.reports import AgingLine

router = Router()
AGING_COLUMNS = ("currency", "current", "days_1_30", "days_31_60", "days_61_90", "days_91_plus", "total")


def _line(line: AgingLine) -> AgingLineOut:
    return AgingLineOut(currency=line.currency, **line.as_counts(), total=line.total)


@router.get(
    "/v1/reports/aging",
    tags=["reports"],
    summary="What was still owed at the end of a day, per currency, by days past due",
    responses=reported(AgingReportOut, 400, 422, 503),
)
def aging_report(
    as_of: Annotated[
        BusinessDate, Query(description="YYYY-MM-DD: today, or a past day with a snapshot (400 days kept)")
    ],
    currency: Annotated[CurrencyCode | None, Query()] = None,
    group_by: Annotated[Literal["customer"] | None, Query(description="as of today only")] = None,
    output: OutputFormat = None,
) -> Response[Any]:
    report = reports.aging_report(
        wiring.ledger(), business_clock(), as_of, currency=currency, by_customer=group_by == "customer"
    )
    customers = (
        [CustomerAgingOut(customer_id=c.customer_id, currencies=[_line(x) for x in c.lines]) for c in report.customers]
        if report.customers is not None
        else None
    )
    out = AgingReportOut(as_of=report.as_of, currencies=[_line(x) for x in report.currencies], customers=customers)
    if customers is None:
        lines = [line.model_dump() for line in out.currencies]
        return report_reply(router.current_event, out, lines, AGING_COLUMNS, output, f"aging-{as_of}")
    per_customer = [{"customer_id": c.customer_id, **line.model_dump()} for c in customers for line in c.currencies]
    columns = ("customer_id", *AGING_COLUMNS)
    return report_reply(router.current_event, out, per_customer, columns, output, f"aging-{as_of}-by-customer")


@router.get(
    "/v1/reports/collections",
    tags=["reports"],
    summary="Collections KPIs over a period (DSO, CEI, collection rate, days to pay, promises, off-session charges)",
    responses=reported(CollectionsReportOut, 400, 422, 503),
)
def collections_report(
    from_: Annotated[BusinessDate, Query(alias="from", description="YYYY-MM-DD, first day of the period")],
    to: Annotated[
        BusinessDate, Query(description="YYYY-MM-DD, last day (at most 400 days after from; not after today)")
    ],
    currency: Annotated[CurrencyCode | None, Query()] = None,
    output: OutputFormat = None,
) -> Response[Any]:
    report = reports.collections_report(wiring.ledger(), business_clock(), from_, to, currency=currency)
    lines = [
        CollectionsLineOut(
            currency=line.currency,
            figures=CollectionsFigures.model_validate(line.figures),
            inputs=line.inputs,
            dso_capped=line.dso_capped,
        )
        for line in report.currencies
    ]
    out = CollectionsReportOut.model_validate({"from": report.start, "to": report.end, "currencies": lines})
    rows = [{"currency": x.currency, **x.figures.model_dump(), "dso_capped": x.dso_capped} for x in out.currencies]
    columns = ("currency", *CollectionsFigures.model_fields, "dso_capped")
    return report_reply(router.current_event, out, rows, columns, output, f"collections-{from_}-{to}")
