"""The console's Invoices and Customers pages: the operator API's lists (shared.services.lists) behind a plain
GET form, each page one call of the list service, behind the role policy.

The form's fields are the list's own filters, named as the operator API names them, so the list service's
messages ("give currency with status ...") speak the page's language. Empty fields are not filters (a GET
form sends every text field). A refused combination, a value that does not read, a parameter the page does
not take or a cursor from another list comes back as the page itself with the service's message (a 400),
never a 500. Pages go forward with the list's cursor (next only, and back to the first page: decision 71).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final
from urllib.parse import urlencode

from shared.clock import Clock
from shared.domain.console_roles import Action, allowed_actions, require
from shared.domain.console_session import ConsoleSession
from shared.domain.errors import DomainError
from shared.domain.invoices import InvoiceStatus
from shared.domain.money import normalise_currency
from shared.domain.records import Customer
from shared.domain.text import strip_bidi_controls
from shared.services import lists
from shared.services.lists import CustomerFilters, InvoiceFilters, InvoiceRow
from shared.services.ports import Ledger

PAGE_SIZE: Final = 50
CSV_PAGE: Final = 100  # the list service's largest page
CSV_MAX_ROWS: Final = 5_000  # one download: 50 Queries of 100 items at most, about 1.5 MB of CSV (Lambda: 6 MB)
STATUSES: Final = tuple(status.value for status in InvoiceStatus)
# The orders the lists index serves: its sort key (the due date; a customer's listing: when created), either way.
ORDERS: Final = {"due_asc": "Due date, oldest first", "due_desc": "Due date, newest first"}
FLAGS: Final = ("on_hold", "promised", "disputed")
TEXT_FIELDS: Final = ("overdue", "days_overdue_min", "customer_id", "currency", "number", "due_after", "due_before")
INVOICE_PARAMETERS: Final = frozenset({"status", *TEXT_FIELDS, *FLAGS, "order", "cursor", "format"})
CUSTOMER_PARAMETERS: Final = frozenset({"q", "email", "external_id", "cursor"})
DEFAULT_SEARCH: Final = {"overdue": ["true"]}  # the page with nothing asked: what is overdue, in every currency
DAYS_OVERDUE_MAX: Final = 36_500  # as the operator API allows
FIELD_MAX: Final = 254  # an email address; ids and numbers are shorter
CURSOR_MAX: Final = 1024  # as the operator API takes a cursor
_ID: Final = re.compile(r"[A-Za-z0-9_-]{1,128}")
INVOICE_COLUMNS: Final = (
    "id",
    "number",
    "customer_id",
    "status",
    "currency",
    "amount_due",
    "amount_paid",
    "amount_remaining",
    "due_date",
    "days_overdue",
    "hold",
    "promised_at",
    "open_disputes",
    "active_plan",
    "description",
    "created_at",
)  # fmt: skip  (the operator API's CSV columns, GET /v1/invoices)


class BadQuery(DomainError):
    """A list page's query the console cannot take: it is shown again with this message (a 400)."""

    code = "bad_query"


@dataclass(frozen=True, slots=True)
class InvoiceSearch:
    """The Invoices form as asked, shown again filled in (and carried to the next page and the CSV)."""

    statuses: tuple[str, ...] = ()
    text: Mapping[str, str] = field(default_factory=dict)  # TEXT_FIELDS as typed, stripped
    flags: frozenset[str] = frozenset()  # FLAGS asked as true
    refused_flags: tuple[str, ...] = ()  # FLAGS given another value (`on_hold=false`): the service says why not
    order: str = "due_asc"

    def query(self, **extra: str) -> str:
        """This search as a URL query (empty fields left out), with `extra` (a cursor, the CSV format)."""
        pairs: list[tuple[str, str]] = [("status", status) for status in self.statuses]
        pairs += [(name, value) for name, value in self.text.items() if value]
        pairs += [(name, "true") for name in FLAGS if name in self.flags]
        pairs += [(name, "false") for name in self.refused_flags]
        pairs += [("order", self.order), *extra.items()]
        return urlencode(pairs)


@dataclass(frozen=True, slots=True)
class InvoicesView:
    search: InvoiceSearch
    rows: list[InvoiceRow]
    notice: str | None  # why the list could not be shown as asked (the page is then a 400)
    next_query: str | None  # the next page's query, when there is one
    first_query: str | None  # back to the first page, when this is a later one
    csv_query: str
    statuses: tuple[str, ...] = STATUSES
    orders: Mapping[str, str] = field(default_factory=lambda: dict(ORDERS))
    actions: frozenset[Action] = frozenset()


