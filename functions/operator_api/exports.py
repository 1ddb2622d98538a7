"""GET /v1/exports/payments: the money that moved in a window of days, as a bank statement for QuickBooks
Online or Xero, or every column as CSV (shared/services/exports.py; docs/integrations.md)."""

from __future__ import annotations

from typing import Annotated, Any, Literal, cast

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from functions.operator_api.csv_output import csv_response, csv_text
from functions.operator_api.errors import OpenAPIResponse, documented
from functions.operator_api.list_query import check_repeats
from functions.operator_api.schemas import BusinessDate, CurrencyCode, TimeZoneName
from shared import wiring
from shared.config import settings
from shared.services import exports

router = Router()


def _exported(*errors: int) -> dict[int, OpenAPIResponse]:
    described = documented(200, *errors)
    described[200] = {
        "description": "The file, as an attachment (text/csv, UTF-8): its columns depend on `format`",
        "content": {"text/csv": {"schema": {"type": "string"}}},
    }
    return described


@router.get(
    "/v1/exports/payments",
    tags=["exports"],
    summary="Payments, refunds and reversals of a window of days, for QuickBooks Online, Xero or as CSV",
    responses=_exported(400, 422),
)
def export_payments(
    from_: Annotated[BusinessDate, Query(alias="from", description="YYYY-MM-DD, the first day (operator's zone)")],
    to: Annotated[BusinessDate, Query(description=f"YYYY-MM-DD, the last day; at most {exports.MAX_DAYS} days")],
    format_: Annotated[
        Literal["csv", "quickbooks", "xero"],
        Query(alias="format", description="quickbooks and xero are bank statements of one currency"),
    ] = "csv",
    currency: Annotated[CurrencyCode | None, Query(description="required for quickbooks and xero")] = None,
    timezone: Annotated[
        TimeZoneName | None, Query(max_length=64, description="IANA zone of the days; default the operator's")
    ] = None,
) -> Response[Any]:
    check_repeats(cast(APIGatewayProxyEvent, router.current_event), frozenset())
    request = exports.ExportRequest(
        first_day=from_, last_day=to, format=format_, currency=currency,
        timezone=timezone or settings().digest_timezone,
    )  # fmt: skip
    ledger = wiring.ledger()
    lines = exports.money_lines(ledger, request)
    columns, rows = exports.rows(ledger, request, lines)
    return csv_response(csv_text(columns, rows), None, f"payments-{format_}-{from_}-{to}")
