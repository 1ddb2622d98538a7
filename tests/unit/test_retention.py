"""Retention arithmetic and rules (shared/domain/retention.py), the TTL a change making an invoice final stamps
(shared/adapters/dynamodb/writes.py), and the retention job's decisions over a stand-in store."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared import schema
from shared.adapters.dynamodb import items
from shared.adapters.dynamodb.writes import planned_writes
from shared.clock import FixedClock
from shared.config import ConfigurationError, Settings
from shared.domain import retention
from shared.domain.invoices import InvoiceStatus
from shared.domain.retention import CustomerRecords, RetentionMarker, RetentionSweep, Verdict
from shared.services.ports import Change, Page
from shared.services.retention import run_retention
from tests.fakes.records import a_payment, an_invoice

NOW = datetime(2027, 3, 1, 15, tzinfo=UTC)
BASE_ENVIRONMENT = {"PAYPORTAL_TABLE": "t", "PAYPORTAL_PUBLIC_BASE_URL": "https://x"}
instants = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC))


@given(final_at=instants, days=st.integers(retention.MIN_FINANCIAL_DAYS, retention.MAX_FINANCIAL_DAYS))
def test_a_record_expires_exactly_its_period_after_it_was_made_final(final_at: datetime, days: int) -> None:
    expires = retention.financial_expiry(final_at, days)
    assert expires - final_at == timedelta(days=days)
    assert expires > final_at


@given(st.lists(st.one_of(st.none(), instants), max_size=12))
def test_a_customers_retain_until_is_the_latest_of_their_records_in_any_order(expiries: list[datetime | None]) -> None:
    kept: datetime | None = None
    for expiry in expiries:
        kept = retention.retain_until(kept, expiry)
    known = [e for e in expiries if e is not None]
    assert kept == (max(known) if known else None)


@pytest.mark.parametrize(
    ("status", "disputes", "final"),
    [
        (InvoiceStatus.PAID, frozenset(), True),
        (InvoiceStatus.VOID, frozenset(), True),
        (InvoiceStatus.PAID, frozenset({"dp_1"}), False),  # contested: money may still move
        (InvoiceStatus.OPEN, frozenset(), False),
        (InvoiceStatus.PARTIALLY_PAID, frozenset(), False),
        (InvoiceStatus.UNCOLLECTIBLE, frozenset(), False),  # written off, money still welcome
    ],
)
def test_only_a_settled_or_voided_uncontested_invoice_is_final(
    status: InvoiceStatus, disputes: frozenset[str], final: bool
) -> None:
    assert retention.is_final(an_invoice(status=status, open_disputes=disputes)) is final


@given(open_records=st.integers(0, 5), offset=st.one_of(st.none(), st.integers(-10_000, 10_000)))
def test_the_verdict_erases_only_when_nothing_is_open_or_kept_later(open_records: int, offset: int | None) -> None:
    kept_until = None if offset is None else NOW + timedelta(hours=offset)
    decision, later = retention.verdict(CustomerRecords(open_records, kept_until), NOW)
    if open_records:
        assert decision is Verdict.KEEP
    elif kept_until is not None and kept_until > NOW:
        assert (decision, later) == (Verdict.POSTPONE, kept_until)
    else:
        assert decision is Verdict.ERASE


@pytest.mark.parametrize("raw", ["364", "36501", "ten", "-5", "3653.0", "1e4"])
def test_a_retention_period_that_cannot_work_is_a_configuration_error(raw: str) -> None:
    with pytest.raises(ConfigurationError):
        Settings.from_environment(
            {
                "PAYPORTAL_TABLE": "t",
                "PAYPORTAL_PUBLIC_BASE_URL": "https://x",
                "PAYPORTAL_FINANCIAL_RETENTION_DAYS": raw,
            }
        )


def test_the_retention_period_defaults_to_ten_years() -> None:
    settings = Settings.from_environment(BASE_ENVIRONMENT)
    assert settings.financial_retention_days == 3653


def puts(change: Change, days: int = 3653) -> list[dict[str, Any]]:
    writes = planned_writes(change, "t", NOW, days)
    return [w.request["Put"]["Item"] for w in writes if "Put" in w.request]


def test_the_change_that_settles_an_invoice_stamps_its_partition_and_puts_the_customers_marker() -> None:
    # Given the change recording the payment that settles an invoice
    paid = an_invoice(status=InvoiceStatus.PAID, amount_paid=12_500, version=2)
    change = Change(invoice_update=paid, payment=a_payment(invoice_id=paid.id))

    put = puts(change, days=400)

    # Then every item it puts in the invoice's partition expires 400 days from now, and the marker says so
    expected = {"N": str(items.epoch(NOW + timedelta(days=400)))}
    in_partition = [i for i in put if i["pk"] == {"S": "INVOICE#inv_1"} and i["sk"] != {"S": "RETAINSWEEP"}]
    assert in_partition and all(i[schema.TTL_ATTRIBUTE] == expected for i in in_partition)
    [marker] = [i for i in put if i["sk"] == {"S": "RETAIN"}]
    assert marker["pk"] == {"S": "CUSTOMER#cus_1"}
    assert marker["gsi2sk"]["S"].startswith(items.utc_stamp(NOW + timedelta(days=400)))
    # And a sweep for the retention job, due now, to stamp what earlier changes put there
    [sweep] = [i for i in put if i["sk"] == {"S": "RETAINSWEEP"}]
    assert sweep["gsi2pk"]["S"].startswith("RETAINSWEEP#") and sweep["gsi2sk"]["S"].startswith(items.utc_stamp(NOW))


def test_an_invoice_final_already_keeps_its_ttl_and_moves_no_marker() -> None:
    # Given an invoice made final a year ago, rewritten now (redacted at erasure, a note)
    earlier = NOW - timedelta(days=365) + timedelta(days=3653)
    final = an_invoice(status=InvoiceStatus.PAID, amount_paid=12_500, version=3, retained_until=earlier)

    put = puts(Change(invoice_update=final))

    assert [i[schema.TTL_ATTRIBUTE] for i in put] == [{"N": str(items.epoch(earlier))}] * len(put)
    assert not [i for i in put if i["sk"] == {"S": "RETAIN"}]


def test_an_open_or_reopened_invoice_puts_no_ttl_and_no_marker() -> None:
    reopened = an_invoice(status=InvoiceStatus.PARTIALLY_PAID, amount_paid=6_000, version=4, retained_until=NOW)
    for invoice in (an_invoice(), reopened):
        put = puts(Change(invoice_update=invoice, payment=a_payment(invoice_id=invoice.id)))
        assert all(schema.TTL_ATTRIBUTE not in i for i in put if i["sk"] != {"S": "RETAINSWEEP"})
        assert not [i for i in put if i["sk"] == {"S": "RETAIN"}]
    # And the reopened one (it had a TTL) gets a sweep that clears it from its partition; the open one none
    sweeps = [i for i in puts(Change(invoice_update=reopened)) if i["sk"] == {"S": "RETAINSWEEP"}]
    assert len(sweeps) == 1 and "retained_until" not in sweeps[0]
    assert not [i for i in puts(Change(invoice_update=an_invoice())) if i["sk"] == {"S": "RETAINSWEEP"}]


@dataclass
class StandInStore:
    """Markers and records by customer, as DynamoLedger keeps them."""

    markers: dict[str, datetime]
    records: dict[str, CustomerRecords]
    broken: set[str] = field(default_factory=set)

    def retention_sweeps_due(self, shard: int, until: datetime, limit: int, cursor: str | None) -> Page:
        return Page(items=[], next_cursor=None)

    def sweep_partition(self, sweep: RetentionSweep) -> int:
        return 0

    def finish_sweep(self, sweep: RetentionSweep) -> None:
        return None

    def retention_due(self, shard: int, until: datetime, limit: int, cursor: str | None) -> Page:
        due = sorted(c for c, at in self.markers.items() if at <= until and schema.shard_of(c, 8) == shard)
        return Page(items=[RetentionMarker(c, self.markers[c]) for c in due], next_cursor=None)

    def customer_records(self, customer_id: str) -> CustomerRecords:
        if customer_id in self.broken:
            raise KeyError(customer_id)
        return self.records[customer_id]

    def move_retention(self, marker: RetentionMarker, until: datetime) -> None:
        self.markers[marker.customer_id] = until

    def drop_retention(self, marker: RetentionMarker) -> None:
        self.markers.pop(marker.customer_id, None)


def test_the_job_erases_postpones_keeps_and_skips_each_customer_on_its_own() -> None:
    later = NOW + timedelta(days=30)
    store = StandInStore(
        markers={c: NOW - timedelta(days=1) for c in ("gone", "later", "owing", "broken")} | {"future": later},
        records={
            "gone": CustomerRecords(0, NOW - timedelta(days=1)),
            "later": CustomerRecords(0, later),
            "owing": CustomerRecords(1, None),
            "future": CustomerRecords(0, later),
        },
        broken={"broken"},
    )
    erased: list[str] = []

    report = run_retention(store, FixedClock(NOW), erased.append)

    assert erased == ["gone"]
    assert (report.erased, report.postponed, report.kept) == (1, 1, 1)
    assert [(s.id, s.reason) for s in report.skipped] == [("broken", "KeyError")]
    assert store.markers == {"later": later, "broken": NOW - timedelta(days=1), "future": later}

    # And a second run erases no one again, and still reports the broken one
    again = run_retention(store, FixedClock(NOW), erased.append)
    assert erased == ["gone"] and again.erased == 0 and len(again.skipped) == 1


def test_a_failed_erasure_leaves_the_marker_for_the_next_run() -> None:
    store = StandInStore(markers={"cus_1": NOW}, records={"cus_1": CustomerRecords(0, NOW)})

    def failing(_customer_id: str) -> object:
        raise TimeoutError

    report = run_retention(store, FixedClock(NOW), failing)

    assert report.erased == 0 and [s.reason for s in report.skipped] == ["TimeoutError"]
    assert "cus_1" in store.markers


def test_a_run_out_of_time_stops_before_the_next_page() -> None:
    store = StandInStore(markers={"cus_1": NOW}, records={"cus_1": CustomerRecords(0, None)})
    report = run_retention(store, FixedClock(NOW), lambda _c: None, out_of_time=lambda: True)
    assert report.out_of_time and report.erased == 0 and store.markers


def test_the_invoice_ttl_reads_back_as_its_retained_until() -> None:
    at = datetime(2037, 3, 1, 15, tzinfo=UTC)
    paid = replace(an_invoice(status=InvoiceStatus.PAID, amount_paid=12_500), retained_until=at)
    assert items.invoice_from(items.invoice_item(paid, NOW)).retained_until == at
