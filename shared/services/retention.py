"""The retention job: customers whose records have all outlived their retention period are pseudonymised.

Reads only the due_work index's RETAIN partitions (customers whose retain-until has passed) and, for each, the
customer's own by_owner partition, never the table. Each customer is decided afresh from their records
(shared/domain/retention.py): one with an invoice still being collected or a recurring charge running is
kept (the next invoice made final puts a new marker), one with a record kept longer is looked at again then,
and the rest are pseudonymised by `pseudonymise_customer` (gdpr-erase), audited as the scheduler.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final, Protocol

from shared.clock import Clock
from shared.domain import retention
from shared.domain.retention import CustomerRecords, RetentionMarker, RetentionSweep, Verdict
from shared.schema import DUE_WORK_SHARDS
from shared.services.erasure import ErasureCause, pseudonymise_customer
from shared.services.gateway import PaymentGateway
from shared.services.ports import Ledger, Page, SkippedItem

JOB_ACTOR: Final = "scheduler"
PAGE: Final = 50


class RetentionStore(Protocol):
    """What the job reads and moves of customers' retention markers (DynamoLedger)."""

    def retention_sweeps_due(self, shard: int, until: datetime, limit: int, cursor: str | None) -> Page: ...

    def sweep_partition(self, sweep: RetentionSweep) -> int: ...

    def finish_sweep(self, sweep: RetentionSweep) -> None: ...

    def retention_due(self, shard: int, until: datetime, limit: int, cursor: str | None) -> Page: ...

    def customer_records(self, customer_id: str) -> CustomerRecords: ...

    def move_retention(self, marker: RetentionMarker, until: datetime) -> None: ...

    def drop_retention(self, marker: RetentionMarker) -> None: ...


# The erasure itself, as a port: pseudonymise_customer bound to the ledger, clock and gateway.
Pseudonymise = Callable[[str], object]


@dataclass(slots=True)
class RetentionReport:
    swept: int = 0  # invoice partitions whose older items took (or lost) their invoice's TTL
    erased: int = 0  # customers pseudonymised
    postponed: int = 0  # a record of theirs is kept longer: looked at again then
    kept: int = 0  # a record still open: the marker is dropped until one is made final again
    skipped: list[SkippedItem] = field(default_factory=list)
    out_of_time: bool = False


def run_retention(
    store: RetentionStore,
    clock: Clock,
    pseudonymise: Pseudonymise,
    *,
    out_of_time: Callable[[], bool] = lambda: False,
) -> RetentionReport:
    """The invoice partitions to sweep, then every shard of due markers. Safe to run again at any time: a
    sweep only ever lengthens a TTL (or clears one under a reopened invoice), a customer is decided from what
    is stored, and pseudonymising one already pseudonymised changes nothing."""
    now = clock.now()
    report = RetentionReport()
    for reads, work in (
        (store.retention_sweeps_due, lambda sweep: _sweep(store, sweep, report)),
        (store.retention_due, lambda marker: _decide(store, pseudonymise, marker, now, report)),
    ):
        for shard in range(DUE_WORK_SHARDS):
            cursor: str | None = None
            while True:
                if out_of_time():
                    report.out_of_time = True
                    return report
                page = reads(shard, now, PAGE, cursor)
                for item in page.items:
                    if isinstance(item, SkippedItem):  # a marker or sweep that does not read: left, reported
                        report.skipped.append(item)
                    else:
                        work(item)
                cursor = page.next_cursor
                if cursor is None:
                    break
    return report


def _sweep(store: RetentionStore, sweep: RetentionSweep, report: RetentionReport) -> None:
    try:
        store.sweep_partition(sweep)
        store.finish_sweep(sweep)
        report.swept += 1
    except Exception as error:
        report.skipped.append(SkippedItem(kind="invoice", id=sweep.invoice_id, reason=type(error).__name__))


def _decide(
    store: RetentionStore, pseudonymise: Pseudonymise, marker: RetentionMarker, now: datetime, report: RetentionReport
) -> None:
    try:
        decision, later = retention.verdict(store.customer_records(marker.customer_id), now)
        if decision is Verdict.POSTPONE and later is not None:
            store.move_retention(marker, later)
            report.postponed += 1
            return
        if decision is Verdict.ERASE:
            pseudonymise(marker.customer_id)
            report.erased += 1
        else:
            report.kept += 1
        store.drop_retention(marker)
    except Exception as error:
        report.skipped.append(SkippedItem(kind="customer", id=marker.customer_id, reason=type(error).__name__))


def pseudonymiser(ledger: Ledger, clock: Clock, gateway: PaymentGateway | None) -> Pseudonymise:
    """The job's erasure: the customer's Stripe customer deleted too, audited as the scheduler."""

    def erase(customer_id: str) -> object:
        return pseudonymise_customer(
            ledger, clock, customer_id, actor=JOB_ACTOR, gateway=gateway, cause=ErasureCause.RETENTION
        )

    return erase
