"""Counting the invoices written before the running aggregates (`payportal reports backfill`, docs/deploy.md).

For each invoice not yet counted (Invoice.counted False), one Change: the invoice written counted, guarded by
its version, with the owed counters of its whole state (services.aggregates.tallied, as any first change of an
old invoice does). A change that wins the race counts the invoice itself; the backfill then reads it again and
finds it counted. When every invoice read is counted, the "counters ready" marker is written: the reports answer
from then on, and snapshots are kept from that day. Running it again counts nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC
from typing import Final

from shared.clock import Clock
from shared.domain.invoices import Invoice
from shared.domain.records import AuditEntry, AuditSubject
from shared.services.aggregates import owed_by, tallied
from shared.services.ports import Change, ChangeRejected, Ledger

ATTEMPTS: Final = 5


@dataclass
class CountersBackfill:
    read: int = 0  # invoices the scan returned
    counted: int = 0  # counted by the backfill
    counted_already: int = 0  # counted before (new invoices, or a live change counted it first)
    retried: int = 0  # commits lost to a live change, read again
    left: int = 0  # still uncounted (kept changing): the marker is not written
    ready: bool = False


def backfill_counters(
    ledger: Ledger, invoices: Iterable[Invoice], clock: Clock, *, dry_run: bool = False,
    say: Callable[[str], None] = lambda _: None,
) -> CountersBackfill:  # fmt: skip
    run = CountersBackfill()
    for invoice in invoices:
        run.read += 1
        if invoice.counted:
            run.counted_already += 1
        elif dry_run:
            run.counted += 1
        else:
            _count(ledger, invoice, clock, run)
    if not dry_run and run.left == 0:
        ledger.mark_counters_ready(clock.now().astimezone(UTC).date())
        run.ready = True
    verb = "would count" if dry_run else "counted"
    say(
        f"Read {run.read} invoice(s); {verb} {run.counted}, {run.counted_already} counted already, "
        f"{run.retried} read again after a change, {run.left} left uncounted; "
        + ("counters ready." if run.ready else "counters NOT ready: run it again.")
    )
    return run


def _count(ledger: Ledger, invoice: Invoice | None, clock: Clock, run: CountersBackfill) -> None:
    for _ in range(ATTEMPTS):
        if invoice is None:
            run.counted_already += 1  # deleted meanwhile: nothing to count
            return
        if invoice.counted:
            run.counted_already += 1
            return
        now = clock.now()
        audit = AuditEntry(
            AuditSubject.INVOICE,
            invoice.id,
            "invoice.counted",
            "job:reports-backfill",
            now,
            {"owed": owed_by(invoice), "currency": invoice.currency},
        )
        change = Change(invoice_update=replace(invoice, version=invoice.version + 1), audit=[audit])
        try:
            ledger.commit(tallied(change, now, invoice_before=invoice))
        except ChangeRejected:
            run.retried += 1
            invoice = ledger.get_invoice(invoice.id)
            continue
        run.counted += 1
        return
    run.left += 1
