"""The charge run at scale: 10,000 active installment plans, 200 with a charge due. The indexed run against
a naive full-table scan in the same run: items read per due charge; then DynamoDB and Stripe requests per
charged installment (Stripe counted at the gateway: the run's only Stripe call per installment)."""

from __future__ import annotations

import os
import time
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

from shared import schema

PLANS = int(os.environ.get("PAYPORTAL_BENCH_PLANS", "10000"))
DUE = PLANS // 50
# moto copies the whole table for every item of a transaction, so charging is measured on a smaller table.
CHARGE_SAMPLE = 500
NOW = datetime(2027, 3, 20, 15, tzinfo=UTC)


def _seed(client: Any, table: str, plans: int, due: int) -> None:
    from shared.adapters.dynamodb.codec import serialize
    from shared.adapters.dynamodb.items import customer_item, invoice_item, plan_item
    from shared.domain.invoices import Invoice, InvoiceStatus
    from shared.domain.records import Customer, Installment, InstallmentStatus, Plan, PlanStatus

    client.create_table(**schema.create_table_kwargs(table))
    customer = Customer(
        id="cust_bench", email="b@bench.test", name="Bench", external_id=None, timezone="UTC", locale="en-US",
        created_at=NOW, stripe_customer_id="cus_bench",
    )  # fmt: skip
    batch: list[dict[str, Any]] = [{"PutRequest": {"Item": serialize(customer_item(customer))}}]
    for n in range(plans):
        second = date(2027, 3, 20) if n < due else date(2027, 4, 20)
        invoice = Invoice(
            id=f"inv_{uuid.uuid4().hex}", customer_id="cust_bench", number=f"P-{n}", currency="USD",
            amount_due=9_000, amount_paid=3_000, status=InvoiceStatus.PARTIALLY_PAID, due_date=date(2027, 2, 20),
            description="", allow_partial=False, min_partial_amount=None, version=2, created_at=NOW - timedelta(30),
            active_plan=f"plan_{n}",
        )  # fmt: skip
        plan = Plan(
            id=f"plan_{n}", invoice_id=invoice.id, customer_id="cust_bench", currency="USD", frequency="monthly",
            installments=(
                Installment(1, date(2027, 2, 20), 3_000, InstallmentStatus.PAID, 1, "pi_first"),
                Installment(2, second, 3_000),
                Installment(3, second + timedelta(days=30), 3_000),
            ),
            status=PlanStatus.ACTIVE, created_at=NOW - timedelta(30),
            next_action_at=datetime.combine(second, datetime.min.time(), tzinfo=UTC) + timedelta(hours=10),
        )  # fmt: skip
        batch += [
            {"PutRequest": {"Item": serialize(invoice_item(invoice, NOW))}},
            {"PutRequest": {"Item": serialize(plan_item(plan))}},
        ]
        while len(batch) >= 25:
            client.batch_write_item(RequestItems={table: batch[:25]})
            batch = batch[25:]
    if batch:
        client.batch_write_item(RequestItems={table: batch})


def _counting(client: Any) -> tuple[Counter[str], Any]:
    counts: Counter[str] = Counter()

    def count(model: Any, parsed: dict[str, Any], **_: Any) -> None:
        counts[f"requests:{model.name}"] += 1
        counts["items_read"] += int(parsed.get("ScannedCount", 0)) + len(
            next(iter((parsed.get("Responses") or {}).values()), [])
        )

    client.meta.events.register("after-call.dynamodb", count)
    return counts, count


class CountingStripe:
    def __init__(self) -> None:
        self.calls = 0

    def charge_off_session(self, request: Any) -> Any:
        from shared.services.gateway import ChargeOutcome

        self.calls += 1
        return ChargeOutcome(payment_intent_id=f"pi_{self.calls}", status="processing")


def main() -> None:
    from botocore.config import Config

    from shared.adapters.aws import _session
    from shared.adapters.dynamodb import DynamoLedger
    from shared.adapters.dynamodb.codec import deserialize
    from shared.clock import FixedClock
    from shared.services.charges import run_charges

    config = Config(read_timeout=600, retries={"max_attempts": 1})
    client = _session().create_client("dynamodb", region_name=os.environ["AWS_DEFAULT_REGION"], config=config)
    table, small = f"bench-plans-{uuid.uuid4().hex[:6]}", f"bench-charge-{uuid.uuid4().hex[:6]}"
    print(f"Charge run: {PLANS:,} active installment plans, {DUE} with a charge due")
    _seed(client, table, PLANS, DUE)

    counts, hook = _counting(client)
    started, found = time.perf_counter(), 0
    stamp = NOW.strftime("%Y-%m-%dT%H:%M:%SZ")
    for page in client.get_paginator("scan").paginate(TableName=table):
        for raw in page["Items"]:
            item = deserialize(raw)
            found += item.get("type") == "plan" and item.get("next_action_at", "9999") <= stamp
    naive = (found, counts["items_read"], time.perf_counter() - started)
    client.meta.events.unregister("after-call.dynamodb", hook)

    ledger = DynamoLedger(client, table)
    counts, hook = _counting(client)
    started, found = time.perf_counter(), 0
    for shard in range(schema.DUE_WORK_SHARDS):
        cursor = None
        while True:
            page = ledger.due_plans(shard, NOW, 50, cursor)
            found += len(page.items)
            cursor = page.next_cursor
            if cursor is None:
                break
    indexed = (found, counts["items_read"], time.perf_counter() - started)
    client.meta.events.unregister("after-call.dynamodb", hook)

    print(f"{'':18} {'due found':>9} {'items read/due':>15} {'find due (s)':>13}")
    for name, (due, read, seconds) in (("naive full scan", naive), ("due_work index", indexed)):
        print(f"{name:18} {due:9d} {read / DUE:15.2f} {seconds:13.2f}")
    print(
        f"ratios (index / naive): items read {indexed[1] / max(naive[1], 1):.3f}, time to find the due charges "
        f"{indexed[2] / naive[2]:.3f}"
    )

    _seed(client, small, CHARGE_SAMPLE, CHARGE_SAMPLE // 50)
    counts, hook = _counting(client)
    stripe = CountingStripe()
    report = run_charges(DynamoLedger(client, small), stripe, FixedClock(NOW))  # type: ignore[arg-type]
    client.meta.events.unregister("after-call.dynamodb", hook)
    requests = {k: v for k, v in sorted(counts.items()) if k.startswith("requests:")}
    charged = max(report.charged, 1)
    print(
        f"charging ({CHARGE_SAMPLE:,} plans, {CHARGE_SAMPLE // 50} due): {report.charged} PaymentIntents, "
        f"{sum(requests.values()) / charged:.2f} DynamoDB requests and {stripe.calls / charged:.2f} Stripe "
        f"PaymentIntent creations per installment ({requests})"
    )
