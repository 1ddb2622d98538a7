"""Bulk import: a CSV (or JSON lines) file of customers and invoices, read and checked row by row before
anything is written.

A row names a customer by its `customer_external_id` and, when `invoice_number` is given, one invoice of
theirs. The customer's details may be left blank on a row when another row of the file gives them, or when
the customer is already stored. Every problem is reported with its line number (the header is line 1 of a
CSV; the first object is line 1 of JSON lines); a file with any is refused whole.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from functools import cache
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from shared.domain.errors import DomainError, InvalidAmount, UnknownCurrency
from shared.domain.money import minor_unit_exponent, normalise_currency
from shared.domain.stripe_amounts import check_chargeable
from shared.domain.text import has_bidi_controls, strip_bidi_controls

COLUMNS: Final = (
    "customer_external_id",
    "customer_name",
    "customer_email",
    "customer_locale",
    "customer_timezone",
    "invoice_number",
    "currency",
    "amount",
    "amount_minor",
    "due_date",
    "description",
)
REQUIRED_COLUMNS: Final = ("customer_external_id",)
TEMPLATE_ROWS: Final = (
    ("crm-1815", "Ada Lovelace", "ada@example.com", "en-GB", "Europe/London", "INV-1001", "GBP", "125.00", "",
     "2027-01-31", "Consulting, December"),
    ("crm-1815", "", "", "", "", "INV-1002", "GBP", "", "4200", "2027-02-28", "Consulting, January"),
    ("crm-1906", "Grace Hopper", "grace@example.com", "en-US", "America/New_York", "", "", "", "", "", ""),
)  # fmt: skip

# A file the operator API can take in one request (Lambda takes 6 MB; the JSON envelope escapes some of it).
MAX_FILE_BYTES: Final = 4_000_000
# A file uploaded first (POST /v1/imports/uploads) and checked by the worker: 100,000 rows of long
# descriptions fit (a typical row is 80-150 bytes).
MAX_UPLOAD_BYTES: Final = 50_000_000
MAX_ROWS: Final = 100_000
MAX_CELL = 500  # the longest cell any column takes (a description)
MAX_ERRORS_REPORTED: Final = 100  # a file with more gets the first ones and the count
MAX_AMOUNT: Final = 99_999_999  # Stripe's ceiling for one charge, in minor units
EARLIEST_DATE: Final = date(2000, 1, 1)
LATEST_DATE: Final = date(2099, 12, 31)

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/\-]{0,63}$")
_EXTERNAL_ID_MAX = 128
_NAME_MAX = 200
_DECIMAL = re.compile(r"^[0-9]{1,9}(\.[0-9]{1,4})?$")
_MINOR = re.compile(r"^[0-9]{1,9}$")
_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


class FileFormat(StrEnum):
    CSV = "csv"
    JSONL = "jsonl"


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    reason: str


class ImportFileTooLarge(DomainError):
    code = "import_too_large"


class ImportFileInvalid(DomainError):
    """The file cannot be imported as it is: nothing is written. `errors` names each row and why."""

    code = "import_invalid"

    def __init__(self, message: str, errors: list[RowError], *, total: int | None = None) -> None:
        super().__init__(message, field="content")
        self.errors = errors[:MAX_ERRORS_REPORTED]
        self.total = len(errors) if total is None else total


@dataclass(frozen=True, slots=True)
class CustomerFields:
    external_id: str
    name: str
    email: str
    locale: str
    timezone: str


@dataclass(frozen=True, slots=True)
class InvoiceFields:
    number: str
    currency: str
    amount_due: int
    due_date: date
    description: str


@dataclass(frozen=True, slots=True)
class ImportRow:
    """One checked row: the customer (complete once the file is read) and, if the row has one, its invoice."""

    line: int
    customer: CustomerFields
    invoice: InvoiceFields | None = None


# ----- reading the file into cells, with each row's line number


def read_cells(content: str, file_format: FileFormat, max_bytes: int | None = None) -> list[tuple[int, dict[str, str]]]:
    """(line, column -> text) of every data row; ImportFileInvalid for a file that does not read, or
    ImportFileTooLarge (past `max_bytes`, by default what one request takes)."""
    max_bytes = MAX_FILE_BYTES if max_bytes is None else max_bytes
    if len(content.encode("utf-8", "surrogatepass")) > max_bytes:
        raise ImportFileTooLarge(f"the file is larger than {max_bytes:,} bytes; split it", field="content")
    rows = _csv_cells(content) if file_format is FileFormat.CSV else _jsonl_cells(content)
    if len(rows) > MAX_ROWS:
        raise ImportFileTooLarge(f"the file has {len(rows):,} rows; at most {MAX_ROWS:,} per import", field="content")
    if not rows:
        raise ImportFileInvalid("the file has no rows", [RowError(1, "no rows after the header")])
    return rows


def _csv_cells(content: str) -> list[tuple[int, dict[str, str]]]:
    reader = csv.reader(io.StringIO(content.removeprefix("\ufeff"), newline=""), strict=True)
    try:
        header = next(reader, None)
        if header is None:
            raise ImportFileInvalid("the file is empty", [RowError(1, "no header row")])
        columns = [name.strip().lower() for name in header]
        _check_header(columns)
        rows = []
        line = reader.line_num + 1  # where the next record starts (a quoted cell may span lines)
        for record in reader:
            start_of_next = reader.line_num + 1
            if not any(cell.strip() for cell in record):
                line = start_of_next
                continue  # a blank line
            if len(record) != len(columns):
                rows.append((line, {"": f"{len(record)} cells, the header has {len(columns)}"}))
                line = start_of_next
                continue
            rows.append((line, dict(zip(columns, record, strict=True))))
            if len(rows) > MAX_ROWS:
                break
            line = start_of_next
    except csv.Error as error:
        raise ImportFileInvalid("the file is not CSV", [RowError(reader.line_num, f"not CSV: {error}")]) from None
    return rows


def _check_header(columns: list[str]) -> None:
    unknown = [name for name in columns if name not in COLUMNS]
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    repeated = sorted({name for name in columns if columns.count(name) > 1})
    problems = []
    if unknown:
        problems.append(f"unknown column(s): {', '.join(_shown(n) for n in unknown[:5])}")
    if missing:
        problems.append(f"missing column(s): {', '.join(missing)}")
    if repeated:
        problems.append(f"repeated column(s): {', '.join(_shown(n) for n in repeated[:5])}")
    if problems:
        raise ImportFileInvalid("the header is not one payportal reads", [RowError(1, "; ".join(problems))])


def _jsonl_cells(content: str) -> list[tuple[int, dict[str, str]]]:
    rows: list[tuple[int, dict[str, str]]] = []
    for line, text in enumerate(content.removeprefix("\ufeff").splitlines(), start=1):
        if not text.strip():
            continue
        try:
            value = json.loads(text)
        except (ValueError, RecursionError):
            rows.append((line, {"": "not a JSON object"}))
            continue
        if not isinstance(value, dict):
            rows.append((line, {"": "not a JSON object"}))
            continue
        unknown = [str(k) for k in value if k not in COLUMNS]
        if unknown:
            rows.append((line, {"": f"unknown field(s): {', '.join(_shown(n) for n in unknown[:5])}"}))
            continue
        cells = {}
        for name, cell in value.items():
            if isinstance(cell, bool) or not isinstance(cell, str | int | type(None)):
                cells = {"": f"{name}: give text or a whole number"}
                break
            cells[name] = "" if cell is None else str(cell)
        rows.append((line, cells))
        if len(rows) > MAX_ROWS:
            break
    return rows


def _shown(text: str) -> str:
    """A name from the file, shown back at most 40 characters long and without control characters."""
    clean = "".join(ch for ch in strip_bidi_controls(text) if ch.isprintable())
    return repr(clean[:40] + ("..." if len(clean) > 40 else ""))


# ----- checking each row, then the file as a whole


def check_file(content: str, file_format: FileFormat, max_bytes: int | None = None) -> list[ImportRow]:
    """Every row of the file, checked; ImportFileInvalid with each row's problem if any row has one."""
    rows: list[ImportRow] = []
    errors: list[RowError] = []
    numbers: dict[str, int] = {}  # invoice number -> the first line with it, whether or not that row is right
    for line, cells in read_cells(content, file_format, max_bytes):
        number = strip_bidi_controls(cells.get("invoice_number", "")).strip()
        # Only a well-formed number is compared (and so ever echoed back); a bad one is its row's own error.
        first = numbers.setdefault(number, line) if _NUMBER.match(number) else line
        try:
            checked = check_row(line, cells)
        except RowProblem as problem:
            errors.append(RowError(line, problem.reason))
            continue
        if first != line:
            errors.append(RowError(line, f"invoice_number {number} is also on line {first}"))
            continue
        rows.append(checked)
    rows, file_errors = _complete_customers(rows)
    errors = sorted([*errors, *file_errors], key=lambda e: e.line)
    if errors:
        raise ImportFileInvalid(f"{len(errors)} row(s) cannot be imported; nothing was written", errors)
    return rows