@dataclass(frozen=True, slots=True)
class CsvExport:
    columns: Sequence[str]
    rows: list[dict[str, Any]]
    filename: str
    next_query: str | None  # more rows than one download holds: the query of the next one


def _single(params: Mapping[str, Sequence[str]], name: str) -> str:
    values = params.get(name) or []
    if len(values) > 1:
        raise BadQuery(f"{name} is given more than once", field=name)
    value = strip_bidi_controls(values[0]).strip() if values else ""
    if len(value) > (CURSOR_MAX if name == "cursor" else FIELD_MAX):
        raise BadQuery(f"{name} is too long", field=name)
    return value


def _unknown(params: Mapping[str, Sequence[str]], known: frozenset[str]) -> None:
    unknown = sorted(set(params) - known)
    if unknown:
        named = ", ".join(name[:40] for name in unknown[:5])
        raise BadQuery(f"this page does not take {named}", field=unknown[0][:40])


def read_invoice_search(params: Mapping[str, Sequence[str]]) -> InvoiceSearch:
    """The form as sent; BadQuery for a parameter the page does not take, or one given twice."""
    _unknown(params, INVOICE_PARAMETERS)
    statuses = tuple(dict.fromkeys(s.strip() for s in params.get("status") or [] if s.strip()))
    text = {name: _single(params, name) for name in TEXT_FIELDS}
    flags = {name: _single(params, name) for name in FLAGS}
    order = _single(params, "order") or "due_asc"
    return InvoiceSearch(
        statuses=statuses,
        text=text,
        flags=frozenset(name for name, value in flags.items() if value == "true"),
        refused_flags=tuple(name for name, value in flags.items() if value not in ("", "true")),
        order=order,
    )


def _day(search: InvoiceSearch, name: str) -> date | None:
    text = search.text.get(name, "")
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise BadQuery(f"{name.replace('_', ' ')} must be a date such as 2027-03-01", field=name) from None


def invoice_filters(search: InvoiceSearch) -> InvoiceFilters:
    """The list service's filters from the form; BadQuery for a value that does not read."""
    unknown = [status for status in search.statuses if status not in STATUSES]
    if unknown:
        raise BadQuery(f"unknown status {unknown[0][:40]!r}: choose from {', '.join(STATUSES)}", field="status")
    if search.order not in ORDERS:
        raise BadQuery(f"unknown order {search.order[:40]!r}: choose from {', '.join(ORDERS)}", field="order")
    text = search.text
    overdue = {"": None, "true": True, "false": False}.get(text.get("overdue", ""), "bad")
    if overdue == "bad":
        raise BadQuery("overdue is true, false or not given", field="overdue")
    days_min: int | None = None
    if text.get("days_overdue_min"):
        if not text["days_overdue_min"].isdigit() or not 1 <= int(text["days_overdue_min"]) <= DAYS_OVERDUE_MAX:
            raise BadQuery(
                f"days overdue at least is a whole number from 1 to {DAYS_OVERDUE_MAX}", field="days_overdue_min"
            )
        days_min = int(text["days_overdue_min"])
    customer_id = text.get("customer_id") or None
    if customer_id and not _ID.fullmatch(customer_id):
        raise BadQuery("a customer id has letters, digits, _ and - only", field="customer_id")
    try:
        currency = normalise_currency(text["currency"]) if text.get("currency") else None
    except DomainError as refused:
        raise BadQuery(refused.message, field="currency") from None
    flag: dict[str, bool | None] = {name: True if name in search.flags else None for name in FLAGS}
    for name in search.refused_flags:
        flag[name] = False  # the list service refuses it with its reason
    return InvoiceFilters(
        statuses=search.statuses,
        overdue=overdue if isinstance(overdue, bool) else None,
        days_overdue_min=days_min,
        customer_id=customer_id,
        currency=currency,
        due_after=_day(search, "due_after"),
        due_before=_day(search, "due_before"),
        number=text.get("number") or None,
        on_hold=flag["on_hold"],
        promised=flag["promised"],
        disputed=flag["disputed"],
    )


