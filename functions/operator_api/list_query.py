"""What the list and report routes share: one value per parameter but `status`, and their reply, JSON or
CSV (csv_output.py)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent
from aws_lambda_powertools.utilities.data_classes.common import BaseProxyEvent
from pydantic import BaseModel

from functions.operator_api.csv_output import csv_response, csv_text, next_link, wants_csv
from shared.services.lists import InvalidFilter


def check_repeats(event: APIGatewayProxyEvent, repeatable: frozenset[str]) -> None:
    """A parameter given twice that is not repeatable is a 422 (which one would be meant?). Parameters a route
    does not take are refused before routing (query_params.py)."""
    for name, values in (event.multi_value_query_string_parameters or {}).items():
        if len(values) > 1 and name not in repeatable:
            raise InvalidFilter(f"{name} is given more than once", field=name)


def as_utc(moment: datetime | None) -> datetime | None:
    """A moment without an offset is UTC's."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


OutputFormat = Annotated[
    Literal["json", "csv"] | None,
    Query(alias="format", description="csv: as CSV (as `Accept: text/csv`); a list's next page in a Link header"),
]


def report_reply(
    event: BaseProxyEvent,
    report: BaseModel,
    rows: Iterable[Mapping[str, Any]],
    columns: Sequence[str],
    output: str | None,
    filename: str,
) -> Response[Any]:
    """The report as JSON, or `rows` (one per line of it) as CSV."""
    if not wants_csv(output, event.headers.get("accept")):
        return Response(
            status_code=200, content_type="application/json", body=report.model_dump(mode="json", by_alias=True)
        )
    return csv_response(csv_text(columns, rows), None, filename)


def reply(
    event: APIGatewayProxyEvent,
    page: BaseModel,
    rows: str,
    columns: Sequence[str],
    output: str | None,
) -> Response[Any]:
    """The page as JSON, or its rows as CSV with the next page's link."""
    if not wants_csv(output, event.headers.get("accept")):
        return Response(status_code=200, content_type="application/json", body=page.model_dump(mode="json"))
    dumped = page.model_dump(mode="json")
    link = next_link(event.path, event.multi_value_query_string_parameters or {}, dumped["next_cursor"])
    return csv_response(csv_text(columns, dumped[rows]), link, rows)
