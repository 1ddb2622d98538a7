"""The local stack's moto at scale: 100,000 items, as the services write them, in the same patched moto
server `make dev` runs (local/aws.py, local/moto_patches.py). Prints resident memory, milliseconds per
`TransactWriteItems` (median and p95, committed and cancelled), and the same writes with moto's own deep
copy on a smaller table in the same run. Run in a fresh process (`python -m benchmarks.local_stack`), so
the memory is the stack's own; `make bench` does that."""

from __future__ import annotations

import os
import socket
import statistics
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

from shared import schema

ITEMS = int(os.environ.get("PAYPORTAL_BENCH_LOCAL_ITEMS", "100000"))
# moto's own TransactWriteItems copies the table once per item of the transaction: measured on fewer items.
UNPATCHED_ITEMS = 1_000
WRITES = 200  # timed transactions of each kind on the large table
UNPATCHED_WRITES = 10
INVOICES_PER_CUSTOMER = 4
NOW = datetime(2027, 3, 20, 15, tzinfo=UTC)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def memory_mb() -> tuple[float, float]:
    """This process's resident memory now and at its peak (VmRSS, VmHWM), in MB."""
    fields = {}
    with open("/proc/self/status") as status:
        for line in status:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                fields[name] = int(value.split()[0]) / 1024
    return fields["VmRSS"], fields["VmHWM"]


class _Capture:
    """A ledger for the fill: the services build their Changes as always; the items they would write in one
    transaction are kept for a batch write instead (conditions hold trivially on fresh ids)."""

    def __init__(self, table: str) -> None:
        self.table = table
        self.customers: dict[str, Any] = {}
        self.invoices: list[tuple[str, str]] = []  # (invoice id, customer id), a sample for the reads
        self.puts: list[dict[str, Any]] = []

    def commit(self, change: Any) -> None:
        from shared.adapters.dynamodb.writes import planned_writes

        for write in planned_writes(change, self.table, NOW):
            self.puts.append({"PutRequest": {"Item": write.request["Put"]["Item"]}})
        if change.new_customer is not None:
            self.customers[change.new_customer.id] = change.new_customer
        if change.new_invoice is not None and len(self.invoices) < 1_000:
            self.invoices.append((change.new_invoice.id, change.new_invoice.customer_id))

    def get_customer(self, customer_id: str) -> Any:
        return self.customers.get(customer_id)

    def get_dunning_policy(self) -> None:
        return None


def _fill(client: Any, table: str, items: int) -> tuple[int, list[tuple[str, str]]]:
    """Customers with a few invoices each, made by the services (audit entries, outbox events and emails,
    invoice numbers included), until the table holds `items`. Returns the count and some (invoice, customer)."""
    from shared.clock import FixedClock
    from shared.services.customers import CustomerDraft, create_customer
    from shared.services.invoices import InvoiceDraft, create_invoice

    capture = _Capture(table)
    clock = FixedClock(NOW)
    written = 0
    n = 0
    while written < items:
        customer = create_customer(
            capture, clock, CustomerDraft(email=f"payer{n}@bench.test", name=f"Payer {n}"), actor="bench"
        )  # type: ignore[arg-type]
        for k in range(INVOICES_PER_CUSTOMER):
            draft = InvoiceDraft(
                customer_id=customer.id, number=f"L-{n}-{k}", currency="USD", amount_due=12_500 + k * 100,
                due_date=date(2027, 4, 1) + timedelta(days=k * 30), description="Monthly service",
                allow_partial=True, notify=True,
            )  # fmt: skip
            create_invoice(capture, clock, draft, actor="bench")  # type: ignore[arg-type]
        n += 1
        while len(capture.puts) >= 25 or (capture.puts and written + len(capture.puts) >= items):
            batch, capture.puts = capture.puts[:25], capture.puts[25:]
            client.batch_write_item(RequestItems={table: batch})
            written += len(batch)
    return written, capture.invoices


@contextmanager
def _timing(client: Any, operation: str) -> Iterator[list[float]]:
    """Seconds per `operation` request (HTTP round trip to moto included), as the client saw them."""
    times: list[float] = []
    started: list[float] = []

    def before(**_: Any) -> None:
        started.append(time.perf_counter())

    def after(**_: Any) -> None:
        times.append(time.perf_counter() - started.pop())

    client.meta.events.register(f"before-call.dynamodb.{operation}", before)
    client.meta.events.register(f"after-call.dynamodb.{operation}", after)
    try:
        yield times
    finally:
        client.meta.events.unregister(f"before-call.dynamodb.{operation}", before)
        client.meta.events.unregister(f"after-call.dynamodb.{operation}", after)


def _writes(client: Any, table: str, count: int) -> tuple[list[float], list[float]]:
    """`count` invoices created through the service and DynamoLedger (one committed transaction each), then
    `count` more with numbers already taken (cancelled after the invoice's own Put, which is put back)."""
    from shared.adapters.dynamodb import DynamoLedger
    from shared.clock import FixedClock
    from shared.services.customers import CustomerDraft, create_customer
    from shared.services.invoices import InvoiceDraft, create_invoice
    from shared.services.ports import ChangeRejected

    ledger = DynamoLedger(client, table)
    clock = FixedClock(NOW)
    customer = create_customer(ledger, clock, CustomerDraft(email="timed@bench.test", name="Timed"), actor="bench")
    tag = uuid.uuid4().hex[:6]

    def draft(k: int) -> InvoiceDraft:
        return InvoiceDraft(
            customer_id=customer.id, number=f"T-{tag}-{k}", currency="USD", amount_due=5_000, due_date=date(2027, 5, 1)
        )

    with _timing(client, "TransactWriteItems") as committed:
        for k in range(count):
            create_invoice(ledger, clock, draft(k), actor="bench")
    with _timing(client, "TransactWriteItems") as cancelled:
        for k in range(count):
            try:
                create_invoice(ledger, clock, draft(k), actor="bench")
            except ChangeRejected:
                pass
            else:
                raise AssertionError("a duplicate invoice number was accepted")
    return committed, cancelled


