"""The operator's lists: invoices, payments, customers, each page read from one listing of the ledger.

A pure planner turns the filters asked into one listing (`plan_invoices`, `plan_payments`,
`plan_customers`): which partition answers them, over which key range. Each listing holds only the rows
it answers, in the order they are listed, so a page reads about one item per row returned. A combination
no listing answers is refused (`FiltersNotServed`, a 400 saying what to combine) instead of read and thrown
away. Rows are then checked against every filter exactly (`invoice_matches`): what a listing's key range
cannot say to the day (overdue in each customer's own time zone) is settled per row, and that drops at
most the invoices due on the day or two the world's time zones disagree about.

Served (README, "Lists and search", says the same):
- invoices: `number` (with anything: checked on that one); `customer_id` alone; `overdue`/`days_overdue_min`
  or `status=open&status=partially_paid` in every currency (with no `currency`); `currency` with one of
  `status` (one, or open and partially_paid together), `overdue`/`days_overdue_min` (with no status or an
  owed one), `on_hold=true`, `promised=true`, `disputed=true`; and with any of those `due_after`/`due_before`.
- payments: `since` [`until`] alone, or with one of `status`, `currency`, `method`; `customer_id` [`since`]
  [`until`].
- customers: none (newest first), `email`, `external_id` or `q`, one at a time.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any, Final

from shared.clock import Clock
from shared.domain.errors import DomainError, InvalidDate
from shared.domain.invoices import Invoice, InvoiceStatus
from shared.domain.local_time import local_date
from shared.domain.records import Customer, Payment
from shared.domain.text import search_text
from shared.services.ports import CustomerListing, InvalidCursor, InvoiceListing, Ledger, Page, PaymentListing

OWED_STATUSES: Final = frozenset({InvoiceStatus.OPEN.value, InvoiceStatus.PARTIALLY_PAID.value})
# The earliest and the latest calendar day anywhere on Earth at one instant (UTC-12 .. UTC+14).
_WESTMOST: Final = timezone(timedelta(hours=-12))
_EASTMOST: Final = timezone(timedelta(hours=14))
EARLIEST, LATEST = 2000, 2099  # the years a date or moment asked for may be in (as the API's dates)
MAX_PAYMENT_WINDOW: Final = timedelta(days=3 * 366)  # a payments page walks the months of its window
PAYMENT_STATES: Final = ("pending", "failed", "succeeded", "partially_refunded", "refunded", "reversed")
# Before any payment payportal holds: the start of a customer's payments when `since` is not given.
_BEGINNING: Final = datetime(2000, 1, 1, tzinfo=UTC)


class FiltersNotServed(DomainError):
    """A combination of filters no listing answers without reading rows only to throw them away."""

    code = "filters_not_served"


class InvalidFilter(DomainError):
    """Filters that contradict each other, or a value out of range."""

    code = "validation_error"


# ----- invoices ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InvoiceFilters:
    statuses: tuple[str, ...] = ()
    overdue: bool | None = None
    days_overdue_min: int | None = None
    customer_id: str | None = None
    currency: str | None = None
    due_after: date | None = None  # strictly after
    due_before: date | None = None  # strictly before
    number: str | None = None
    on_hold: bool | None = None
    promised: bool | None = None
    disputed: bool | None = None

    def given(self) -> set[str]:
        return {f.name for f in fields(self) if getattr(self, f.name) not in (None, ())}


@dataclass(frozen=True, slots=True)
class InvoiceRow:
    invoice: Invoice
    days_overdue: int


def _owed(currency: str, f: InvoiceFilters, now: datetime) -> InvoiceListing:
    """The owed list of `currency` ("": every one), over the due range the filters ask for."""
    due_from = f.due_after + timedelta(days=1) if f.due_after else None
    due_until = f.due_before
    if f.overdue or f.days_overdue_min is not None:
        latest_due = now.astimezone(_EASTMOST).date() - timedelta(days=max(1, f.days_overdue_min or 1))
        due_until = _earlier(due_until, latest_due + timedelta(days=1))
    return InvoiceListing("owed", currency, due_from=due_from, due_until=due_until)


_FLAGS: Final = {"on_hold": "held", "promised": "promised", "disputed": "disputed"}
_GIVE: Final = (
    "give overdue or days_overdue_min; or currency with status, overdue, on_hold, promised or disputed;"
    " or customer_id; or number"
)


def days_overdue(invoice: Invoice, now: datetime) -> int:
    """Whole days past the due date in the customer's time zone, while something is owed; else 0."""
    if invoice.status.value not in OWED_STATUSES or invoice.amount_remaining <= 0:
        return 0
    return max(0, (local_date(now, invoice.customer_timezone) - invoice.due_date).days)


