"""What the list routes share: the query parameters they take (any other is a 400 naming it) and their
reply, JSON or CSV (csv_output.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent
from pydantic import BaseModel

from functions.operator_api.csv_output import csv_response, csv_text, next_link, wants_csv
from shared.domain.errors import DomainError
from shared.services.lists import InvalidFilter


class UnknownParameter(DomainError):
    code = "unknown_parameter"


def check_parameters(event: APIGatewayProxyEvent, allowed: frozenset[str], repeatable: frozenset[str]) -> None:
    """A parameter the route does not take is a 400 naming it (never silently ignored: a typo in a filter
    would list everything); one given twice that is not repeatable is a 422."""
    query = event.multi_value_query_string_parameters or {}
    unknown = sorted(set(query) - allowed)
    if unknown:
        raise UnknownParameter(
            f"unknown query parameter {unknown[0]}; this list takes {', '.join(sorted(allowed))}", field=unknown[0]
        )
    for name, values in query.items():
        if len(values) > 1 and name not in repeatable:
            raise InvalidFilter(f"{name} is given more than once", field=name)


def as_utc(moment: datetime | None) -> datetime | None:
    """A moment without an offset is UTC's."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


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
