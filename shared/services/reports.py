"""The aging report and the collections KPIs, read from the running aggregates (services.aggregates) and the
daily snapshots the balances run keeps: a few hundred counter items per currency, never the invoices.
docs/reports.md defines each figure."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Final, TypeVar

from shared.clock import Clock
from shared.domain.errors import DomainError
from shared.services.aggregates import (
    CURRENCIES_SCOPE,
    FLOW_FIELDS,
    day_bucket,
    flows_scope,
    month_bucket,
    moves_scope,
    owed_days_scope,
    owed_scope,
)
from shared.services.ports import Ledger

AGING_BUCKETS: Final = ("current", "days_1_30", "days_31_60", "days_61_90", "days_91_plus")
AGING_SNAPSHOT: Final = "aging"
SNAPSHOT_KEPT: Final = timedelta(days=410)  # at least 400 days of history, as the issue asks
WINDOW_DAYS: Final = 90  # due dates 1 to 90 days past: read per day; the rest per month
MAX_RANGE_DAYS: Final = 400
COUNTBACK_MONTHS: Final = 24  # how far DSO's countback looks back before giving up (it then says so)
SNAPSHOT_TRIES: Final = 5
PARALLEL_CURRENCIES: Final = 8
T = TypeVar("T")


class ReportUnavailable(DomainError):
    """The report cannot be answered for that date: no snapshot was kept of it."""

    code = "report_unavailable"


class InvalidReportRange(DomainError):
    """Dates that make no report: in the future, from after to, a range too long."""

    code = "invalid_range"


class CountersNotReady(DomainError):
    """The table holds invoices from before the running aggregates, not all counted yet: the reports would be
    wrong until `payportal reports backfill` has run (docs/deploy.md)."""

    code = "counters_not_ready"


def require_counters_ready(ledger: Ledger) -> date:
    """The first day the counters hold every invoice; raises CountersNotReady before the backfill's marker."""
    since = ledger.counters_ready()
    if since is None:
        raise CountersNotReady(
            "the running aggregates do not hold the invoices written before them yet: run"
            " `payportal reports backfill` (docs/deploy.md)"
        )
    return since


class SnapshotRaced(Exception):
    """Changes kept landing while a snapshot was read; the next run tries again."""


@dataclass(frozen=True, slots=True)
class AgingLine:
    currency: str
    current: int = 0
    days_1_30: int = 0
    days_31_60: int = 0
    days_61_90: int = 0
    days_91_plus: int = 0

    @property
    def total(self) -> int:
        return self.current + self.days_1_30 + self.days_31_60 + self.days_61_90 + self.days_91_plus

    def as_counts(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in AGING_BUCKETS}


@dataclass(frozen=True, slots=True)
class CustomerAging:
    customer_id: str
    lines: list[AgingLine]


@dataclass(frozen=True, slots=True)
class AgingReport:
    as_of: date
    currencies: list[AgingLine]
    customers: list[CustomerAging] | None = None
    source: str = "aggregates"  # aggregates (today), snapshot (a past day)


def aging_bucket(as_of: date, due: date) -> str:
    """The bucket of an amount due on `due`, as of `as_of` (days past due; not yet due is current)."""
    late = (as_of - due).days
    if late <= 0:
        return "current"
    if late <= 30:
        return "days_1_30"
    if late <= 60:
        return "days_31_60"
    if late <= 90:
        return "days_61_90"
    return "days_91_plus"


def currencies(ledger: Ledger) -> list[str]:
    """Every currency an invoice was ever made in (one counter item each)."""
    return sorted(ledger.read_tallies(CURRENCIES_SCOPE, between=("", "~")))


def day_flows(ledger: Ledger, currency: str, day: date) -> dict[str, int]:
    """One day's flows in one currency (aggregates.FLOW_FIELDS, absent ones 0): one counter item."""
    found = ledger.read_tallies(flows_scope(currency), buckets=[day_bucket(day)]).get(day_bucket(day), {})
    return {name: found.get(name, 0) for name in FLOW_FIELDS}


# ----- aging -------------------------------------------------------------------------------------------------


def _owed_state(ledger: Ledger, currency: str, as_of: date) -> tuple[dict[str, int], dict[str, int]]:
    """(owed per due day in the window before `as_of`, owed per due month), live."""
    first, last = as_of - timedelta(days=WINDOW_DAYS), as_of - timedelta(days=1)
    days: dict[str, dict[str, int]] = {}
    for year in range(first.year, last.year + 1):
        days |= ledger.read_tallies(owed_days_scope(currency, year), between=(day_bucket(first), day_bucket(last)))
    months = ledger.read_tallies(owed_scope(currency), between=("M#", "M#~"))
    return (
        {bucket[2:]: counts.get("amount", 0) for bucket, counts in days.items()},
        {bucket[2:]: counts.get("amount", 0) for bucket, counts in months.items()},
    )