def plan_invoices(f: InvoiceFilters, now: datetime) -> InvoiceListing:
    """The one listing that answers these filters (its rows still pass `invoice_matches`)."""
    for name in ("due_after", "due_before"):
        day = getattr(f, name)
        if day is not None and not EARLIEST <= day.year <= LATEST:
            raise InvalidFilter(f"{name} is a day from {EARLIEST} to {LATEST}", field=name)
    given = f.given()
    if f.number:
        return InvoiceListing("number", number=f.number)
    if f.customer_id:
        if given != {"customer_id"}:
            raise FiltersNotServed(
                "customer_id lists all of one customer's invoices: give it with limit and cursor only"
            )
        return InvoiceListing("customer", customer_id=f.customer_id)
    if f.overdue is False and f.days_overdue_min is not None:
        raise InvalidFilter("days_overdue_min asks for overdue invoices, overdue=false for the others", field="overdue")
    flags = [name for name in _FLAGS if name in given]
    owed_asked = f.overdue or f.days_overdue_min is not None or set(f.statuses) == OWED_STATUSES
    if not f.currency and not flags and owed_asked:
        if not set(f.statuses) <= OWED_STATUSES or len(f.statuses) == 1:
            raise FiltersNotServed(
                "across currencies only owed invoices list: give overdue with no status or open and partially_paid"
                " together, or a currency"
            )
        return _owed("", f, now)
    if any(getattr(f, name) is False for name in flags):
        raise FiltersNotServed(
            f"{flags[0]} lists the invoices for which it is true: give {flags[0]}=true, or list by status"
        )
    if not f.currency:
        raise FiltersNotServed(_GIVE)
    due_from = f.due_after + timedelta(days=1) if f.due_after else None
    due_until = f.due_before
    statuses = set(f.statuses)
    if flags:
        if len(flags) > 1 or given & {"statuses", "overdue", "days_overdue_min"}:
            raise FiltersNotServed(
                "on_hold, promised and disputed each list on their own: "
                "give one of them with currency, due_after, due_before"
            )
        return InvoiceListing(_FLAGS[flags[0]], currency=f.currency, due_from=due_from, due_until=due_until)
    if f.overdue or f.days_overdue_min is not None:
        if not statuses <= OWED_STATUSES:
            raise FiltersNotServed(
                "overdue invoices are open or partially paid: give no status, or one or both of those"
            )
        least = max(1, f.days_overdue_min or 1)
        # Due on or before the latest day anywhere less `least` days: the rows checked to the day after.
        latest_due = now.astimezone(_EASTMOST).date() - timedelta(days=least)
        due_until = _earlier(due_until, latest_due + timedelta(days=1))
        if len(statuses) == 1:
            return InvoiceListing("status", f.currency, statuses.pop(), due_from=due_from, due_until=due_until)
        return InvoiceListing("owed", f.currency, due_from=due_from, due_until=due_until)
    if f.overdue is False:
        if len(statuses) != 1:
            raise FiltersNotServed("overdue=false lists one status: give currency and one status")
        status = statuses.pop()
        if status in OWED_STATUSES:  # not yet due anywhere's today, checked per row after
            due_from = _later(due_from, now.astimezone(_WESTMOST).date())
        return InvoiceListing("status", f.currency, status, due_from=due_from, due_until=due_until)
    if statuses == OWED_STATUSES:
        return InvoiceListing("owed", f.currency, due_from=due_from, due_until=due_until)
    if len(statuses) == 1:
        return InvoiceListing("status", f.currency, statuses.pop(), due_from=due_from, due_until=due_until)
    if statuses:
        raise FiltersNotServed("give one status, or open and partially_paid together")
    raise FiltersNotServed(_GIVE)


def invoice_matches(f: InvoiceFilters, invoice: Invoice, now: datetime) -> bool:
    """Whether the invoice passes every filter, exactly."""
    overdue_days = days_overdue(invoice, now)
    checks = (
        not f.statuses or invoice.status.value in f.statuses,
        f.overdue is None or (overdue_days > 0) == f.overdue,
        f.days_overdue_min is None or overdue_days >= max(1, f.days_overdue_min),
        f.customer_id is None or invoice.customer_id == f.customer_id,
        f.currency is None or invoice.currency == f.currency,
        f.due_after is None or invoice.due_date > f.due_after,
        f.due_before is None or invoice.due_date < f.due_before,
        f.number is None or invoice.number == f.number,
        f.on_hold is None or (invoice.hold is not None and invoice.hold.active_at(now)) == f.on_hold,
        f.promised is None or (invoice.promised_at is not None) == f.promised,
        f.disputed is None or bool(invoice.open_disputes) == f.disputed,
    )
    return all(checks)


