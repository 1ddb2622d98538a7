"""Counting invoices written before the running aggregates: the first change of one counts its whole state, the
backfill counts the rest once, and the reports wait for it (services.counters_backfill, services.aggregates)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from shared.clock import AdjustableClock
from shared.domain.invoices import Invoice, InvoiceStatus
from shared.domain.records import OfflineMethod
from shared.services import reports
from shared.services.aggregates import owed_by, tallies_for
from shared.services.counters_backfill import backfill_counters
from shared.services.digest import send_digest
from shared.services.invoices import InvoiceDraft, create_invoice
from shared.services.offline_payments import OfflinePaymentAsk, record_offline_payment_once
from shared.services.ports import Change
from shared.services.reports import CountersNotReady, aging_report, collections_report, keep_daily_snapshots
from tests.fakes import FakeGateway, InMemoryLedger
from tests.fakes.records import NOW, a_customer, an_invoice
from tests.fakes.run_once import InMemoryRunOnce

OPS = "arn:aws:iam::1:user/ops"
TODAY = date(2026, 11, 20)


def _old_table() -> tuple[InMemoryLedger, AdjustableClock]:
    """A table from before the aggregates: three open invoices (one partly paid), one paid, none counted."""
    ledger = InMemoryLedger()
    ledger.commit(Change(new_customer=a_customer()))
    for invoice in (
        an_invoice("inv_a", amount_due=10_000, due_date=date(2026, 10, 1)),
        an_invoice("inv_b", amount_due=7_000, amount_paid=2_000, status=InvoiceStatus.PARTIALLY_PAID),
        an_invoice("inv_c", currency="EUR", amount_due=4_000, due_date=date(2027, 1, 10)),
        an_invoice("inv_d", amount_due=3_000, amount_paid=3_000, status=InvoiceStatus.PAID),
    ):
        ledger.seed_uncounted(invoice)
    clock = AdjustableClock()
    clock.set(datetime(2026, 11, 20, 10, tzinfo=UTC))
    return ledger, clock


def _pay(ledger: InMemoryLedger, clock: AdjustableClock, invoice_id: str, amount: int, key: str) -> None:
    ask = OfflinePaymentAsk(amount, OfflineMethod.CHECK, key, clock.now().date())
    record_offline_payment_once(
        ledger, FakeGateway(), clock, InMemoryRunOnce(), invoice_id, ask, key=key, fingerprint={}, actor=OPS
    )


def _owed_counters(ledger: InMemoryLedger) -> dict[tuple[str, str], tuple[int, int]]:
    """(currency, due day) -> (amount, invoices) as the owed#C#{year} counters hold it (zeros left out)."""
    found = {}
    for (scope, bucket), counts in ledger.tallies.items():
        parts = scope.split("#")
        if parts[0] == "owed" and len(parts) == 3:
            kept = (counts.get("amount", 0), counts.get("invoices", 0))
            if kept != (0, 0):
                found[(parts[1], bucket[2:])] = kept
    return found


def _recomputed(ledger: InMemoryLedger) -> dict[tuple[str, str], tuple[int, int]]:
    owed: dict[tuple[str, str], tuple[int, int]] = {}
    for invoice in ledger.invoices.values():
        if owed_by(invoice):
            amount, count = owed.get((invoice.currency, invoice.due_date.isoformat()), (0, 0))
            owed[(invoice.currency, invoice.due_date.isoformat())] = (amount + owed_by(invoice), count + 1)
    return owed


def _months_and_moves_agree(ledger: InMemoryLedger) -> None:
    for currency in ("USD", "EUR"):
        owed = sum(owed_by(i) for i in ledger.invoices.values() if i.currency == currency)
        months = ledger.read_tallies(f"owed#{currency}", between=("M#", "M#~"))
        assert sum(c.get("amount", 0) for c in months.values()) == owed
        moves = [c for (s, _), c in ledger.tallies.items() if s.startswith(f"owedmoves#{currency}#")]
        assert sum(c.get("amount", 0) for c in moves) == owed


def test_a_payment_on_an_old_invoice_then_the_backfill_leave_the_counters_equal_to_a_recomputation() -> None:
    # Given a table from before the aggregates, and a payment on one of its invoices before the backfill
    ledger, clock = _old_table()
    _pay(ledger, clock, "inv_a", 4_000, "chk1")
    # Then that payment counted the invoice's whole remainder (not a delta from nothing), and only it
    assert ledger.invoices["inv_a"].counted
    assert _owed_counters(ledger) == {("USD", "2026-10-01"): (6_000, 1)}

    # When the backfill runs
    run = backfill_counters(ledger, ledger.every_invoice(), clock)

    # Then every invoice is counted once: the counters equal a recomputation from the invoices, to the cent
    assert (run.counted, run.counted_already, run.left, run.ready) == (3, 1, 0, True)
    assert all(i.counted for i in ledger.invoices.values())
    assert _owed_counters(ledger) == _recomputed(ledger)
    assert _recomputed(ledger) == {
        ("USD", "2026-10-01"): (6_000, 1),
        ("USD", "2026-12-15"): (5_000, 1),
        ("EUR", "2027-01-10"): (4_000, 1),
    }
    _months_and_moves_agree(ledger)
    assert sorted(reports.currencies(ledger)) == ["EUR", "USD"]
    # And its flows are what happened since (the payment), not the invoices' past
    assert reports.day_flows(ledger, "USD", TODAY)["collected"] == 4_000
    assert reports.day_flows(ledger, "USD", TODAY)["invoiced"] == 0
    assert ledger.counters_ready() == TODAY


