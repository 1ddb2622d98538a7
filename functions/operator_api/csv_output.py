"""Lists and reports as CSV: one page per response, a header row, the next page in a `Link` header.

Asked with `Accept: text/csv` or `?format=csv`. A cell a spreadsheet would run as a formula (text starting
with `=`, `+`, `-`, `@`, a tab or a carriage return: OWASP's list) is prefixed with `'`, so it shows as text;
numbers are written as numbers. Reports reuse `csv_text` and `csv_response` with their own columns.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any, Final
from urllib.parse import urlencode

from aws_lambda_powertools.event_handler import Response

CSV_TYPE: Final = "text/csv"
FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")


def wants_csv(output: str | None, accept: str | None) -> bool:
    """`format=csv`, or no format and an Accept header naming text/csv."""
    if output is not None:
        return output == "csv"
    return CSV_TYPE in (accept or "").lower()


def cell(value: Any) -> str | int:
    """One value as a CSV cell: numbers as they are, text neutralised, structures as JSON text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | dict):
        value = json.dumps(value, separators=(",", ":"), sort_keys=True, default=str) if value else ""
    text = str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def csv_text(columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> str:
    """A header row of `columns`, then each row's values in that order."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([cell(row.get(column)) for column in columns])
    return out.getvalue()


def next_link(path: str, query: Mapping[str, Sequence[str]], next_cursor: str | None) -> str | None:
    """The Link header to the next page: the same path and query, with the next cursor."""
    if next_cursor is None:
        return None
    pairs = [(name, value) for name, values in query.items() if name != "cursor" for value in values]
    return f'<{path}?{urlencode([*pairs, ("cursor", next_cursor)])}>; rel="next"'


def csv_response(text: str, link: str | None, filename: str) -> Response[Any]:
    headers = {"Content-Disposition": f'attachment; filename="{filename}.csv"'}
    if link:
        headers["Link"] = link
    return Response(status_code=200, content_type=f"{CSV_TYPE}; charset=utf-8", body=text, headers=headers)