def list_invoices(
    ledger: Ledger, clock: Clock, f: InvoiceFilters, *, limit: int, cursor: str | None, newest_first: bool = False
) -> Page:
    """One page of InvoiceRows, oldest due first (a customer's: oldest created first); `newest_first` reads
    the same listing backwards. A cursor is bound to the filters and the order it was handed out for."""
    now = clock.now()
    asked = f"{f!r} newest_first" if newest_first else repr(f)
    listing = replace(plan_invoices(f, now), asked=asked, newest_first=newest_first)
    page = ledger.list_invoices(listing, limit, cursor)
    rows = [InvoiceRow(i, days_overdue(i, now)) for i in page.items if invoice_matches(f, i, now)]
    return Page(items=rows, next_cursor=page.next_cursor)


# ----- payments ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PaymentFilters:
    since: datetime | None = None
    until: datetime | None = None  # exclusive
    status: str | None = None
    method: str | None = None
    customer_id: str | None = None
    currency: str | None = None


def payment_method(payment: Payment) -> str:
    """How it was paid: through Stripe, or the offline method the operator recorded."""
    return payment.method


def plan_payments(f: PaymentFilters, now: datetime) -> PaymentListing:
    """The listing of the window asked: every payment, one state's, one currency's, or one customer's."""
    for name in ("since", "until"):
        moment = getattr(f, name)
        if moment is not None and not EARLIEST <= moment.year <= LATEST:  # the year as written: no arithmetic yet
            raise InvalidFilter(f"{name} is a moment from {EARLIEST} to {LATEST}", field=name)
    subsets = [name for name in ("status", "currency", "method", "customer_id") if getattr(f, name)]
    if len(subsets) > 1:
        raise FiltersNotServed(f"give one of status, currency, method, customer_id (not {' and '.join(subsets)})")
    until = f.until or now
    if f.customer_id:
        since = f.since or _BEGINNING
    elif f.since is None:
        raise FiltersNotServed("give since (and until, status), or customer_id")
    else:
        since = f.since
        if until - since > MAX_PAYMENT_WINDOW:
            raise InvalidFilter("since and until are at most three years apart", field="since")
    if since >= until:
        raise InvalidDate("since must be before until", field="since")
    return PaymentListing(
        since=since,
        until=until,
        state=f.status or "",
        customer_id=f.customer_id or "",
        currency=f.currency or "",
        method=f.method or "",
    )


def list_payments(ledger: Ledger, clock: Clock, f: PaymentFilters, *, limit: int, cursor: str | None) -> Page:
    """One page of Payments received in the window, newest first."""
    return ledger.list_payments(replace(plan_payments(f, clock.now()), asked=repr(f)), limit, cursor)


# ----- customers ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CustomerFilters:
    email: str | None = None
    external_id: str | None = None
    q: str | None = None


def plan_customers(f: CustomerFilters) -> CustomerListing | None:
    """The listing, or None for the lookup by external_id."""
    given = [name for name in ("email", "external_id", "q") if getattr(f, name) is not None]
    if len(given) > 1:
        raise FiltersNotServed(f"give one of email, external_id, q (not {' and '.join(given)})")
    if f.external_id is not None:
        return None
    if f.email is not None:
        return CustomerListing("email", search_text(f.email))
    if f.q is not None:
        prefix = search_text(f.q)
        if not prefix:
            raise InvalidFilter("q is blank", field="q")
        return CustomerListing("prefix", prefix)
    return CustomerListing("all")


def _kept(listing: CustomerListing, listed_under: str, customer: Customer) -> bool:
    if listing.by == "email":  # the email's entry, not a name spelt as that email
        return listed_under == "email" and search_text(customer.email) == listing.prefix
    if listing.by == "prefix" and listed_under == "email":  # a customer whose name matches too is met there
        return not search_text(customer.name).startswith(listing.prefix)
    return True


def list_customers(ledger: Ledger, f: CustomerFilters, *, limit: int, cursor: str | None) -> Page:
    """One page of Customers: each at most once in a listing, however many pages it spans."""
    listing = plan_customers(f)
    if listing is None:
        if cursor:
            raise InvalidCursor("the cursor is not valid for this listing", field="cursor")
        found = ledger.customer_by_external_id(f.external_id or "")
        return Page(items=[found] if found else [], next_cursor=None)
    page = ledger.list_customers(listing, limit, cursor)
    pairs: list[Any] = page.items
    return Page(items=[c for under, c in pairs if _kept(listing, under, c)], next_cursor=page.next_cursor)


def _earlier(a: date | None, b: date) -> date:
    return b if a is None else min(a, b)


def _later(a: date | None, b: date) -> date:
    return b if a is None else max(a, b)