def test_the_backfill_run_twice_counts_nothing_the_second_time() -> None:
    ledger, clock = _old_table()
    backfill_counters(ledger, ledger.every_invoice(), clock)
    counted = {key: dict(counts) for key, counts in ledger.tallies.items()}

    clock.set(clock.now() + timedelta(days=1))
    again = backfill_counters(ledger, ledger.every_invoice(), clock)

    assert (again.counted, again.counted_already, again.ready) == (0, 4, True)
    assert ledger.tallies == counted
    assert ledger.counters_ready() == TODAY  # the first mark is kept


def test_changes_after_the_backfill_move_the_counters_by_their_deltas() -> None:
    ledger, clock = _old_table()
    backfill_counters(ledger, ledger.every_invoice(), clock)
    _pay(ledger, clock, "inv_b", 1_000, "chk2")
    create_invoice(ledger, clock, InvoiceDraft("cus_1", "N-new", "EUR", 2_500, date(2027, 1, 10)), actor=OPS)

    assert _owed_counters(ledger) == _recomputed(ledger)
    _months_and_moves_agree(ledger)


def test_a_live_change_racing_the_backfill_wins_and_the_backfill_reads_again() -> None:
    # Given the backfill has read an invoice, and a payment lands on it before the backfill writes it
    ledger, clock = _old_table()

    def scanned() -> Iterator[Invoice]:
        for invoice in ledger.every_invoice():
            if invoice.id == "inv_b":
                _pay(ledger, clock, "inv_b", 500, "race")  # commits between the read and the backfill's write
            yield invoice

    # When the backfill goes on with what it read
    run = backfill_counters(ledger, scanned(), clock)

    # Then its write is refused (the version moved), it reads again, finds it counted, and counts it not twice
    assert run.retried == 1
    assert (run.counted, run.counted_already, run.ready) == (3, 1, True)
    assert _owed_counters(ledger) == _recomputed(ledger)
    assert _recomputed(ledger)[("USD", "2026-12-15")] == (4_500, 1)
    _months_and_moves_agree(ledger)


def test_a_change_that_leaves_an_old_invoice_uncounted_moves_no_owed_counter() -> None:
    # A write that is not tallied (no money moved: a reminder sent) keeps it out of the counters altogether
    old = replace(an_invoice(), counted=False)
    reminded = replace(old, version=2, reminders_sent=frozenset({"due"}))
    assert [t for t in tallies_for(old, reminded, NOW) if t.scope.startswith(("owed", "currencies"))] == []
    # And the change that counts it moves them by its whole state, as a new invoice does
    counted = replace(reminded, counted=True)
    first = {(t.scope, t.bucket, tuple(t.deltas.items())) for t in tallies_for(old, counted, NOW)}
    new = {(t.scope, t.bucket, tuple(t.deltas.items())) for t in tallies_for(None, counted, NOW)}
    assert {t for t in new if not t[0].startswith("flows")} == first - {t for t in first if t[0].startswith("flows")}


def test_reports_and_the_digest_wait_for_the_backfill() -> None:
    # Given a table from before the aggregates, not backfilled
    ledger, clock = _old_table()

    # Then the aging and the collections KPIs refuse, naming why, and the digest queues nothing
    with pytest.raises(CountersNotReady) as refused:
        aging_report(ledger, clock, TODAY)
    assert refused.value.code == "counters_not_ready"
    with pytest.raises(CountersNotReady):
        collections_report(ledger, clock, TODAY - timedelta(days=7), TODAY)
    assert send_digest(ledger, clock, timezone="UTC", recipients=1).reason == "counters_not_ready"
    # And the balances run keeps no snapshot
    assert keep_daily_snapshots(ledger, clock) == []

    # When the backfill has run
    backfill_counters(ledger, ledger.every_invoice(), clock)

    # Then the aging answers, its total the ledger's open balance
    report = aging_report(ledger, clock, TODAY)
    assert {line.currency: line.total for line in report.currencies} == {"USD": 15_000, "EUR": 4_000}
    # And snapshots are kept only from the backfill's day on: none of the days before it
    assert keep_daily_snapshots(ledger, clock) == []
    clock.set(clock.now() + timedelta(days=2))
    assert keep_daily_snapshots(ledger, clock) == [TODAY, TODAY + timedelta(days=1)]
    kept = reports.aging_report(ledger, clock, TODAY)
    assert (kept.source, {line.currency: line.total for line in kept.currencies}) == (
        "snapshot",
        {"USD": 15_000, "EUR": 4_000},
    )


def test_a_dry_run_counts_and_writes_nothing() -> None:
    ledger, clock = _old_table()
    run = backfill_counters(ledger, ledger.every_invoice(), clock, dry_run=True)
    assert (run.counted, run.ready) == (4, False)
    assert ledger.tallies == {}
    assert ledger.counters_ready() is None


def test_the_digest_of_the_backfills_day_shows_no_change_since_a_yesterday_the_counters_did_not_hold() -> None:
    # Given the backfill ran today on an old table
    ledger, clock = _old_table()
    backfill_counters(ledger, ledger.every_invoice(), clock)

    # When the digest runs the same day
    run = send_digest(ledger, clock, timezone="UTC", recipients=1)

    # Then it shows what is owed now, and no change against a yesterday the counters did not hold
    assert run.queued and run.digest is not None
    usd = next(b for b in run.digest.balances if b.currency == "USD")
    assert (usd.outstanding, usd.outstanding_change, usd.overdue_change) == (15_000, 0, 0)