def _aged(currency: str, as_of: date, days: dict[str, int], months: dict[str, int]) -> AgingLine:
    """Buckets from owed per due day (the window) and per due month (the rest): a month partly in the window
    has the rest of its amount on one side of it only (a month is shorter than the window)."""
    totals = dict.fromkeys(AGING_BUCKETS, 0)
    for day, amount in days.items():
        totals[aging_bucket(as_of, date.fromisoformat(day))] += amount
    window_first = as_of - timedelta(days=WINDOW_DAYS)
    for month, amount in months.items():
        month_first = date.fromisoformat(f"{month}-01")
        in_window = sum(a for d, a in days.items() if d.startswith(month))
        rest = amount - in_window
        totals["days_91_plus" if month_first < window_first else "current"] += rest
    return AgingLine(currency, **totals)


def _per_currency(codes: list[str], line: Callable[[str], T]) -> list[T]:
    """One line per currency, in order; the currencies' reads run side by side (each is a few Queries
    of its own partitions, so a report waits for about one currency's, not all of them)."""
    if len(codes) <= 1:
        return [line(code) for code in codes]
    with ThreadPoolExecutor(max_workers=min(len(codes), PARALLEL_CURRENCIES)) as pool:
        return list(pool.map(line, codes))


# The most open invoices the aging per customer reads (an item of about 80 bytes each: under 2 MB read, in
# about 40 Query pages; the reply, a line per customer and currency, stays under 6 MB).
MAX_GROUPED_INVOICES: Final = 20_000


@dataclass(frozen=True, slots=True)
class LiveOwed:
    """What one currency's invoices owe now, as of a day: in all, the part not past due by the end of `as_of`,
    and per due day over the WINDOW_DAYS before it."""

    total: int
    current: int
    due_on: dict[date, int]


def live_line(ledger: Ledger, code: str, as_of: date) -> LiveOwed:
    days, months = _owed_state(ledger, code, as_of)
    line = _aged(code, as_of, days, months)
    return LiveOwed(line.total, line.current, {date.fromisoformat(day): amount for day, amount in days.items()})


def live_aging(ledger: Ledger, today: date, currency: str | None = None) -> list[AgingLine]:
    def line(code: str) -> AgingLine:
        days, months = _owed_state(ledger, code, today)
        return _aged(code, today, days, months)

    lines = _per_currency([currency] if currency else currencies(ledger), line)
    return [line for line in lines if currency or line.total]


def aging_report(
    ledger: Ledger, clock: Clock, as_of: date, *, currency: str | None = None, by_customer: bool = False
) -> AgingReport:
    """What was still owed at the end of `as_of`, per currency (and per customer, as of today only)."""
    require_counters_ready(ledger)
    today = clock.now().astimezone(UTC).date()
    if as_of > today:
        raise InvalidReportRange("as_of is in the future", field="as_of")
    if as_of == today:
        lines = live_aging(ledger, today, currency)
        customers = _by_customer(ledger, today, currency) if by_customer else None
        return AgingReport(today, lines, customers)
    if by_customer:
        raise ReportUnavailable("group_by=customer is answered as of today only", field="group_by")
    kept = ledger.get_snapshot(AGING_SNAPSHOT, as_of)
    if kept is None:
        raise ReportUnavailable(f"no snapshot of receivables was kept for {as_of.isoformat()}", field="as_of")
    lines = [AgingLine(code, **counts) for code, counts in sorted(kept.items()) if currency in (None, code)]
    if currency and not lines:
        lines = [AgingLine(currency)]
    return AgingReport(as_of, [line for line in lines if currency or line.total], source="snapshot")


def _by_customer(ledger: Ledger, today: date, currency: str | None) -> list[CustomerAging]:
    """From the open_balances index: one small item per open invoice (customer, currency, due date, amount),
    at most MAX_GROUPED_INVOICES of them (a bounded read and a reply well inside Lambda's 6 MB)."""
    per: dict[tuple[str, str], dict[str, int]] = {}
    for read, (customer_id, code, due, amount) in enumerate(ledger.open_invoice_balances(), start=1):
        if read > MAX_GROUPED_INVOICES:
            raise ReportUnavailable(
                f"more than {MAX_GROUPED_INVOICES} invoices are open: group_by=customer answers up to that many;"
                " the per-currency aging answers any number, and the table's export any question (docs/reports.md)",
                field="group_by",
            )
        if currency and code != currency:
            continue
        totals = per.setdefault((customer_id, code), dict.fromkeys(AGING_BUCKETS, 0))
        totals[aging_bucket(today, due)] += amount
    grouped: dict[str, list[AgingLine]] = {}
    for (customer_id, code), totals in sorted(per.items()):
        grouped.setdefault(customer_id, []).append(AgingLine(code, **totals))
    return [CustomerAging(customer_id, lines) for customer_id, lines in grouped.items()]