def _reads(client: Any, table: str, invoices: list[tuple[str, str]]) -> dict[str, list[float]]:
    """GetItem by key, and Query on one partition and on the by_owner index: what pages and jobs do."""
    from shared.adapters.dynamodb.items import customer_key, invoice_partition, owner_partition

    figures: dict[str, list[float]] = {}
    with _timing(client, "GetItem") as figures["GetItem (one customer)"]:
        for _, customer_id in invoices:
            pk, sk = customer_key(customer_id)
            client.get_item(TableName=table, Key={"pk": {"S": pk}, "sk": {"S": sk}})
    with _timing(client, "Query") as figures["Query (one invoice's partition)"]:
        for invoice_id, _ in invoices:
            client.query(TableName=table, KeyConditionExpression="pk = :p",
                         ExpressionAttributeValues={":p": {"S": invoice_partition(invoice_id)}})  # fmt: skip
    with _timing(client, "Query") as figures["Query (by_owner index)"]:
        for _, customer_id in invoices:
            client.query(TableName=table, IndexName=schema.BY_OWNER_INDEX, KeyConditionExpression="gsi1pk = :p",
                         ExpressionAttributeValues={":p": {"S": owner_partition(customer_id)}})  # fmt: skip
    return figures


def _ms(times: list[float]) -> tuple[float, float]:
    ordered = sorted(times)
    return statistics.median(ordered) * 1000, ordered[max(0, round(len(ordered) * 0.95) - 1)] * 1000


def main() -> None:
    from moto.dynamodb.models import DynamoDBBackend

    from local import moto_patches
    from local.aws import MOTO_LOCK, MotoServer, client

    rss_start, _ = memory_mb()
    server = MotoServer(_free_port())
    url = server.start()  # patches moto, as `make dev` does
    dynamodb = client("dynamodb", url)
    big, small = f"bench-local-{uuid.uuid4().hex[:6]}", f"bench-local-small-{uuid.uuid4().hex[:6]}"
    for table in (big, small):
        dynamodb.create_table(**schema.create_table_kwargs(table))
    started = time.perf_counter()
    items, invoices = _fill(dynamodb, big, ITEMS)
    fill_s = time.perf_counter() - started
    rss_full, _ = memory_mb()
    committed, cancelled = _writes(dynamodb, big, WRITES)
    reads = _reads(dynamodb, big, invoices[::50][:20])
    rss_used, _ = memory_mb()
    _fill(dynamodb, small, UNPATCHED_ITEMS)
    small_committed, small_cancelled = _writes(dynamodb, small, UNPATCHED_WRITES)
    with MOTO_LOCK:
        patched = DynamoDBBackend.transact_write_items
        DynamoDBBackend.transact_write_items = moto_patches.original_transact_write_items()  # type: ignore[method-assign]
    try:
        deep_committed, deep_cancelled = _writes(dynamodb, small, UNPATCHED_WRITES)
    finally:
        with MOTO_LOCK:
            DynamoDBBackend.transact_write_items = patched  # type: ignore[method-assign]
    rss_end, rss_peak = memory_mb()
    started = time.perf_counter()
    server.stop()
    stop_s = time.perf_counter() - started

    print(f"Local stack's moto (patched, as `make dev` runs it): {items:,} items written by the services")
    print(
        f"  resident memory: {rss_start:.0f} MB at start, {rss_full:.0f} MB with {items:,} items, {rss_used:.0f} MB "
        f"after the writes and reads below (target < 1024 MB); {rss_end:.0f} MB at the end, after moto's deep "
        f"copies (peak {rss_peak:.0f} MB). Filled in {fill_s:.0f} s, stopped in {stop_s:.1f} s"
    )
    print(f"  {'TransactWriteItems (create_invoice)':44} {'median ms':>10} {'p95 ms':>8} {'writes':>7}")
    rows = [
        (f"committed, {items:,} items", committed),
        (f"cancelled (number taken), {items:,} items", cancelled),
        (f"committed, {UNPATCHED_ITEMS:,} items", small_committed),
        (f"cancelled, {UNPATCHED_ITEMS:,} items", small_cancelled),
        (f"moto's deep copy: committed, {UNPATCHED_ITEMS:,}", deep_committed),
        (f"moto's deep copy: cancelled, {UNPATCHED_ITEMS:,}", deep_cancelled),
    ]
    for name, times in rows:
        median, p95 = _ms(times)
        print(f"  {name:44} {median:10.1f} {p95:8.1f} {len(times):7d}")
    ours = _ms(committed + cancelled)[0]
    deep = _ms(deep_committed + deep_cancelled)[0]
    same = _ms(small_committed + small_cancelled)[0]
    print(
        f"  ratio (moto's deep copy on {UNPATCHED_ITEMS:,} items / patched on {items:,}): {deep / ours:.1f}x; "
        f"patched {items:,} / patched {UNPATCHED_ITEMS:,}: {ours / same:.2f}  (target: writes in milliseconds)"
    )
    print(f"  reads at {items:,} items (a table Query reads its partition, an index Query every item):")
    for name, times in reads.items():
        median, p95 = _ms(times)
        print(f"  {name:44} {median:10.1f} {p95:8.1f} {len(times):7d}")


if __name__ == "__main__":
    main()
