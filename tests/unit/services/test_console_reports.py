"""The console's KPI trend over the fakes: twelve monthly collections reports, the same figures as the report
service gives for each month, reading a number of counter items set by the days, not by the invoices."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from shared.domain.console_roles import ActionForbidden, Role
from shared.services import console_reports, reports
from shared.services.console_reports import trend_months, trend_section
from tests.unit.services.test_console_pages import staff
from tests.unit.services.test_reports import Books

TODAY = datetime(2027, 3, 10, 12, tzinfo=UTC)


def a_year_of_books(invoices_a_day: int) -> Books:
    """Every day from 2026-02-01: `invoices_a_day` USD invoices due in 30 days, each paid 20 days later; the
    balances run keeps each day's snapshot the next morning."""
    books = Books()
    day = datetime(2026, 2, 1, 9, tzinfo=UTC)
    made: list[tuple[datetime, object]] = []
    while day <= TODAY:
        books.at(day)
        reports.keep_daily_snapshots(books.ledger, books.clock, days_back=1)
        for _ in range(invoices_a_day):
            made.append((day, books.invoice(10_000, (day + timedelta(days=30)).date())))
        while made and made[0][0] <= day - timedelta(days=20):
            _, invoice = made.pop(0)
            books.pay(invoice, 10_000)  # type: ignore[arg-type]
        day += timedelta(days=1)
    books.at(TODAY)
    return books


def test_twelve_months_oldest_first_the_current_one_to_today() -> None:
    months = trend_months(date(2027, 3, 10))
    assert months[0] == (date(2026, 4, 1), date(2026, 4, 30)) and months[-1] == (date(2027, 3, 1), date(2027, 3, 10))
    assert len(months) == 12 and (date(2027, 2, 1), date(2027, 2, 28)) in months
    assert trend_months(date(2028, 3, 1))[-2] == (date(2028, 2, 1), date(2028, 2, 29))


def test_each_months_figures_are_the_collections_reports_and_reads_are_set_by_days_not_invoices() -> None:
    one, three = a_year_of_books(1), a_year_of_books(3)
    trends = [trend_section(books.ledger, books.clock, "USD") for books in (one, three)]
    for books, trend in zip((one, three), trends, strict=True):
        assert trend.notice is None and len(trend.months) == 12 and len(trend.charts) == 10
        for month in trend.months:
            [line] = reports.collections_report(
                books.ledger, books.clock, month.start, month.end, currency="USD"
            ).currencies
            assert month.line is not None and month.line.figures == line.figures, month.month
    # Three times the invoices, the same counter items read: one item per day, month and bucket
    assert trends[0].items_read == trends[1].items_read
    per_month = trends[0].items_read / 12
    print(f"KPI trend over a year of daily activity: {trends[0].items_read} items ({per_month:.0f} a month)")
    assert trends[0].items_read <= 12 * 60 + 150  # a month's days, 25 months for the countback, two snapshots


def test_a_role_without_view_is_refused_and_reports_not_ready_say_so() -> None:
    books = Books()
    with pytest.raises(ActionForbidden):
        console_reports.reports_page(books.ledger, books.clock, staff(), {})
    books.ledger.counters_ready_since = None  # a table from before the counters, not backfilled yet
    view = console_reports.reports_page(books.ledger, books.clock, staff(Role.VIEWER), {})
    assert view.notice is None and view.reminders is not None
    assert view.aging is not None and view.aging.notice == console_reports.COUNTERS_NOT_READY
    assert view.trend is not None and view.trend.notice == console_reports.COUNTERS_NOT_READY