# ----- daily snapshots (functions/balances) --------------------------------------------------------------------


def _next_month(month: date) -> date:
    return (month.replace(day=1) + timedelta(days=32)).replace(day=1)


def _moves_after(ledger: Ledger, currency: str, after: date, today: date) -> dict[str, int]:
    """Owed moved per due day by every change of the days after `after`: up to today, and past it. A run that
    started before midnight reads the live counters after it, with the moves of the new day (maybe of a new
    month) in them: leaving those out would put them in the snapshot of the day before. So each month's
    partition is read to its end, through the month after today's (no run lasts a month)."""
    moved: dict[str, int] = {}
    since = (after + timedelta(days=1)).isoformat()
    month = (after + timedelta(days=1)).replace(day=1)
    last = _next_month(today)
    while month <= last:
        span = (since, "~")
        for bucket, counts in ledger.read_tallies(moves_scope(currency, month), between=span).items():
            due = bucket.split("#", 1)[1]
            moved[due] = moved.get(due, 0) + counts.get("amount", 0)
        month = _next_month(month)
    return moved


def aging_as_of_end_of(ledger: Ledger, day: date, today: date) -> dict[str, dict[str, int]]:
    """The aging at the end of `day` (before `today`, the day the run started), to the cent: what is owed now,
    less what every change since moved (owedmoves#, even those of a day after `today`, once a run crosses
    midnight). Read between two reads of those moves: if a change landed meanwhile, read again."""
    result: dict[str, dict[str, int]] = {}
    for code in currencies(ledger):
        for _ in range(SNAPSHOT_TRIES):
            before = _moves_after(ledger, code, day, today)
            days, months = _owed_state(ledger, code, day)
            if _moves_after(ledger, code, day, today) == before:
                break
        else:
            raise SnapshotRaced(f"{code}: changes kept landing while the snapshot was read")
        window_first = (day - timedelta(days=WINDOW_DAYS)).isoformat()
        for due, amount in before.items():
            if window_first <= due < day.isoformat():
                days[due] = days.get(due, 0) - amount
            months[due[:7]] = months.get(due[:7], 0) - amount
        line = _aged(code, day, days, months)
        if line.total:
            result[code] = line.as_counts()
    return result


def keep_daily_snapshots(ledger: Ledger, clock: Clock, *, days_back: int = 3) -> list[date]:
    """Keep the aging at the end of each of the last `days_back` days that has none yet (every run looks back
    a few days, so a missed run leaves no hole), none of a day before the counters held every invoice (what
    the backfill counted moved the counters on its own day). Returns the days written."""
    now = clock.now().astimezone(UTC)
    today = now.date()
    since = ledger.counters_ready()
    written: list[date] = []
    if since is None:
        return written
    for back in range(days_back, 0, -1):
        day = today - timedelta(days=back)
        if day < since or ledger.get_snapshot(AGING_SNAPSHOT, day) is not None:
            continue
        data = aging_as_of_end_of(ledger, day, today)
        keep_until = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + SNAPSHOT_KEPT
        ledger.save_snapshot(AGING_SNAPSHOT, day, data, keep_until)
        written.append(day)
    return written


# ----- collections KPIs ----------------------------------------------------------------------------------------


@dataclass(slots=True)
class CollectionsLine:
    currency: str
    inputs: dict[str, int] = field(default_factory=dict)  # minor units and counts the figures come from
    figures: dict[str, float | None] = field(default_factory=dict)  # None: nothing to measure it on
    dso_capped: bool = False  # the countback ran out of history before the receivables were accounted for


@dataclass(frozen=True, slots=True)
class CollectionsReport:
    start: date
    end: date
    currencies: list[CollectionsLine]


def _receivables(ledger: Ledger, today: date, day: date, code: str, name: str) -> AgingLine:
    """Receivables at the end of `day`: live for today, else from the day's snapshot."""
    if day == today:
        days, months = _owed_state(ledger, code, today)
        return _aged(code, today, days, months)
    kept = ledger.get_snapshot(AGING_SNAPSHOT, day)
    if kept is None:
        raise ReportUnavailable(f"no snapshot of receivables was kept for {day.isoformat()}", field=name)
    return AgingLine(code, **kept.get(code, {}))


