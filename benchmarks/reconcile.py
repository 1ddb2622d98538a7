"""Reconciliation's look at what is still pending, at scale: 10,000 payments, of which 100 are bank debits
pending longer than expected (and 100 more pending, but not for long yet) and 100 succeeded in the last hour
whose Stripe fee is still to be read (the rest have theirs). The due_work index against a naive full-table
scan in the same run: items read per payment found, and the time to find them."""

from __future__ import annotations

import os
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from shared import schema

PAYMENTS = int(os.environ.get("PAYPORTAL_BENCH_PAYMENTS", "10000"))
OVERDUE = PAYMENTS // 100
RECENT = PAYMENTS // 100
FEE_DUE = PAYMENTS // 100
NOW = datetime(2027, 3, 20, 15, tzinfo=UTC)


def _seed(client: Any, table: str) -> None:
    from shared.adapters.dynamodb.codec import serialize
    from shared.adapters.dynamodb.items import payment_item
    from shared.domain.invoices import PaymentStatus
    from shared.domain.records import Payment, ProcessorFee

    client.create_table(**schema.create_table_kwargs(table))
    batch: list[dict[str, Any]] = []
    for n in range(PAYMENTS):
        fee: ProcessorFee | None = ProcessorFee(152, "EUR", f"txn_{n}")
        if n < OVERDUE:
            status, created = PaymentStatus.PENDING, NOW - timedelta(days=20)
        elif n < OVERDUE + RECENT:
            status, created = PaymentStatus.PENDING, NOW - timedelta(days=2)
        elif n < OVERDUE + RECENT + FEE_DUE:
            status, created, fee = PaymentStatus.SUCCEEDED, NOW - timedelta(minutes=30), None
        else:
            status, created = PaymentStatus.SUCCEEDED, NOW - timedelta(days=n % 60)
        payment = Payment(
            key=f"pi_{uuid.uuid4().hex}", invoice_id=f"inv_{n}", customer_id=f"cust_{n % 500}", amount=4_200,
            currency="EUR", status=status, checkout_session_id=f"cs_{n}", payment_intent_id=f"pi_{n}",
            created_at=created, updated_at=created, fee=fee if status is PaymentStatus.SUCCEEDED else None,
        )  # fmt: skip
        batch.append({"PutRequest": {"Item": serialize(payment_item(payment))}})
        while len(batch) >= 25:
            client.batch_write_item(RequestItems={table: batch[:25]})
            batch = batch[25:]
    if batch:
        client.batch_write_item(RequestItems={table: batch})


def _counting(client: Any) -> tuple[Counter[str], Any]:
    counts: Counter[str] = Counter()

    def count(model: Any, parsed: dict[str, Any], **_: Any) -> None:
        counts["requests"] += 1
        counts["items_read"] += int(parsed.get("ScannedCount", 0))

    client.meta.events.register("after-call.dynamodb", count)
    return counts, count


def main() -> None:
    from botocore.config import Config

    from shared.adapters.aws import _session
    from shared.adapters.dynamodb import DynamoLedger
    from shared.adapters.dynamodb.codec import deserialize

    config = Config(read_timeout=600, retries={"max_attempts": 1})
    client = _session().create_client("dynamodb", region_name=os.environ["AWS_DEFAULT_REGION"], config=config)
    table = f"bench-reconcile-{uuid.uuid4().hex[:6]}"
    print(
        f"Reconcile's pending check: {PAYMENTS:,} payments, {OVERDUE} pending longer than expected, {RECENT} not "
        f"yet, {FEE_DUE} succeeded with their fee to read"
    )
    _seed(client, table)

    counts, hook = _counting(client)
    started, found = time.perf_counter(), 0
    limit = (NOW - timedelta(days=14)).isoformat()
    for page in client.get_paginator("scan").paginate(TableName=table):
        for raw in page["Items"]:
            item = deserialize(raw)
            overdue = item.get("status") == "pending" and str(item.get("created_at", "9999")) <= limit
            fee_due = item.get("status") == "succeeded" and not item.get("fee") and item.get("payment_intent_id")
            found += bool(overdue or fee_due)
    naive = (found, counts["items_read"], counts["requests"], time.perf_counter() - started)
    client.meta.events.unregister("after-call.dynamodb", hook)

    ledger = DynamoLedger(client, table)
    counts, hook = _counting(client)
    started, found = time.perf_counter(), 0
    for shard in range(schema.DUE_WORK_SHARDS):
        cursor = None
        while True:
            page = ledger.pending_payments_due(shard, NOW, 50, cursor)
            found += len(page.items)
            cursor = page.next_cursor
            if cursor is None:
                break
    indexed = (found, counts["items_read"], counts["requests"], time.perf_counter() - started)
    client.meta.events.unregister("after-call.dynamodb", hook)

    print(f"{'':18} {'found':>6} {'items read/found':>17} {'requests':>9} {'find (s)':>9}")
    for name, (hits, read, requests, seconds) in (("naive full scan", naive), ("due_work index", indexed)):
        print(f"{name:18} {hits:6d} {read / max(hits, 1):17.2f} {requests:9d} {seconds:9.2f}")
    print(
        f"ratios (index / naive): items read {indexed[1] / max(naive[1], 1):.3f}, time to find them "
        f"{indexed[3] / naive[3]:.3f}"
    )
