"""The dunning run at scale: 20,000 open invoices, 500 of them due. The index-driven run against a
naive full-table scan in the same run: items read per due invoice, DynamoDB requests per reminder, time."""

from __future__ import annotations

import os
import time
import uuid
from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from shared import schema

OPEN_INVOICES = int(os.environ.get("PAYPORTAL_BENCH_INVOICES", "20000"))
DUE = OPEN_INVOICES // 40
# moto copies the whole table for every item of a transaction, so sending is measured on a smaller table.
SEND_SAMPLE = 1_000
NOW = datetime(2027, 3, 20, 15, tzinfo=UTC)


def _seed(client: Any, table: str, open_invoices: int, due: int) -> None:
    from shared.adapters.dynamodb.codec import serialize
    from shared.adapters.dynamodb.items import invoice_item
    from shared.domain.dunning import DEFAULT_POLICY, due_reminder
    from shared.domain.invoices import Invoice, InvoiceStatus

    client.create_table(**schema.create_table_kwargs(table))
    batch: list[dict[str, Any]] = []
    for n in range(open_invoices):
        # The due ones fell due three days ago; the rest are due in two months.
        due_date = date(2027, 3, 17) if n < due else date(2027, 5, 20)
        invoice = Invoice(
            id=f"inv_{uuid.uuid4().hex}", customer_id="cust_bench", number=f"B-{n}", currency="USD",
            amount_due=10_000, amount_paid=0, status=InvoiceStatus.OPEN, due_date=due_date, description="",
            allow_partial=False, min_partial_amount=None, version=1, created_at=NOW - timedelta(days=30),
            customer_timezone="UTC", reminders_sent=frozenset({"-7:upcoming"}) if n < due else frozenset(),
        )  # fmt: skip
        first = due_reminder(DEFAULT_POLICY, due_date, "UTC", invoice.reminders_sent, NOW - timedelta(days=30))
        item = invoice_item(replace(invoice, next_action_at=first.send_at if first else None), NOW)
        batch.append({"PutRequest": {"Item": serialize(item)}})
        if len(batch) == 25:
            client.batch_write_item(RequestItems={table: batch})
            batch = []
    if batch:
        client.batch_write_item(RequestItems={table: batch})


def _counting(client: Any) -> tuple[Counter[str], Any]:
    counts: Counter[str] = Counter()

    def count(model: Any, parsed: dict[str, Any], **_: Any) -> None:
        counts[f"requests:{model.name}"] += 1
        counts["items_read"] += int(parsed.get("ScannedCount", 0))

    client.meta.events.register("after-call.dynamodb", count)
    return counts, count


def _naive_find(client: Any, table: str) -> RunFigures:
    """What a first version often does: scan everything and keep what is due. Only the finding is timed:
    the reminders it would then send are the same transactions as the indexed run's."""
    from shared.adapters.dynamodb.codec import deserialize

    counts, hook = _counting(client)
    started = time.perf_counter()
    stamp = NOW.strftime("%Y-%m-%dT%H:%M:%SZ")
    found = 0
    for page in client.get_paginator("scan").paginate(TableName=table):
        for raw in page["Items"]:
            item = deserialize(raw)
            found += item.get("type") == "invoice" and item.get("next_action_at", "9999") <= stamp
    elapsed = time.perf_counter() - started
    client.meta.events.unregister("after-call.dynamodb", hook)
    return RunFigures("naive full scan", found, counts, elapsed, elapsed)


def _indexed_find(client: Any, table: str) -> RunFigures:
    """What the dunning run reads: every shard of the due_work index, page by page, up to now."""
    from shared.adapters.dynamodb import DynamoLedger

    ledger = DynamoLedger(client, table)
    counts, hook = _counting(client)
    started = time.perf_counter()
    found = 0
    for shard in range(schema.DUE_WORK_SHARDS):
        cursor = None
        while True:
            page = ledger.due_invoices(shard, NOW, 100, cursor)
            found += len(page.items)
            cursor = page.next_cursor
            if cursor is None:
                break
    elapsed = time.perf_counter() - started
    client.meta.events.unregister("after-call.dynamodb", hook)
    return RunFigures("due_work index", found, counts, elapsed, elapsed)


def _send_all(client: Any, table: str) -> RunFigures:
    from shared.adapters.dynamodb import DynamoLedger
    from shared.clock import FixedClock
    from shared.services.reminders import run_reminders

    counts, hook = _counting(client)
    started = time.perf_counter()
    report = run_reminders(DynamoLedger(client, table), FixedClock(NOW))
    elapsed = time.perf_counter() - started
    client.meta.events.unregister("after-call.dynamodb", hook)
    return RunFigures("full run", report.sent, counts, elapsed, elapsed)


class RunFigures:
    def __init__(self, name: str, due: int, counts: Counter[str], finding: float, total: float) -> None:
        self.name, self.due, self.counts, self.finding, self.total = name, due, counts, finding, total

    @property
    def requests(self) -> int:
        return sum(v for k, v in self.counts.items() if k.startswith("requests:"))


def main() -> None:
    from botocore.config import Config

    from shared.adapters.aws import _session

    # moto scans 20,000 items slowly: a patient client, so the naive baseline is not cut short.
    config = Config(read_timeout=600, retries={"max_attempts": 1})
    client = _session().create_client("dynamodb", region_name=os.environ["AWS_DEFAULT_REGION"], config=config)
    table, small = f"bench-reminders-{uuid.uuid4().hex[:6]}", f"bench-send-{uuid.uuid4().hex[:6]}"
    print(f"Dunning run: {OPEN_INVOICES:,} open invoices, {DUE} due")
    _seed(client, table, OPEN_INVOICES, DUE)
    naive, indexed = _naive_find(client, table), _indexed_find(client, table)
    print(f"{'':18} {'due found':>9} {'items read/due':>15} {'find due (s)':>13}")
    for run in (naive, indexed):
        print(f"{run.name:18} {run.due:9d} {run.counts['items_read'] / DUE:15.2f} {run.finding:13.2f}")
    ratio_items = indexed.counts["items_read"] / max(naive.counts["items_read"], 1)
    print(
        f"ratios (index / naive): items read {ratio_items:.3f}, time to find the due invoices "
        f"{indexed.finding / naive.finding:.3f}  (target: items read per due invoice <= 1.1)"
    )
    _seed(client, small, SEND_SAMPLE, SEND_SAMPLE // 40)
    sent = _send_all(client, small)
    print(
        f"sending ({SEND_SAMPLE:,} invoices, {SEND_SAMPLE // 40} due): {sent.due} reminders, "
        f"{sent.requests / max(sent.due, 1):.2f} DynamoDB requests per reminder "
        f"({dict(sorted((k, v) for k, v in sent.counts.items() if k.startswith('requests:')))})"
    )
