"""CSV for lists and reports: a header row, cells a spreadsheet will not run, the next page's link."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest

from functions.operator_api.csv_output import cell, csv_text, next_link, wants_csv


@pytest.mark.parametrize("text", ["=1+2", "+1", "-1", "@SUM(A1)", "\tx", "\rx", '=HYPERLINK("http://x")'])
def test_a_cell_a_spreadsheet_would_run_is_text(text: str) -> None:
    assert cell(text) == f"'{text}"


def test_numbers_dates_and_empty_values_are_written_as_they_are() -> None:
    assert cell(-250) == -250  # a negative amount is a number, not a formula
    assert cell(None) == ""
    assert cell(True) == "true"
    assert cell(date(2027, 3, 1)) == "2027-03-01"
    assert cell(datetime(2027, 3, 1, 9, tzinfo=UTC)) == "2027-03-01T09:00:00+00:00"
    assert cell({"reason": "=x"}) == '{"reason":"=x"}'
    assert cell([]) == ""


def test_the_text_has_a_header_row_and_quotes_what_needs_it() -> None:
    text = csv_text(("id", "name", "amount"), [{"id": "c1", "name": 'Ann, "the" first', "amount": 5}, {"id": "c2"}])
    assert text.splitlines()[0] == "id,name,amount"
    assert list(csv.reader(io.StringIO(text))) == [
        ["id", "name", "amount"],
        ["c1", 'Ann, "the" first', "5"],
        ["c2", "", ""],
    ]


def test_the_next_link_keeps_the_query_and_replaces_the_cursor() -> None:
    link = next_link(
        "/v1/invoices", {"status": ["open", "partially_paid"], "cursor": ["old"], "format": ["csv"]}, "n+x"
    )
    assert link == '</v1/invoices?status=open&status=partially_paid&format=csv&cursor=n%2Bx>; rel="next"'
    assert next_link("/v1/invoices", {}, None) is None


def test_csv_is_asked_by_format_or_accept() -> None:
    assert wants_csv("csv", None) and wants_csv(None, "text/csv, */*")
    assert not wants_csv("json", "text/csv") and not wants_csv(None, "application/json") and not wants_csv(None, None)
