"""The console's Reports page: the aging, the collections KPIs month by month, and what reminders achieved, each
from the operator API's own report services (shared.services.reports, reminder_report), drawn as SVG on the
server (shared.charts), with the same figures as a table and a CSV.

Amounts stay integers in minor units; the text shown (and the chart's labels) is formatted from them exactly
(shared.rendering.format_money). The KPI trend is one collections report per month, each reading its own
month's counters (and the monthly counters DSO's countback walks); the page prints how many items the twelve
read (decision 74).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, timedelta
from typing import Any, Final, cast

from shared.charts import Bar, Column, Group, bar_chart, column_chart
from shared.clock import Clock
from shared.domain.console_roles import Action, require
from shared.domain.console_session import ConsoleSession
from shared.domain.errors import DomainError
from shared.domain.money import normalise_currency
from shared.rendering import format_money
from shared.services import reminder_report, reports
from shared.services.console_lists import BadQuery, CsvExport
from shared.services.ports import Ledger
from shared.services.reminder_report import ReminderFigures
from shared.services.reports import AGING_BUCKETS, AgingLine, CollectionsLine, CountersNotReady

STAFF_LOCALE: Final = "en"
TREND_MONTHS: Final = 12
REMINDER_DAYS: Final = 30  # the attribution's default range: the last 30 days
PARAMETERS: Final = frozenset({"as_of", "currency", "from", "to", "format", "report"})
REPORTS: Final = ("aging", "collections", "reminders")
BUCKET_LABELS: Final = {
    "current": "Not yet due",
    "days_1_30": "1-30 days",
    "days_31_60": "31-60 days",
    "days_61_90": "61-90 days",
    "days_91_plus": "91+ days",
}
AGING_COLUMNS: Final = ("currency", *AGING_BUCKETS, "total")  # as GET /v1/reports/aging?format=csv
# The KPIs charted, in the collections report's names: (label, unit). "share": 0 to 1, shown as a percent.
KPIS: Final = {
    "dso": ("DSO (countback)", "days"),
    "best_possible_dso": ("Best possible DSO", "days"),
    "average_days_delinquent": ("Average days delinquent", "days"),
    "collection_effectiveness_index": ("Collection effectiveness index", "percent"),
    "collection_rate": ("Collection rate", "share"),
    "average_days_to_pay": ("Average days to pay", "days"),
    "paid_on_time_share": ("Paid on time", "share"),
    "promises_kept_share": ("Promises kept", "share"),
    "offsession_first_attempt_failure_rate": ("Off-session first attempts failed", "share"),
    "offsession_recovery_rate": ("Off-session failures recovered", "share"),
}
COLLECTIONS_COLUMNS: Final = ("month", "from", "to", "currency", *KPIS, "dso_capped")
COUNTERS_NOT_READY: Final = (
    "Reports are not ready yet: the counters do not hold the invoices written before them. An operator runs"
    " `payportal reports backfill` once (docs/deploy.md); until then no aging or KPI can be shown."
)
REMINDER_COLUMNS: Final = ("step", "template", "sent", "opened", "currency", "payments", "amount", "invoices_paid")


def kpi_text(name: str, value: float | None) -> str:
    if value is None:
        return "n/a"
    unit = KPIS[name][1]
    if unit == "share":
        return f"{value * 100:.1f}%"
    if unit == "percent":
        return f"{value:.1f}%"
    return f"{value:.1f}"


def money(amount: int, currency: str) -> str:
    return format_money(amount, currency, STAFF_LOCALE)


class _CountedReads:
    """The ledger, counting the items the reports' reads return (their Queries filter nothing: what a Query
    returns is what it read; a GetItem that finds nothing reads nothing)."""

    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger
        self._lock = threading.Lock()  # the aging reads its currencies side by side
        self.items = 0

    def _count(self, n: int) -> None:
        with self._lock:
            self.items += n

    def read_tallies(
        self, scope: str, *, buckets: list[str] | None = None, between: tuple[str, str] | None = None
    ) -> dict[str, dict[str, int]]:
        found = self._ledger.read_tallies(scope, buckets=buckets, between=between)
        self._count(len(found))
        return found

    def get_snapshot(self, kind: str, day: date) -> dict[str, dict[str, int]] | None:
        found = self._ledger.get_snapshot(kind, day)
        self._count(0 if found is None else 1)
        return found

    def counters_ready(self) -> date | None:
        since = self._ledger.counters_ready()
        self._count(0 if since is None else 1)
        return since

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ledger, name)


@dataclass(frozen=True, slots=True)
class AgingSection:
    as_of: date
    lines: list[AgingLine]
    charts: list[tuple[str, str]]  # (currency, svg)
    notice: str | None
    items_read: int


@dataclass(frozen=True, slots=True)
class MonthFigures:
    month: str  # yyyy-mm
    start: date
    end: date
    line: CollectionsLine | None  # None: the month cannot be answered (no snapshot of its opening)
    why_not: str | None = None
    texts: Mapping[str, str] = field(default_factory=dict)  # each KPI as shown


@dataclass(frozen=True, slots=True)
class TrendSection:
    currency: str | None
    currencies: list[str]
    months: list[MonthFigures]
    charts: list[tuple[str, str, str]]  # (kpi name, label, svg)
    notice: str | None
    items_read: int  # by the twelve monthly reports (and the currencies' list)


@dataclass(frozen=True, slots=True)
class RemindersSection:
    first_day: date
    last_day: date
    totals: list[ReminderFigures]
    chart: str
    items_read: int


@dataclass(frozen=True, slots=True)
class ReportsView:
    as_of: str  # the form as asked
    currency: str
    first_day: str
    last_day: str
    notice: str | None  # the form could not be read: nothing below is shown, the page is a 400
    aging: AgingSection | None = None
    trend: TrendSection | None = None
    reminders: RemindersSection | None = None
    kpis: Mapping[str, tuple[str, str]] = field(default_factory=lambda: dict(KPIS))
    bucket_labels: Mapping[str, str] = field(default_factory=lambda: dict(BUCKET_LABELS))


@dataclass(frozen=True, slots=True)
class ReportAsk:
    as_of: date
    currency: str | None
    first_day: date
    last_day: date
    report: str


def _value(params: Mapping[str, Sequence[str]], name: str) -> str:
    values = params.get(name) or []
    if len(values) > 1:
        raise BadQuery(f"{name} is given more than once", field=name)
    return values[0].strip()[:40] if values else ""


def _date(text: str, name: str, default: date) -> date:
    if not text:
        return default
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise BadQuery(f"{name} must be a date such as 2027-03-01", field=name) from None


def read_ask(params: Mapping[str, Sequence[str]], today: date) -> ReportAsk:
    unknown = sorted(set(params) - PARAMETERS)
    if unknown:
        named = ", ".join(name[:40] for name in unknown[:5])
        raise BadQuery(f"this page does not take {named}", field=unknown[0][:40])
    as_of = _date(_value(params, "as_of"), "as of", today)
    if as_of > today:
        raise BadQuery(f"as of is a day up to today ({today.isoformat()})", field="as_of")
    last = _date(_value(params, "to"), "to", today)
    first = _date(_value(params, "from"), "from", last - timedelta(days=REMINDER_DAYS - 1))
    try:
        reminder_report.check_range(first, last)
    except DomainError as refused:
        raise BadQuery(refused.message, field=refused.field) from None
    currency = _value(params, "currency")
    report = _value(params, "report")
    if report and report not in REPORTS:
        raise BadQuery(f"unknown report {report!r}: choose from {', '.join(REPORTS)}", field="report")
    return ReportAsk(as_of, normalise_currency(currency) if currency else None, first, last, report)


def _today(clock: Clock) -> date:
    return clock.now().astimezone(UTC).date()


def reports_page(
    ledger: Ledger, clock: Clock, session: ConsoleSession, params: Mapping[str, Sequence[str]]
) -> ReportsView:
    require(session.roles, Action.VIEW)
    asked = {
        name: _value(params, name) if len(params.get(name) or []) <= 1 else ""
        for name in ("as_of", "currency", "from", "to")
    }
    try:
        ask = read_ask(params, _today(clock))
    except DomainError as refused:
        return ReportsView(asked["as_of"], asked["currency"], asked["from"], asked["to"], refused.message)
    return ReportsView(
        as_of=ask.as_of.isoformat(),
        currency=ask.currency or "",
        first_day=ask.first_day.isoformat(),
        last_day=ask.last_day.isoformat(),
        notice=None,
        aging=aging_section(ledger, clock, ask.as_of),
        trend=trend_section(ledger, clock, ask.currency),
        reminders=reminders_section(ledger, ask.first_day, ask.last_day),
    )


# ----- aging -------------------------------------------------------------------------------------------------


def aging_section(ledger: Ledger, clock: Clock, as_of: date) -> AgingSection:
    counted = _CountedReads(ledger)
    try:
        report = reports.aging_report(cast(Ledger, counted), clock, as_of)
    except DomainError as refused:  # CountersNotReady, ReportUnavailable (no snapshot of that day)
        return AgingSection(as_of, [], [], _refusal(refused), counted.items)
    charts = [(line.currency, aging_chart(line, as_of)) for line in report.currencies]
    return AgingSection(report.as_of, report.currencies, charts, None, counted.items)


def aging_chart(line: AgingLine, as_of: date) -> str:
    counts = line.as_counts()
    groups = [
        Group(BUCKET_LABELS[name], (Bar(counts[name], money(counts[name], line.currency)),)) for name in AGING_BUCKETS
    ]
    return bar_chart(
        f"aging-{line.currency.lower()}",
        f"Aging in {line.currency} at the end of {as_of.isoformat()}",
        f"Owed by days past due, {money(line.total, line.currency)} in all. The table below holds the same figures.",
        groups,
    )


def _refusal(refused: DomainError) -> str:
    return COUNTERS_NOT_READY if isinstance(refused, CountersNotReady) else refused.message


# ----- collections KPIs, month by month ----------------------------------------------------------------------


def trend_months(today: date, count: int = TREND_MONTHS) -> list[tuple[date, date]]:
    """(first day, last day) of the last `count` months, oldest first, the current one up to today."""
    months: list[tuple[date, date]] = []
    first = today.replace(day=1)
    for _ in range(count):
        following = (first + timedelta(days=32)).replace(day=1)
        months.append((first, min(following - timedelta(days=1), today)))
        first = (first - timedelta(days=1)).replace(day=1)
    return months[::-1]


def trend_section(ledger: Ledger, clock: Clock, currency: str | None) -> TrendSection:
    counted = _CountedReads(ledger)
    try:
        reports.require_counters_ready(cast(Ledger, counted))
    except CountersNotReady as refused:
        return TrendSection(currency, [], [], [], _refusal(refused), counted.items)
    codes = reports.currencies(cast(Ledger, counted))
    code = currency or (codes[0] if codes else None)
    if code is None:
        return TrendSection(
            None, codes, [], [], "No invoice has been made yet: there is nothing to measure.", counted.items
        )
    months = [_month(cast(Ledger, counted), clock, code, start, end) for start, end in trend_months(_today(clock))]
    charts = [(name, label, _kpi_chart(name, label, code, months)) for name, (label, _unit) in KPIS.items()]
    return TrendSection(code, codes, months, charts, None, counted.items)


def _month(ledger: Ledger, clock: Clock, code: str, start: date, end: date) -> MonthFigures:
    try:
        report = reports.collections_report(ledger, clock, start, end, currency=code)
    except DomainError as refused:  # ReportUnavailable: no snapshot of the receivables that month opened with
        return MonthFigures(start.strftime("%Y-%m"), start, end, None, refused.message)
    line = report.currencies[0]
    texts = {name: kpi_text(name, line.figures.get(name)) for name in KPIS}
    return MonthFigures(start.strftime("%Y-%m"), start, end, line, texts=texts)


def _kpi_chart(name: str, label: str, code: str, months: list[MonthFigures]) -> str:
    columns = []
    for month in months:
        value = month.line.figures.get(name) if month.line else None
        columns.append(Column(month.start.strftime("%b"), value, kpi_text(name, value)))
    return column_chart(
        f"kpi-{name.replace('_', '-')}",
        f"{label}, {code}, {months[0].month} to {months[-1].month}",
        f"{label} per month; a month without a value shows a dash. The table below holds the same figures.",
        columns,
    )


# ----- reminder attribution ------------------------------------------------------------------------------------


def reminders_section(ledger: Ledger, first_day: date, last_day: date) -> RemindersSection:
    report = reminder_report.reminder_report(ledger, first_day, last_day)
    groups = [
        Group(
            f"{row.step} {row.template}",
            (
                Bar(row.sent, f"sent {row.sent}"),
                Bar(row.opened, f"opened {row.opened}"),
                Bar(sum(p.payments for p in row.paid), f"paid {sum(p.payments for p in row.paid)}"),
            ),
        )
        for row in report.totals
    ]
    chart = bar_chart(
        "reminders-chart",
        f"Reminders sent from {first_day.isoformat()} to {last_day.isoformat()}, by step",
        "Per dunning step: reminders sent, their links opened, payments through them within 7 days."
        " The table below holds the same figures.",
        groups,
        empty="No reminder was sent in these days",
    )
    return RemindersSection(first_day, last_day, list(report.totals), chart, report.buckets_read)


# ----- CSV -----------------------------------------------------------------------------------------------------


def report_csv(ledger: Ledger, clock: Clock, session: ConsoleSession, params: Mapping[str, Sequence[str]]) -> CsvExport:
    """One report's figures as CSV, for the same form (`report`: aging, collections or reminders)."""
    require(session.roles, Action.VIEW)
    ask = read_ask(params, _today(clock))
    exports: dict[str, Callable[[], CsvExport]] = {
        "aging": lambda: _aging_csv(ledger, clock, ask.as_of),
        "collections": lambda: _collections_csv(ledger, clock, ask.currency),
        "reminders": lambda: _reminders_csv(ledger, ask.first_day, ask.last_day),
    }
    if not ask.report:
        raise BadQuery(f"say which report: {', '.join(REPORTS)}", field="report")
    return exports[ask.report]()


