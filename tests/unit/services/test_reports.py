"""The aging report and the collections KPIs over the fakes: read from the aggregates and snapshots, equal to
what the invoices themselves say, to the cent."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.clock import AdjustableClock
from shared.domain.invoices import Invoice
from shared.domain.records import OfflineMethod
from shared.services import reports
from shared.services.aggregates import owed_by
from shared.services.corrections import CreditNoteAsk, issue_credit_note_once
from shared.services.invoices import InvoiceDraft, create_invoice
from shared.services.offline_payments import OfflinePaymentAsk, record_offline_payment_once
from shared.services.ports import Change
from shared.services.reports import (
    AGING_BUCKETS,
    InvalidReportRange,
    ReportUnavailable,
    aging_bucket,
    aging_report,
    collections_report,
    day_flows,
    keep_daily_snapshots,
)
from tests.fakes import FakeGateway, InMemoryLedger
from tests.fakes.records import a_customer
from tests.fakes.run_once import InMemoryRunOnce

OPS = "arn:aws:iam::1:user/ops"
START = datetime(2026, 3, 1, 10, tzinfo=UTC)


class Books:
    """A ledger with one customer, a clock the test moves, and the use cases an operator calls."""

    def __init__(self) -> None:
        self.ledger = InMemoryLedger()
        self.clock = AdjustableClock()
        self.clock.set(START)
        self.gateway = FakeGateway()
        self.once = InMemoryRunOnce()
        self.keys = 0
        self.ledger.commit(Change(new_customer=a_customer()))

    def key(self) -> str:
        self.keys += 1
        return f"k{self.keys}"

    def at(self, moment: datetime) -> None:
        self.clock.set(moment)

    def invoice(self, amount: int, due: date, currency: str = "USD") -> Invoice:
        draft = InvoiceDraft("cus_1", f"N{self.keys}-{self.key()}", currency, amount, due, allow_partial=True)
        return create_invoice(self.ledger, self.clock, draft, actor=OPS)

    def pay(self, invoice: Invoice, amount: int) -> None:
        ask = OfflinePaymentAsk(amount, OfflineMethod.BANK_TRANSFER, "ref", self.clock.now().date())
        record_offline_payment_once(
            self.ledger, self.gateway, self.clock, self.once, invoice.id, ask, key=self.key(), fingerprint={}, actor=OPS
        )

    def credit(self, invoice: Invoice, amount: int) -> None:
        ask = CreditNoteAsk(amount, "goodwill")
        issue_credit_note_once(
            self.ledger, self.gateway, self.clock, self.once, invoice.id, ask, key=self.key(), fingerprint={}, actor=OPS
        )

    def recomputed_aging(self, as_of: date, currency: str = "USD") -> dict[str, int]:
        totals = dict.fromkeys(AGING_BUCKETS, 0)
        for invoice in self.ledger.invoices.values():
            if invoice.currency == currency:
                totals[aging_bucket(as_of, invoice.due_date)] += owed_by(invoice)
        return totals


def test_buckets_count_days_past_due() -> None:
    as_of = date(2026, 6, 30)
    assert [aging_bucket(as_of, as_of - timedelta(days=d)) for d in (-5, 0, 1, 30, 31, 60, 61, 90, 91, 400)] == [
        "current", "current", "days_1_30", "days_1_30", "days_31_60", "days_31_60", "days_61_90", "days_61_90",
        "days_91_plus", "days_91_plus",
    ]  # fmt: skip


def test_aging_today_splits_what_is_owed_by_days_past_due_per_currency() -> None:
    # Given invoices due around the edges of each bucket, one partly paid, one in EUR, one paid in full
    books = Books()
    today = date(2026, 6, 30)
    books.at(datetime(2026, 6, 30, 12, tzinfo=UTC))
    for days_late, amount in ((-10, 100), (0, 200), (1, 300), (30, 400), (31, 500), (90, 600), (91, 700), (300, 800)):
        books.invoice(amount * 100, today - timedelta(days=days_late))
    partly = books.invoice(10_000, today - timedelta(days=45))
    books.pay(partly, 2_500)
    books.pay(books.invoice(5_000, today - timedelta(days=10)), 5_000)
    books.invoice(9_900, today - timedelta(days=95), currency="EUR")

    # When the aging is asked as of today
    report = aging_report(books.ledger, books.clock, today)

    # Then each currency's buckets hold what its invoices still owe, by days past due
    lines = {line.currency: line for line in report.currencies}
    assert lines["USD"].as_counts() == {
        "current": 30_000, "days_1_30": 70_000, "days_31_60": 50_000 + 7_500, "days_61_90": 60_000,
        "days_91_plus": 150_000,
    }  # fmt: skip
    assert lines["USD"].total == sum(owed_by(i) for i in books.ledger.invoices.values() if i.currency == "USD")
    assert lines["EUR"].as_counts() == books.recomputed_aging(today, "EUR")
    assert [line.currency for line in aging_report(books.ledger, books.clock, today, currency="EUR").currencies] == [
        "EUR"
    ]


def test_aging_by_customer_reads_the_open_invoices() -> None:
    books = Books()
    books.at(datetime(2026, 6, 30, 12, tzinfo=UTC))
    books.invoice(1_000, date(2026, 6, 1))
    books.ledger.commit(Change(new_customer=a_customer("cus_2")))
    draft = InvoiceDraft("cus_2", "X-1", "USD", 2_000, date(2026, 7, 30))
    create_invoice(books.ledger, books.clock, draft, actor=OPS)

    report = aging_report(books.ledger, books.clock, date(2026, 6, 30), by_customer=True)

    assert report.customers is not None
    by_customer = {c.customer_id: c.lines[0].as_counts() for c in report.customers}
    assert by_customer["cus_1"]["days_1_30"] == 1_000 and by_customer["cus_2"]["current"] == 2_000


def test_aging_by_customer_refuses_more_open_invoices_than_it_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given three open invoices and a bound of two
    monkeypatch.setattr(reports, "MAX_GROUPED_INVOICES", 2)
    books = Books()
    books.at(datetime(2026, 6, 30, 12, tzinfo=UTC))
    for amount in (1_000, 2_000, 3_000):
        books.invoice(amount, date(2026, 6, 1))

    # When grouped by customer, then refused saying why, while the per-currency aging still answers
    with pytest.raises(ReportUnavailable, match="more than 2 invoices are open"):
        aging_report(books.ledger, books.clock, date(2026, 6, 30), by_customer=True)
    assert aging_report(books.ledger, books.clock, date(2026, 6, 30)).currencies[0].total == 6_000


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(st.integers(0, 120), st.integers(-200, 60), st.integers(1, 50), st.integers(0, 100)),
        min_size=1,
        max_size=25,
    )
)
def test_a_past_days_snapshot_is_the_aging_at_the_end_of_that_day(plan: list[tuple[int, int, int, int]]) -> None:
    # Given invoices made and paid over four months, the balances run keeping snapshots every day
    books = Books()
    events = sorted(plan)
    expected: dict[date, dict[str, int]] = {}
    day = START.date()
    for offset, due_in, hundreds, paid_percent in events:
        when = START + timedelta(days=offset, hours=1)
        while day < when.date():  # each day's end: what the invoices owed then, and the run after midnight
            expected[day] = books.recomputed_aging(day)
            books.at(datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=UTC) + timedelta(minutes=5))
            keep_daily_snapshots(books.ledger, books.clock, days_back=1)
            day += timedelta(days=1)
        books.at(when)
        invoice = books.invoice(hundreds * 100, when.date() + timedelta(days=due_in))
        if paid_percent:
            books.pay(invoice, max(100, hundreds * paid_percent // 100 * 100) if paid_percent < 100 else hundreds * 100)

    # Then each past day's aging, read back, is what the invoices owed at its end, to the cent
    for past, totals in expected.items():
        report = aging_report(books.ledger, books.clock, past, currency="USD")
        assert report.currencies[0].as_counts() == totals, past


def test_a_snapshot_taken_days_later_still_gives_the_end_of_that_day() -> None:
    # Given an invoice on March 1st, paid half on March 3rd, the next run only on March 5th
    books = Books()
    invoice = books.invoice(10_000, date(2026, 2, 20))
    books.at(datetime(2026, 3, 3, 9, tzinfo=UTC))
    books.pay(invoice, 5_000)
    books.at(datetime(2026, 3, 5, 8, tzinfo=UTC))

    # When the run keeps the snapshots it missed
    written = keep_daily_snapshots(books.ledger, books.clock)

    # Then March 2nd still owed all of it, March 4th half
    assert written == [date(2026, 3, 2), date(2026, 3, 3), date(2026, 3, 4)]
    march_2 = aging_report(books.ledger, books.clock, date(2026, 3, 2)).currencies[0]
    march_4 = aging_report(books.ledger, books.clock, date(2026, 3, 4)).currencies[0]
    assert (march_2.days_1_30, march_4.days_1_30) == (10_000, 5_000)


@pytest.mark.parametrize(
    "run_starts",
    [datetime(2026, 3, 4, 23, 59, 58, tzinfo=UTC), datetime(2026, 3, 31, 23, 59, 58, tzinfo=UTC)],
    ids=["midnight", "midnight at the end of a month"],
)
def test_a_run_crossing_midnight_keeps_the_snapshot_of_the_day_it_was_meant_for(
    run_starts: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an invoice owing USD 100.00, and a run that starts two seconds before midnight (fixed clock)
    books = Books()
    books.at(run_starts - timedelta(days=3))
    invoice = books.invoice(10_000, run_starts.date() - timedelta(days=10))
    books.at(run_starts)
    day_before = run_starts.date() - timedelta(days=1)
    expected = books.recomputed_aging(day_before)

    # When, while the run reads the moves since that day, midnight passes and a payment of 40.00 lands
    read_tallies = books.ledger.read_tallies
    landed: list[datetime] = []

    def a_payment_after_midnight(scope: str, **kwargs: object) -> dict[str, dict[str, int]]:
        if scope.startswith("owedmoves#") and not landed:
            landed.append(run_starts + timedelta(seconds=5))
            books.at(landed[0])
            books.pay(invoice, 4_000)
        return read_tallies(scope, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(books.ledger, "read_tallies", a_payment_after_midnight)
    books.at(run_starts)
    written = keep_daily_snapshots(books.ledger, books.clock, days_back=1)
    monkeypatch.undo()

    # Then the snapshot is of the day before the run started, as it ended: the payment after midnight is not in it
    assert landed and landed[0].date() == run_starts.date() + timedelta(days=1)
    assert written == [day_before]
    kept = aging_report(books.ledger, books.clock, day_before).currencies[0].as_counts()
    assert kept == expected
    assert sum(kept.values()) == 10_000


def test_aging_of_a_day_without_a_snapshot_or_in_the_future_is_refused() -> None:
    books = Books()
    with pytest.raises(ReportUnavailable):
        aging_report(books.ledger, books.clock, date(2025, 1, 1))
    with pytest.raises(InvalidReportRange):
        aging_report(books.ledger, books.clock, date(2027, 1, 1))
    books.at(START + timedelta(days=2))
    keep_daily_snapshots(books.ledger, books.clock)
    with pytest.raises(ReportUnavailable):
        aging_report(books.ledger, books.clock, START.date(), by_customer=True)


def test_collections_kpis_over_a_quarter() -> None:
    # Given, in Q2: USD 1,000.00 invoiced on April 1st due April 30th (paid on time on April 20th), USD 500.00
    # invoiced on May 1st due May 31st (paid late on June 10th), USD 300.00 on June 1st due July 1st (open)
    books = Books()
    books.at(datetime(2026, 3, 31, 23, tzinfo=UTC))
    books.at(datetime(2026, 4, 1, 9, tzinfo=UTC))
    keep_daily_snapshots(books.ledger, books.clock, days_back=1)  # March 31st: nothing owed
    first = books.invoice(100_000, date(2026, 4, 30))
    books.at(datetime(2026, 4, 20, 9, tzinfo=UTC))
    books.pay(first, 100_000)
    books.at(datetime(2026, 5, 1, 9, tzinfo=UTC))
    second = books.invoice(50_000, date(2026, 5, 31))
    books.at(datetime(2026, 6, 1, 9, tzinfo=UTC))
    books.invoice(30_000, date(2026, 7, 1))
    books.at(datetime(2026, 6, 10, 9, tzinfo=UTC))
    books.pay(second, 50_000)
    books.at(datetime(2026, 6, 30, 18, tzinfo=UTC))

    # When the KPIs are asked for April to June (to = today: live receivables)
    [line] = collections_report(books.ledger, books.clock, date(2026, 4, 1), date(2026, 6, 30)).currencies

    # Then the inputs are the quarter's sums, and each figure follows its formula (docs/reports.md)
    assert line.inputs["receivables_start"] == 0 and line.inputs["receivables_end"] == 30_000
    assert line.inputs["receivables_end_current"] == 30_000
    assert (line.inputs["invoiced"], line.inputs["collected"], line.inputs["invoices_paid"]) == (180_000, 150_000, 2)
    figures = line.figures
    assert figures["dso"] == 30.0  # June's 300.00 invoiced covers the 300.00 owed: 30 days of June
    assert figures["best_possible_dso"] == round(30_000 / 180_000 * 91, 1)
    assert figures["collection_effectiveness_index"] == 100.0  # all that was owed past due was collected
    assert figures["collection_rate"] == round(150_000 / 180_000, 4)
    assert figures["average_days_to_pay"] == (19 + 40) / 2
    assert figures["paid_on_time_share"] == 0.5
    assert figures["promises_kept_share"] is None and figures["offsession_recovery_rate"] is None


def test_a_days_flows_read_as_one_counter() -> None:
    books = Books()
    invoice = books.invoice(10_000, date(2026, 3, 31))
    books.pay(invoice, 4_000)

    flows = day_flows(books.ledger, "USD", START.date())

    assert (flows["invoiced"], flows["collected"], flows["invoices_created"], flows["refunded"]) == (
        10_000,
        4_000,
        1,
        0,
    )
    assert day_flows(books.ledger, "EUR", START.date())["collected"] == 0


def test_collections_refuse_bad_ranges_and_days_without_snapshots() -> None:
    books = Books()
    books.at(datetime(2026, 6, 30, tzinfo=UTC))
    with pytest.raises(InvalidReportRange, match="after"):
        collections_report(books.ledger, books.clock, date(2026, 6, 2), date(2026, 6, 1))
    with pytest.raises(InvalidReportRange, match="future"):
        collections_report(books.ledger, books.clock, date(2026, 6, 2), date(2026, 7, 1))
    with pytest.raises(InvalidReportRange, match="400"):
        collections_report(books.ledger, books.clock, date(2025, 1, 1), date(2026, 6, 1))
    books.invoice(1_000, date(2026, 7, 1))
    with pytest.raises(ReportUnavailable, match="2026-03-31"):  # the receivables before the period
        collections_report(books.ledger, books.clock, date(2026, 4, 1), date(2026, 6, 30))