def _ratio(part: int, whole: int, digits: int = 4) -> float | None:
    return round(part / whole, digits) if whole else None


def _countback(receivables: int, end: date, daily: dict[str, int], monthly: dict[str, int]) -> tuple[float, bool]:
    """DSO by the countback method: walk back from `end`, day by day to the start of its month, then month by
    month, taking each period's invoicing off the receivables, until they are accounted for."""
    left, days = receivables, 0.0
    if left <= 0:
        return 0.0, False
    for number in range(end.day, 0, -1):
        billed = daily.get(end.replace(day=number).isoformat(), 0)
        if billed > 0 and billed >= left:
            return days + left / billed, False
        left -= max(billed, 0)
        days += 1
    month_end = end.replace(day=1) - timedelta(days=1)
    for _ in range(COUNTBACK_MONTHS):
        length = month_end.day
        billed = monthly.get(month_end.strftime("%Y-%m"), 0)
        if billed > 0 and billed >= left:
            return days + length * left / billed, False
        left -= max(billed, 0)
        days += length
        month_end = month_end.replace(day=1) - timedelta(days=1)
    return days, True


def collections_report(
    ledger: Ledger, clock: Clock, start: date, end: date, *, currency: str | None = None
) -> CollectionsReport:
    require_counters_ready(ledger)
    today = clock.now().astimezone(UTC).date()
    if end > today:
        raise InvalidReportRange("to is in the future", field="to")
    if start > end:
        raise InvalidReportRange("from is after to", field="from")
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        raise InvalidReportRange(f"a range of at most {MAX_RANGE_DAYS} days", field="to")
    codes = [currency] if currency else currencies(ledger)
    return CollectionsReport(
        start, end, _per_currency(codes, lambda code: _collections_line(ledger, today, start, end, code))
    )


def _collections_line(ledger: Ledger, today: date, start: date, end: date, code: str) -> CollectionsLine:
    scope = flows_scope(code)
    first_day = min(start, end.replace(day=1))  # the period, and the month countback walks through by day
    daily_counts = ledger.read_tallies(scope, between=(day_bucket(first_day), day_bucket(end)))
    daily = {bucket[2:]: counts for bucket, counts in daily_counts.items()}
    earliest = end.replace(day=1) - timedelta(days=31 * COUNTBACK_MONTHS)
    monthly_counts = ledger.read_tallies(scope, between=(month_bucket(earliest), month_bucket(end)))
    monthly_billed = {bucket[2:]: counts.get("invoiced", 0) for bucket, counts in monthly_counts.items()}
    period = {name: 0 for name in FLOW_FIELDS}
    for day, counts in daily.items():
        if start.isoformat() <= day <= end.isoformat():
            for name in FLOW_FIELDS:
                period[name] += counts.get(name, 0)
    opening = _receivables(ledger, today, start - timedelta(days=1), code, "from")
    closing = _receivables(ledger, today, end, code, "to")
    days = (end - start).days + 1
    invoiced, collected = period["invoiced"], period["collected"] - period["refunded"]
    dso, capped = _countback(closing.total, end, {d: c.get("invoiced", 0) for d, c in daily.items()}, monthly_billed)
    best = round(closing.current / invoiced * days, 1) if invoiced else None
    cei_whole = opening.total + invoiced - closing.current
    line = CollectionsLine(code, dso_capped=capped)
    line.inputs = {
        "receivables_start": opening.total,
        "receivables_end": closing.total,
        "receivables_end_current": closing.current,
        "days": days,
        **period,
    }
    line.figures = {
        "dso": round(dso, 1),
        "best_possible_dso": best,
        "average_days_delinquent": round(dso - best, 1) if best is not None else None,
        "collection_effectiveness_index": _percent(opening.total + invoiced - closing.total, cei_whole),
        "collection_rate": _ratio(collected, opening.total + invoiced),
        "average_days_to_pay": round(period["days_to_pay"] / period["invoices_paid"], 1)
        if period["invoices_paid"]
        else None,
        "paid_on_time_share": _ratio(period["paid_on_time"], period["invoices_paid"]),
        "promises_kept_share": _ratio(period["promises_kept"], period["promises_due"]),
        "offsession_first_attempt_failure_rate": _ratio(
            period["offsession_first_failed"], period["offsession_first_attempts"]
        ),
        "offsession_recovery_rate": _ratio(period["offsession_recovered"], period["offsession_first_failed"]),
    }
    return line


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None