def _aging_csv(ledger: Ledger, clock: Clock, as_of: date) -> CsvExport:
    report = reports.aging_report(ledger, clock, as_of)
    rows = [{"currency": line.currency, **line.as_counts(), "total": line.total} for line in report.currencies]
    return CsvExport(AGING_COLUMNS, rows, f"aging-{as_of.isoformat()}", None)


def _collections_csv(ledger: Ledger, clock: Clock, currency: str | None) -> CsvExport:
    trend = trend_section(ledger, clock, currency)
    if trend.notice:
        raise BadQuery(trend.notice)
    rows = [
        {
            "month": m.month,
            "from": m.start,
            "to": m.end,
            "currency": trend.currency,
            **(m.line.figures if m.line else {}),
            "dso_capped": m.line.dso_capped if m.line else None,
        }
        for m in trend.months
    ]
    return CsvExport(COLLECTIONS_COLUMNS, rows, f"collections-{trend.currency}-{trend.months[-1].month}", None)


def _reminders_csv(ledger: Ledger, first_day: date, last_day: date) -> CsvExport:
    report = reminder_report.reminder_report(ledger, first_day, last_day)
    rows = [
        {
            "step": row.step,
            "template": row.template,
            "sent": row.sent,
            "opened": row.opened,
            "currency": paid.currency,
            "payments": paid.payments,
            "amount": paid.amount,
            "invoices_paid": paid.invoices_paid,
        }
        for row in report.totals
        for paid in row.paid or [reminder_report.PaidWithin("", 0, 0, 0)]
    ]
    return CsvExport(REMINDER_COLUMNS, rows, f"reminders-{first_day.isoformat()}-{last_day.isoformat()}", None)
