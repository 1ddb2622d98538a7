"""The import file's rules: every row checked before anything is written, each problem with its line."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.domain import imports
from shared.domain.imports import FileFormat, ImportFileInvalid, ImportFileTooLarge, check_file

HEADER = ",".join(imports.COLUMNS)


def a_file(*rows: dict[str, str]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=imports.COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def a_row(**overrides: str) -> dict[str, str]:
    row = {
        "customer_external_id": "crm-1",
        "customer_name": "Ada Lovelace",
        "customer_email": "ada@example.com",
        "invoice_number": "INV-1",
        "currency": "USD",
        "amount": "125.50",
        "due_date": "2027-01-31",
    }
    return {**row, **overrides}


def errors_of(content: str, file_format: FileFormat = FileFormat.CSV) -> list[tuple[int, str]]:
    with pytest.raises(ImportFileInvalid) as refused:
        check_file(content, file_format)
    return [(e.line, e.reason) for e in refused.value.errors]


def test_a_good_row_becomes_a_customer_and_an_invoice_in_minor_units() -> None:
    [row] = check_file(a_file(a_row()), FileFormat.CSV)
    assert row.line == 2
    assert (row.customer.external_id, row.customer.locale, row.customer.timezone) == ("crm-1", "en-US", "UTC")
    assert row.invoice is not None
    assert (row.invoice.amount_due, row.invoice.currency, row.invoice.due_date) == (12550, "USD", date(2027, 1, 31))


@pytest.mark.parametrize(
    ("currency", "amount", "minor"),
    [("JPY", "5000", 5000), ("KWD", "1.250", 1250), ("EUR", "0.5", 50), ("USD", "7", 700)],
)
def test_a_decimal_amount_follows_the_currency_s_exponent(currency: str, amount: str, minor: int) -> None:
    [row] = check_file(a_file(a_row(currency=currency, amount=amount)), FileFormat.CSV)
    assert row.invoice is not None and row.invoice.amount_due == minor


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"amount": "12.345"}, "amount: USD takes 2 decimal place(s)"),
        ({"currency": "JPY", "amount": "1.5"}, "amount: JPY takes no decimals"),
        ({"amount": "1e3"}, "amount must be a number such as 125.00"),
        ({"amount": "1,000.00"}, "amount must be a number such as 125.00"),
        ({"amount": "-5"}, "amount must be a number such as 125.00"),
        ({"amount": "0"}, "amount must be more than 0"),
        ({"amount": "", "amount_minor": ""}, "give exactly one of amount"),
        ({"amount_minor": "100"}, "give exactly one of amount"),
        ({"amount": "", "amount_minor": "12.5"}, "amount_minor must be a whole number"),
        ({"amount": "", "amount_minor": "100000000"}, "amount must be more than 0 and at most 99,999,999"),
        ({"currency": "ZZZ"}, "currency must be an ISO 4217 code"),
        ({"currency": "XAU"}, "amount: "),  # a metal: not chargeable at Stripe
        ({"due_date": "31/01/2027"}, "due_date must be a date such as 2027-01-31"),
        ({"due_date": "2027-02-30"}, "due_date must be a date such as 2027-01-31"),
        ({"due_date": "1999-12-31"}, "due_date must be from 2000-01-01"),
        ({"due_date": ""}, "due_date is required"),
        ({"customer_email": "nobody"}, "customer_email must be an email address"),
        ({"customer_external_id": ""}, "customer_external_id is required"),
        ({"customer_timezone": "Mars/Olympus"}, "customer_timezone must be an IANA time zone"),
        ({"customer_locale": "xx-NOPE"}, "customer_locale must be a locale"),
        ({"invoice_number": "-starts-with-dash"}, "invoice_number: letters, digits"),
        ({"invoice_number": "", "currency": "USD"}, "invoice columns are given but invoice_number is blank"),
        ({"description": "x" * 501}, "description is longer than 500 characters"),
        ({"customer_name": "Ada\x07"}, "customer_name holds a control character"),
        ({"customer_name": ""}, "give both customer_name and customer_email, or neither"),
    ],
)
def test_a_bad_cell_is_named_with_its_line(overrides: dict[str, str], reason: str) -> None:
    content = a_file(a_row(invoice_number="OK-1"), a_row(**overrides))
    [(line, said)] = errors_of(content)
    assert line == 3
    assert said.startswith(reason), said


def test_customers_described_once_fill_the_rows_that_leave_them_blank() -> None:
    rows = check_file(
        a_file(a_row(customer_locale="de-DE"), a_row(invoice_number="INV-2", customer_name="", customer_email="")),
        FileFormat.CSV,
    )
    assert rows[1].customer == rows[0].customer and rows[1].customer.locale == "de-DE"


def test_a_customer_described_two_ways_and_a_number_given_twice_are_errors() -> None:
    content = a_file(a_row(), a_row(invoice_number="INV-2", customer_name="Ada L."), a_row())
    assert errors_of(content) == [
        (3, "customer 'crm-1' is described differently above"),
        (4, "invoice_number INV-1 is also on line 2"),
    ]


def test_the_header_must_name_known_columns_once() -> None:
    assert errors_of("customer_external_id,colour\r\ncrm-1,red\r\n") == [(1, "unknown column(s): 'colour'")]
    assert errors_of("customer_name\r\nAda\r\n") == [(1, "missing column(s): customer_external_id")]
    assert errors_of("") == [(1, "no header row")]
    assert errors_of(HEADER + "\r\n") == [(1, "no rows after the header")]


def test_a_short_row_and_broken_quoting_are_named() -> None:
    assert errors_of(HEADER + "\r\ncrm-1,Ada\r\n") == [(2, "2 cells, the header has 11")]
    assert errors_of(HEADER + '\r\n"crm-1\r\n')[0][1].startswith("not CSV")


def test_quoted_cells_with_commas_and_line_breaks_keep_their_line_numbers() -> None:
    content = a_file(a_row(description="Consulting,\r\nDecember"), a_row(invoice_number="INV-2", amount="x"))
    [(line, _)] = errors_of(content)
    assert line == 4  # the first data row spans lines 2 and 3


def test_json_lines_read_like_csv() -> None:
    lines = [json.dumps(a_row()), "", json.dumps({**a_row(invoice_number="J-2"), "amount": None, "amount_minor": 5})]
    rows = check_file("\n".join(lines), FileFormat.JSONL)
    assert [r.line for r in rows] == [1, 3]
    assert rows[1].invoice is not None and rows[1].invoice.amount_due == 5
    assert errors_of("[1, 2]\n{", FileFormat.JSONL) == [(1, "not a JSON object"), (2, "not a JSON object")]
    assert errors_of(json.dumps({**a_row(), "amount": 1.5}), FileFormat.JSONL) == [
        (1, "amount: give text or a whole number")
    ]
    assert errors_of(json.dumps({**a_row(), "admin": True}), FileFormat.JSONL) == [(1, "unknown field(s): 'admin'")]


def test_limits_are_their_own_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(imports, "MAX_ROWS", 2)
    with pytest.raises(ImportFileTooLarge):
        check_file(a_file(a_row(), a_row(invoice_number="2"), a_row(invoice_number="3")), FileFormat.CSV)
    monkeypatch.setattr(imports, "MAX_FILE_BYTES", 10)
    with pytest.raises(ImportFileTooLarge):
        check_file(a_file(a_row()), FileFormat.CSV)


def test_the_template_reads_as_a_good_file() -> None:
    rows = check_file(imports.template_csv(), FileFormat.CSV)
    assert [r.line for r in rows] == [2, 3, 4]
    assert rows[1].invoice is not None and rows[1].invoice.amount_due == 4200


# ----- hostile files: whatever the bytes, the answer is rows or row errors, never another exception

_cells = st.text(st.characters(codec="utf-8"), max_size=30)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.dictionaries(st.sampled_from(imports.COLUMNS), _cells), min_size=1, max_size=5))
def test_any_csv_rows_are_read_or_refused_row_by_row(rows: list[dict[str, str]]) -> None:
    content = a_file(*rows)
    try:
        checked = check_file(content, FileFormat.CSV)
    except ImportFileInvalid as refused:
        assert refused.errors and all(e.line >= 1 and e.reason for e in refused.errors)
        return
    for row in checked:
        assert row.customer.external_id
        if row.invoice is not None:
            assert isinstance(row.invoice.amount_due, int) and 0 < row.invoice.amount_due <= imports.MAX_AMOUNT


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300), st.sampled_from(list(FileFormat)))
def test_any_text_is_rows_or_a_clear_refusal(content: str, file_format: FileFormat) -> None:
    try:
        check_file(content, file_format)
    except ImportFileInvalid as refused:
        assert all(e.line >= 1 for e in refused.errors)
    except ImportFileTooLarge:
        pytest.fail("a small file is never too large")


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=1, max_value=99_999_999), st.sampled_from(["USD", "JPY", "KWD", "EUR"]))
def test_a_decimal_amount_and_its_minor_units_read_the_same(minor: int, currency: str) -> None:
    exponent = imports.minor_unit_exponent(currency)
    if currency == "KWD":
        minor -= minor % 10  # Stripe charges KWD in steps of 10 fils
        minor = minor or 10
    major = f"{minor // 10**exponent}.{minor % 10**exponent:0{exponent}d}" if exponent else str(minor)
    by_decimal = check_file(a_file(a_row(currency=currency, amount=major)), FileFormat.CSV)
    by_minor = check_file(a_file(a_row(currency=currency, amount="", amount_minor=str(minor))), FileFormat.CSV)
    assert by_decimal[0].invoice == by_minor[0].invoice
    assert by_decimal[0].invoice is not None and by_decimal[0].invoice.amount_due == minor


def test_lone_surrogates_and_controls_are_row_errors_never_echoed() -> None:
    # JSON may carry "\ud800" escapes: a string Python holds but UTF-8 cannot; no error message may repeat it
    lines = [json.dumps(a_row(invoice_number="\ud800")), json.dumps(a_row(invoice_number="\ud800", amount="1"))]
    errors = errors_of("\n".join(lines), FileFormat.JSONL)
    assert [line for line, _ in errors] == [1, 2]
    assert all("\ud800" not in reason for _, reason in errors)
    assert errors_of(json.dumps({**a_row(), "\ud800x": "1"}), FileFormat.JSONL) == [(1, "unknown field(s): 'x'")]
