"""Lists and reports as CSV: one page per response, a header row, the next page in a `Link` header.

Asked with `Accept: text/csv` or `?format=csv`. The text itself (formula cells neutralised) is
shared.csv_text's, which the console's downloads use too. Reports reuse `csv_text` and `csv_response` with
their own columns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final
from urllib.parse import urlencode

from aws_lambda_powertools.event_handler import Response

from shared.csv_text import FORMULA_STARTS, cell, csv_text

__all__ = ["CSV_TYPE", "FORMULA_STARTS", "cell", "csv_response", "csv_text", "next_link", "wants_csv"]

CSV_TYPE: Final = "text/csv"


def wants_csv(output: str | None, accept: str | None) -> bool:
    """`format=csv`, or no format and an Accept header naming text/csv."""
    if output is not None:
        return output == "csv"
    return CSV_TYPE in (accept or "").lower()


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
