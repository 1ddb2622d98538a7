"""CSV text for lists and reports (the operator API's and the console's): a header row, then one line per row.

A cell a spreadsheet would run as a formula (text starting with `=`, `+`, `-`, `@`, a tab or a carriage
return: OWASP's list) is prefixed with `'`, so it shows as text; numbers are written as numbers.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final

FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> str | int:
    """One value as a CSV cell: numbers as they are, text neutralised, structures as JSON text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal):  # an amount we computed: a number, its sign included ("-30.00")
        return format(value, "f")
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