def invoices_page(
    ledger: Ledger, clock: Clock, session: ConsoleSession, params: Mapping[str, Sequence[str]]
) -> InvoicesView:
    """One page of the list the form asks for, or the form again with why it cannot be listed."""
    require(session.roles, Action.VIEW)
    actions = allowed_actions(session.roles)
    search = InvoiceSearch()
    params = params or DEFAULT_SEARCH
    try:
        search = read_invoice_search(params)
        cursor = _single(params, "cursor") or None
        filters = invoice_filters(search)
        page = lists.list_invoices(
            ledger, clock, filters, limit=PAGE_SIZE, cursor=cursor, newest_first=search.order == "due_desc"
        )
    except DomainError as refused:
        return InvoicesView(search, [], refused.message, None, None, search.query(format="csv"), actions=actions)
    rows = [row for row in page.items if isinstance(row, InvoiceRow)]
    return InvoicesView(
        search=search,
        rows=rows,
        notice=None,
        next_query=search.query(cursor=page.next_cursor) if page.next_cursor else None,
        first_query=search.query() if cursor else None,
        csv_query=search.query(format="csv"),
        actions=actions,
    )


def invoice_csv_row(row: InvoiceRow) -> dict[str, Any]:
    """An invoice as the operator API's CSV writes it (GET /v1/invoices?format=csv), column for column."""
    i = row.invoice
    return {
        "id": i.id,
        "number": i.number,
        "customer_id": i.customer_id,
        "status": i.status.value,
        "currency": i.currency,
        "amount_due": i.amount_due,
        "amount_paid": i.amount_paid,
        "amount_remaining": i.amount_remaining,
        "due_date": i.due_date,
        "days_overdue": row.days_overdue,
        "hold": {"reason": i.hold.reason, "until": i.hold.until.isoformat() if i.hold.until else None}
        if i.hold
        else None,
        "promised_at": i.promised_at,
        "open_disputes": sorted(i.open_disputes),
        "active_plan": i.active_plan,
        "description": i.description,
        "created_at": i.created_at,
    }


def invoices_csv(
    ledger: Ledger, clock: Clock, session: ConsoleSession, params: Mapping[str, Sequence[str]]
) -> CsvExport:
    """The rows of the form's list from its start (or a cursor a longer download handed out), up to
    CSV_MAX_ROWS; `next_query` says where the next download starts."""
    require(session.roles, Action.VIEW)
    search = read_invoice_search(params)
    filters = invoice_filters(search)
    cursor = _single(params, "cursor") or None
    rows: list[dict[str, Any]] = []
    while True:
        try:
            page = lists.list_invoices(
                ledger, clock, filters, limit=min(CSV_PAGE, CSV_MAX_ROWS - len(rows)), cursor=cursor,
                newest_first=search.order == "due_desc",
            )  # fmt: skip
        except DomainError as refused:  # not served, a bad cursor: the same 400 as the page's
            raise BadQuery(refused.message, field=refused.field) from None
        rows += [invoice_csv_row(row) for row in page.items if isinstance(row, InvoiceRow)]
        cursor = page.next_cursor
        if cursor is None or len(rows) >= CSV_MAX_ROWS:
            next_query = search.query(format="csv", cursor=cursor) if cursor else None
            return CsvExport(INVOICE_COLUMNS, rows, "invoices", next_query)


# ----- customers -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CustomersView:
    q: str
    email: str
    external_id: str
    rows: list[Customer]
    notice: str | None
    next_query: str | None
    first_query: str | None


def customers_page(ledger: Ledger, session: ConsoleSession, params: Mapping[str, Sequence[str]]) -> CustomersView:
    """Newest customers first; or those whose name or email starts with q; or the one with that email or id."""
    require(session.roles, Action.VIEW)
    asked = {"q": "", "email": "", "external_id": ""}
    try:
        _unknown(params, CUSTOMER_PARAMETERS)
        asked = {name: _single(params, name) for name in asked}
        cursor = _single(params, "cursor") or None
        filters = CustomerFilters(**{name: value or None for name, value in asked.items()})
        page = lists.list_customers(ledger, filters, limit=PAGE_SIZE, cursor=cursor)
    except DomainError as refused:
        return CustomersView(**asked, rows=[], notice=refused.message, next_query=None, first_query=None)
    search = [(name, value) for name, value in asked.items() if value]
    return CustomersView(
        **asked,
        rows=[c for c in page.items if isinstance(c, Customer)],
        notice=None,
        next_query=urlencode([*search, ("cursor", page.next_cursor)]) if page.next_cursor else None,
        first_query=urlencode(search) if cursor else None,
    )