class RowProblem(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def check_row(line: int, cells: dict[str, str]) -> ImportRow:
    """One row's cells to an ImportRow, or RowProblem naming the first column that is wrong."""
    if "" in cells:
        raise RowProblem(cells[""])
    text = {name: _cell(name, cells.get(name, "")) for name in COLUMNS}
    external_id = text["customer_external_id"]
    if not external_id:
        raise RowProblem("customer_external_id is required")
    if len(external_id) > _EXTERNAL_ID_MAX:
        raise RowProblem(f"customer_external_id is longer than {_EXTERNAL_ID_MAX} characters")
    customer = CustomerFields(
        external_id=external_id,
        name=_name(text["customer_name"]),
        email=_email(text["customer_email"]),
        locale=_locale(text["customer_locale"]) if text["customer_locale"] else "",
        timezone=_timezone(text["customer_timezone"]) if text["customer_timezone"] else "",
    )
    invoice = _invoice(text) if text["invoice_number"] else None
    if invoice is None and any(text[n] for n in ("currency", "amount", "amount_minor", "due_date", "description")):
        raise RowProblem("invoice columns are given but invoice_number is blank")
    return ImportRow(line=line, customer=customer, invoice=invoice)


def _cell(name: str, value: str) -> str:
    value = strip_bidi_controls(value).strip()
    if len(value) > MAX_CELL:
        raise RowProblem(f"{name} is longer than {MAX_CELL} characters")
    if name == "description":  # the one cell that may run over lines, as the API's description may
        value = value.replace("\r\n", "\n")
        if not value.replace("\n", "").replace("\t", "").isprintable():
            raise RowProblem(f"{name} holds a control character")
    elif not value.isprintable():
        raise RowProblem(f"{name} holds a control character")
    return value


def _name(value: str) -> str:
    if len(value) > _NAME_MAX:
        raise RowProblem(f"customer_name is longer than {_NAME_MAX} characters")
    return value


def _email(value: str) -> str:
    if value and (len(value) > 254 or not _EMAIL.match(value) or has_bidi_controls(value)):
        raise RowProblem("customer_email must be an email address such as name@example.com")
    return value


def _timezone(value: str) -> str:
    if not _known_zone(value):
        raise RowProblem("customer_timezone must be an IANA time zone such as Europe/Berlin")
    return value


@cache  # a file repeats a few zones and locales on every row: each is looked up once
def _known_zone(value: str) -> bool:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _locale(value: str) -> str:
    found = _known_locale(value[:40])
    if found is None:
        raise RowProblem("customer_locale must be a locale such as en-US or de-DE")
    return found


@cache
def _known_locale(value: str) -> str | None:
    from babel import Locale, UnknownLocaleError  # lazy: babel's locale data loads only when a locale is checked

    try:
        parsed = Locale.parse(value.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return None
    return str(parsed).replace("_", "-")


def _invoice(text: dict[str, str]) -> InvoiceFields:
    number = text["invoice_number"]
    if not _NUMBER.match(number):
        raise RowProblem(
            "invoice_number: letters, digits and . _ / - only, at most 64, starting with a letter or digit"
        )
    try:
        currency = normalise_currency(text["currency"])
    except UnknownCurrency:
        raise RowProblem("currency must be an ISO 4217 code such as USD") from None
    amount = _amount(text["amount"], text["amount_minor"], currency)
    try:
        check_chargeable(amount, currency, field="amount")
    except (InvalidAmount, UnknownCurrency) as error:
        raise RowProblem(f"amount: {error.message}") from None
    return InvoiceFields(
        number=number,
        currency=currency,
        amount_due=amount,
        due_date=_due_date(text["due_date"]),
        description=text["description"],
    )


def _amount(major: str, minor: str, currency: str) -> int:
    """Exactly one of `amount` (in the currency's major unit, as many decimals as it has at most) and
    `amount_minor` (an integer of its minor unit). Never a float."""
    if bool(major) == bool(minor):
        raise RowProblem("give exactly one of amount (e.g. 125.00) and amount_minor (e.g. 12500)")
    if minor:
        if not _MINOR.match(minor):
            raise RowProblem("amount_minor must be a whole number of the currency's minor unit, such as 12500")
        value = int(minor)
    else:
        exponent = minor_unit_exponent(currency)
        if not _DECIMAL.match(major):
            raise RowProblem("amount must be a number such as 125.00, with a point and no thousands separator")
        try:
            decimal = Decimal(major)
        except InvalidOperation:  # pragma: no cover - the pattern admits only what Decimal reads
            raise RowProblem("amount must be a number such as 125.00") from None
        scaled = decimal.scaleb(exponent)
        if scaled != scaled.to_integral_value():
            places = f"{exponent} decimal place(s)" if exponent else "no decimals"
            raise RowProblem(f"amount: {currency} takes {places}")
        value = int(scaled)
    if not 0 < value <= MAX_AMOUNT:
        raise RowProblem(f"amount must be more than 0 and at most {MAX_AMOUNT:,} minor units")
    return value


def _due_date(value: str) -> date:
    if not value:
        raise RowProblem("due_date is required for an invoice (YYYY-MM-DD)")
    try:
        parsed = date.fromisoformat(value) if _ISO_DATE.match(value) else None
    except ValueError:
        parsed = None
    if parsed is None:
        raise RowProblem("due_date must be a date such as 2027-01-31")
    if not EARLIEST_DATE <= parsed <= LATEST_DATE:
        raise RowProblem(f"due_date must be from {EARLIEST_DATE} to {LATEST_DATE}")
    return parsed


def _complete_customers(rows: list[ImportRow]) -> tuple[list[ImportRow], list[RowError]]:
    """Every row's customer as the file describes it: details given once (or the same each time) fill the
    rows that leave them blank; details that disagree between rows are errors. A customer with no details
    anywhere in the file must already be stored (checked when imported)."""
    errors: list[RowError] = []
    described: dict[str, CustomerFields] = {}
    for row in rows:
        fields = row.customer
        if not (fields.name or fields.email or fields.locale or fields.timezone):
            continue
        if not fields.name or not fields.email:
            errors.append(RowError(row.line, "give both customer_name and customer_email, or neither"))
            continue
        full = replace(fields, locale=fields.locale or "en-US", timezone=fields.timezone or "UTC")
        earlier = described.setdefault(full.external_id, full)
        if earlier != full:
            errors.append(RowError(row.line, f"customer {_shown(full.external_id)} is described differently above"))
    completed = []
    for row in rows:
        known = described.get(row.customer.external_id)
        completed.append(row if known is None else replace(row, customer=known))
    return completed, errors


def needs_stored_customer(row: ImportRow) -> bool:
    """The file names this customer without their details: they must be stored already."""
    return not row.customer.name


# ----- a job: its rows in chunks, worked on in the background


CHUNK_ROWS: Final = 250


class ImportStatus(StrEnum):
    CHECKING = "checking"  # an uploaded file: the worker is checking its rows; nothing is written yet
    INVALID = "invalid"  # the uploaded file did not pass the check: nothing was written
    QUEUED = "queued"  # no chunk finished yet
    RUNNING = "running"
    COMPLETED = "completed"


class RowOutcome(StrEnum):
    IMPORTED = "imported"  # this import created the row's invoice (or, for a customer row, the customer)
    SKIPPED = "skipped"  # it was stored already, identical
    REJECTED = "rejected"  # stored already and different, or its customer is missing


@dataclass(frozen=True, slots=True)
class RejectedRow:
    line: int
    reason: str


@dataclass(frozen=True, slots=True)
class ChunkResult:
    """What one chunk's rows came to; recorded once per chunk."""

    chunk: int
    imported: int = 0
    skipped: int = 0
    rejected: list[RejectedRow] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ImportJob:
    id: str
    file_format: FileFormat
    total_rows: int
    chunks: int
    created_at: datetime
    actor: str
    sha256: str  # of the file as sent: what the operator can compare a second upload with
    chunks_done: int = 0
    rows_imported: int = 0
    rows_skipped: int = 0
    rows_rejected: int = 0
    # An uploaded file (POST /v1/imports/uploads): where it is kept until the worker has checked it, whether that
    # is still to come, and, if the file did not pass, why and its rows' problems (the first MAX_ERRORS_REPORTED)
    upload_key: str = ""
    checking: bool = False
    problem: str = ""
    errors: tuple[RowError, ...] = ()

    @property
    def status(self) -> ImportStatus:
        if self.problem:
            return ImportStatus.INVALID
        if self.checking:
            return ImportStatus.CHECKING
        if self.chunks_done >= self.chunks:
            return ImportStatus.COMPLETED
        return ImportStatus.RUNNING if self.chunks_done else ImportStatus.QUEUED

    @property
    def rows_done(self) -> int:
        return self.rows_imported + self.rows_skipped + self.rows_rejected


def chunked(rows: list[ImportRow]) -> list[list[ImportRow]]:
    return [rows[start : start + CHUNK_ROWS] for start in range(0, len(rows), CHUNK_ROWS)]


def template_csv() -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows(TEMPLATE_ROWS)
    return out.getvalue()
