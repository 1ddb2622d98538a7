"""The open balance at scale: 20,000 invoices, a quarter still open, in two currencies. The hourly
`balances` job (the sparse open_balances index) against a full-table scan in the same run: items and
bytes read, DynamoDB requests, time, and whether both sums agree."""

from __future__ import annotations

import json
import os
import time
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

from shared import schema

INVOICES = int(os.environ.get("PAYPORTAL_BENCH_INVOICES", "20000"))
OPEN = INVOICES // 4
NOW = datetime(2027, 3, 20, 15, tzinfo=UTC)


def _seed(client: Any, table: str) -> dict[str, int]:
    from shared.adapters.dynamodb.codec import serialize
    from shared.adapters.dynamodb.counters import mark_new_table
    from shared.adapters.dynamodb.items import invoice_item
    from shared.domain.invoices import Invoice, InvoiceStatus

    client.create_table(**schema.create_table_kwargs(table))
    mark_new_table(client, table)
    expected: Counter[str] = Counter()
    batch: list[dict[str, Any]] = []
    for n in range(INVOICES):
        still_open = n < OPEN
        currency = "EUR" if n % 3 == 0 else "USD"
        amount = 5_000 + n % 7 * 1_000
        paid = amount // 2 if still_open and n % 2 else (0 if still_open else amount)
        invoice = Invoice(
            id=f"inv_{uuid.uuid4().hex}", customer_id="cust_bench", number=f"B-{n}", currency=currency,
            amount_due=amount, amount_paid=paid,
            status=(InvoiceStatus.PARTIALLY_PAID if paid else InvoiceStatus.OPEN) if still_open else InvoiceStatus.PAID,
            due_date=date(2027, 4, 1), description="Monthly service, with a description of typical length",
            allow_partial=True, min_partial_amount=None, version=1, created_at=NOW - timedelta(days=30),
            customer_timezone="UTC",
        )  # fmt: skip
        if still_open:
            expected[currency] += amount - paid
        batch.append({"PutRequest": {"Item": serialize(invoice_item(invoice, NOW))}})
        if len(batch) == 25:
            client.batch_write_item(RequestItems={table: batch})
            batch = []
    if batch:
        client.batch_write_item(RequestItems={table: batch})
    return dict(expected)


class Figures:
    def __init__(self, name: str) -> None:
        self.name = name
        self.requests = 0
        self.items = 0
        self.bytes = 0
        self.seconds = 0.0
        self.totals: dict[str, int] = {}

    def hook(self, model: Any, parsed: dict[str, Any], **_: Any) -> None:
        self.requests += 1
        self.items += int(parsed.get("ScannedCount", 0))
        # What DynamoDB bills a read by: the size of the items it reads (approximated by their JSON).
        self.bytes += sum(len(json.dumps(item)) for item in parsed.get("Items", []))


def _measure(client: Any, figures: Figures, run: Any) -> Figures:
    client.meta.events.register("after-call.dynamodb", figures.hook)
    started = time.perf_counter()
    figures.totals = run()
    figures.seconds = time.perf_counter() - started
    client.meta.events.unregister("after-call.dynamodb", figures.hook)
    return figures


def _scan_sum(client: Any, table: str) -> dict[str, int]:
    """What a first version does: read every item, keep the open invoices, sum what they still owe."""
    from shared.adapters.dynamodb.codec import deserialize

    totals: Counter[str] = Counter()
    for page in client.get_paginator("scan").paginate(TableName=table):
        for raw in page["Items"]:
            item = deserialize(raw)
            if item.get("type") == "invoice" and item["status"] in ("open", "partially_paid"):
                totals[item["currency"]] += max(0, int(item["amount_due"]) - int(item["amount_paid"]))
    return dict(totals)


def main() -> None:
    from botocore.config import Config

    from shared.adapters.aws import _session
    from shared.adapters.dynamodb import DynamoLedger

    config = Config(read_timeout=600, retries={"max_attempts": 1})
    client = _session().create_client("dynamodb", region_name=os.environ["AWS_DEFAULT_REGION"], config=config)
    table = f"bench-balances-{uuid.uuid4().hex[:6]}"
    print(f"Open balance: {INVOICES:,} invoices, {OPEN:,} still open, in USD and EUR")
    expected = _seed(client, table)
    scan = _measure(client, Figures("full table scan"), lambda: _scan_sum(client, table))
    ledger = DynamoLedger(client, table)
    index = _measure(
        client,
        Figures("open_balances index"),
        lambda: {currency: amount for currency, (amount, _) in ledger.open_balances().items()},
    )
    print(f"{'':22} {'requests':>8} {'items read':>10} {'KB read':>8} {'time (s)':>9}  sums right")
    for run in (scan, index):
        right = "yes" if run.totals == expected else f"NO {run.totals} != {expected}"
        print(f"{run.name:22} {run.requests:8d} {run.items:10,d} {run.bytes / 1024:8.0f} {run.seconds:9.2f}  {right}")
    print(
        f"ratios (index / scan): items read {index.items / max(scan.items, 1):.3f}, "
        f"bytes read {index.bytes / max(scan.bytes, 1):.3f}, time {index.seconds / max(scan.seconds, 1e-9):.3f}"
    )
