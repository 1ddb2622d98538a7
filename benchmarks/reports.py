"""The reports at scale: N invoices (PAYPORTAL_BENCH_REPORT_ITEMS, default 20,000) over five currencies and
three years of due dates, about 20% still owed, each with its payment, and their running aggregates, built
straight into a table by the same derivation the use cases commit (services.aggregates.tallies_for). Then the
aging as of today, as of a past day (from the snapshot the balances run keeps, built here by its own code)
and the collections KPIs for a quarter, each against a full scan computing the same answer in the same run:
time, items read, ratio, and whether the answers agree (asserted). In the patched moto the local stack runs.
Also the digest's write-off section over ITEMS / 5 invoices in dunning (a table of their own): the owed list it
reads now against the due_work walk it read before, items read and whether the two lists agree (asserted).
"""

from __future__ import annotations

import os
import random
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from shared import schema

ITEMS = int(os.environ.get("PAYPORTAL_BENCH_REPORT_ITEMS", "20000"))
CURRENCIES = ("USD", "EUR", "GBP", "JPY", "CAD")
TODAY = datetime(2027, 3, 20, 15, tzinfo=UTC)
PAST = date(2026, 12, 10)  # a past as_of
QUARTER = (date(2026, 10, 1), date(2026, 12, 31))


@dataclass
class Seeded:
    invoices: int
    payments: int
    counters: int
    seconds: float


def _history(rng: random.Random, n: int) -> tuple[Any, Any | None, datetime | None]:
    """One invoice: as created, as it is now, and when it was paid (None: no payment)."""
    from shared.domain.invoices import Invoice, InvoiceStatus

    due = TODAY.date() + timedelta(days=60) - timedelta(days=rng.randrange(3 * 365))
    issued = datetime.combine(due - timedelta(days=30), datetime.min.time(), tzinfo=UTC) + timedelta(hours=9)
    created_at = min(issued, TODAY - timedelta(hours=1))  # nothing is issued after today
    amount = rng.randrange(10, 2_000) * 100
    created = Invoice(
        id=f"inv_{uuid.UUID(int=rng.getrandbits(128)).hex}", customer_id=f"cus_{n % 5_000}", number=f"B-{n}",
        currency=CURRENCIES[n % len(CURRENCIES)], amount_due=amount, amount_paid=0, status=InvoiceStatus.OPEN,
        due_date=due, description="Monthly service", allow_partial=True, min_partial_amount=None, version=1,
        created_at=created_at, customer_timezone="UTC",
    )  # fmt: skip
    paid_at = created_at + timedelta(days=rng.randrange(1, 75), hours=2)
    if paid_at > TODAY:
        return created, None, None  # not paid yet: owed
    roll = rng.random()
    if roll < 0.1:
        return created, created.with_payment(amount // 2), paid_at  # paid in part: still owed
    if roll < 0.16:
        return created, None, None  # never paid
    return created, created.with_payment(amount), paid_at


def _seed(client: Any, table: str, rng: random.Random) -> tuple[Seeded, list[tuple[Any, Any | None, datetime | None]]]:
    from shared.adapters.dynamodb.codec import serialize
    from shared.adapters.dynamodb.counters import mark_new_table
    from shared.adapters.dynamodb.items import invoice_item, payment_item, tally_item
    from shared.domain.invoices import PaymentStatus
    from shared.domain.records import Payment
    from shared.services.aggregates import tallies_for

    started = time.perf_counter()
    client.create_table(**schema.create_table_kwargs(table))
    mark_new_table(client, table)
    counters: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    histories = []
    puts: list[dict[str, Any]] = []
    payments = 0
    for n in range(ITEMS):
        created, after, paid_at = _history(rng, n)
        histories.append((created, after, paid_at))
        moves = [(None, created, created.created_at)] + ([(created, after, paid_at)] if after is not None else [])
        for before, now, at in moves:  # the same derivation the use cases commit, change by change
            assert at is not None
            for tally in tallies_for(before, now, at):
                for name, delta in tally.deltas.items():
                    counters[(tally.scope, tally.bucket)][name] += delta
        final = after or created
        puts.append(serialize(invoice_item(final, TODAY)))
        if after is not None and paid_at is not None:
            payments += 1
            payment = Payment(
                key=f"pi_{final.id[4:]}", invoice_id=final.id, customer_id=final.customer_id,
                amount=final.amount_paid, currency=final.currency, status=PaymentStatus.SUCCEEDED,
                checkout_session_id=None, payment_intent_id=f"pi_{final.id[4:]}",
                created_at=paid_at, updated_at=paid_at,
            )  # fmt: skip
            puts.append(serialize(payment_item(payment)))
    puts += [serialize(tally_item(scope, bucket, dict(fields))) for (scope, bucket), fields in counters.items()]
    for start in range(0, len(puts), 25):
        batch = [{"PutRequest": {"Item": item}} for item in puts[start : start + 25]]
        while batch:
            left = client.batch_write_item(RequestItems={table: batch}).get("UnprocessedItems", {})
            batch = left.get(table, [])
    return Seeded(ITEMS, payments, len(counters), time.perf_counter() - started), histories


class Reads:
    """DynamoDB requests and items read (what DynamoDB reads: ScannedCount for a Query or Scan, the items
    returned for GetItem and BatchGetItem) while a block runs."""

    def __init__(self) -> None:
        self.requests = 0
        self.items = 0

    def hook(self, parsed: dict[str, Any], **_: Any) -> None:
        self.requests += 1
        if "ScannedCount" in parsed:
            self.items += int(parsed["ScannedCount"])
        elif "Item" in parsed:
            self.items += 1
        elif "Responses" in parsed:
            self.items += sum(len(found) for found in parsed["Responses"].values())


def _measured(client: Any, run: Any) -> tuple[Any, Reads, float]:
    reads = Reads()
    client.meta.events.register("after-call.dynamodb", reads.hook)
    started = time.perf_counter()
    try:
        answer = run()
    finally:
        client.meta.events.unregister("after-call.dynamodb", reads.hook)
    return answer, reads, time.perf_counter() - started


# ----- what a first version does: read everything ---------------------------------------------------------------


def _scan(client: Any, table: str) -> tuple[list[Any], dict[str, list[Any]]]:
    from shared.adapters.dynamodb.codec import deserialize
    from shared.adapters.dynamodb.items import invoice_from, payment_from

    invoices, payments = [], defaultdict(list)
    for page in client.get_paginator("scan").paginate(TableName=table):
        for raw in page["Items"]:
            item = deserialize(raw)
            if item.get("type") == "invoice":
                invoices.append(invoice_from(item))
            elif item.get("type") == "payment":
                payment = payment_from(item)
                payments[payment.invoice_id].append(payment)
    return invoices, payments


def _owed_at_end_of(invoice: Any, payments: list[Any], day: date) -> int:
    if invoice.created_at.date() > day:
        return 0
    paid = sum(p.amount for p in payments if p.created_at.date() <= day)
    return max(0, invoice.amount_due - paid)


Scanned = tuple[list[Any], dict[str, list[Any]]]


def _scan_aging(scanned: Scanned, as_of: date) -> dict[str, dict[str, int]]:
    from shared.services.reports import AGING_BUCKETS, aging_bucket

    invoices, payments = scanned
    totals: dict[str, dict[str, int]] = {}
    for invoice in invoices:
        owed = _owed_at_end_of(invoice, payments[invoice.id], as_of)
        if owed:
            line = totals.setdefault(invoice.currency, dict.fromkeys(AGING_BUCKETS, 0))
            line[aging_bucket(as_of, invoice.due_date)] += owed
    return totals


def _scan_collections(scanned: Scanned, start: date, end: date) -> dict[str, dict[str, Any]]:
    """The quarter's KPI inputs and figures per currency, from every invoice and payment."""
    from shared.services.reports import _countback, aging_bucket

    invoices, payments = scanned
    out: dict[str, dict[str, Any]] = {}
    for code in CURRENCIES:
        mine = [i for i in invoices if i.currency == code]
        opening = sum(_owed_at_end_of(i, payments[i.id], start - timedelta(days=1)) for i in mine)
        closing = sum(_owed_at_end_of(i, payments[i.id], end) for i in mine)
        closing_current = sum(
            _owed_at_end_of(i, payments[i.id], end) for i in mine if aging_bucket(end, i.due_date) == "current"
        )
        invoiced = sum(i.amount_due for i in mine if start <= i.created_at.date() <= end)
        in_period = [(i, p) for i in mine for p in payments[i.id] if start <= p.created_at.date() <= end]
        collected = sum(p.amount for _, p in in_period)
        settled = [(i, p) for i, p in in_period if i.amount_paid >= i.amount_due]
        daily: dict[str, int] = defaultdict(int)
        monthly: dict[str, int] = defaultdict(int)
        for i in mine:
            daily[i.created_at.date().isoformat()] += i.amount_due
            monthly[i.created_at.strftime("%Y-%m")] += i.amount_due
        dso, _capped = _countback(closing, end, daily, monthly)
        days = (end - start).days + 1
        best = round(closing_current / invoiced * days, 1) if invoiced else None
        to_pay = sum((p.created_at.date() - i.created_at.date()).days for i, p in settled)
        on_time = sum(1 for i, p in settled if p.created_at.date() <= i.due_date)
        out[code] = {
            "receivables_start": opening,
            "receivables_end": closing,
            "receivables_end_current": closing_current,
            "invoiced": invoiced,
            "collected": collected,
            "invoices_paid": len(settled),
            "dso": round(dso, 1),
            "best_possible_dso": best,
            "collection_rate": round(collected / (opening + invoiced), 4) if opening + invoiced else None,
            "average_days_to_pay": round(to_pay / len(settled), 1) if settled else None,
            "paid_on_time_share": round(on_time / len(settled), 4) if settled else None,
        }
    return out


def _ours_collections(report: Any) -> dict[str, dict[str, Any]]:
    keys = ("receivables_start", "receivables_end", "receivables_end_current", "invoiced", "collected", "invoices_paid")
    figures = ("dso", "best_possible_dso", "collection_rate", "average_days_to_pay", "paid_on_time_share")
    return {
        line.currency: {k: line.inputs[k] for k in keys} | {f: line.figures[f] for f in figures}
        for line in report.currencies
    }


# ----- the digest's write-off section: the owed list against the due_work walk it replaced -----------------------

WRITE_OFF_DAYS = 60  # the bench's policy: written off 60 days after the due date
ZONES = ("UTC", "Pacific/Auckland", "America/Los_Angeles")


def _next_action(policy: Any, due: date, zone: str) -> datetime:
    """Where the dunning run leaves an invoice it has reminded of every step so far: the next step's send time,
    or its write-off (decision on reminders: nothing is sent on or after the write-off)."""
    from shared.domain.dunning import uncollectible_at

    write_off = uncollectible_at(policy, due, zone)
    assert write_off is not None
    for step in policy.steps:
        at = datetime.combine(due + timedelta(days=step.offset_days), datetime.min.time(), tzinfo=UTC)
        at += timedelta(hours=9)
        if at > TODAY:
            return min(at, write_off)
    return write_off


def _seed_dunning(client: Any, table: str, rng: random.Random, count: int) -> Any:
    """`count` invoices in dunning (about what 20% owed of ITEMS invoices is), due from WRITE_OFF_DAYS ago (older
    ones are written off: out of both indexes) to 60 days ahead, each with its due_work key and owed-list entries
    as the ledger writes them. Returns the policy, stored in the table."""
    from shared.adapters.dynamodb import DynamoLedger
    from shared.adapters.dynamodb.codec import serialize
    from shared.adapters.dynamodb.counters import mark_new_table
    from shared.adapters.dynamodb.items import INVOICE_LISTINGS, invoice_item, invoice_listing_item
    from shared.domain.dunning import DEFAULT_POLICY
    from shared.domain.invoices import Invoice, InvoiceStatus
    from shared.services.ports import Change

    client.create_table(**schema.create_table_kwargs(table))
    mark_new_table(client, table)
    policy = replace(DEFAULT_POLICY, mark_uncollectible_after_days=WRITE_OFF_DAYS)
    DynamoLedger(client, table).commit(Change(dunning_policy=policy))
    puts = []
    for n in range(count):
        due = TODAY.date() - timedelta(days=WRITE_OFF_DAYS - 1) + timedelta(days=rng.randrange(WRITE_OFF_DAYS + 60))
        zone = ZONES[n % len(ZONES)]
        invoice = Invoice(
            id=f"inv_{uuid.UUID(int=rng.getrandbits(128)).hex}", customer_id=f"cus_{n % 5_000}", number=f"D-{n}",
            currency=CURRENCIES[n % len(CURRENCIES)], amount_due=rng.randrange(10, 2_000) * 100, amount_paid=0,
            status=InvoiceStatus.OPEN, due_date=due, description="Monthly service", allow_partial=True,
            min_partial_amount=None, version=1, created_at=TODAY - timedelta(days=90), customer_timezone=zone,
            next_action_at=_next_action(policy, due, zone),
        )  # fmt: skip
        puts.append(serialize(invoice_item(invoice, TODAY)))
        owed_lists = [name for name in INVOICE_LISTINGS if name.startswith("OWED")]
        puts += [serialize(invoice_listing_item(name, invoice, TODAY)) for name in owed_lists]
    for start in range(0, len(puts), 25):
        batch = [{"PutRequest": {"Item": item}} for item in puts[start : start + 25]]
        while batch:
            left = client.batch_write_item(RequestItems={table: batch}).get("UnprocessedItems", {})
            batch = left.get(table, [])
    return policy


def _write_offs_by_due_work(ledger: Any, policy: Any) -> tuple[list[str], bool]:
    """What the digest read before: every due_work key due within the week, 8 shards x 20 pages of 100."""
    from shared.services.digest import WRITE_OFF_HORIZON, WRITE_OFFS_LISTED, _written_off_by

    horizon, found, truncated = TODAY + WRITE_OFF_HORIZON, [], False
    for shard in range(schema.DUE_WORK_SHARDS):
        cursor, pages = None, 0
        while True:
            page = ledger.due_invoices(shard, horizon, 100, cursor)
            pages += 1
            found += [soon for item in page.items if (soon := _written_off_by(item, policy, TODAY, horizon))]
            cursor = page.next_cursor
            if cursor is None or pages >= 20:
                truncated = truncated or cursor is not None
                break
    found.sort(key=lambda w: (w.write_off_on, w.number))
    return [w.number for w in found[:WRITE_OFFS_LISTED]], truncated or len(found) > WRITE_OFFS_LISTED


def _write_offs_case(client: Any) -> None:
    from shared.adapters.dynamodb import DynamoLedger
    from shared.services.digest import _write_offs_soon

    table = f"bench-writeoffs-{uuid.uuid4().hex[:6]}"
    count = ITEMS // 5
    policy = _seed_dunning(client, table, random.Random(13), count)
    ledger = DynamoLedger(client, table)
    before, before_reads, before_seconds = _measured(client, lambda: _write_offs_by_due_work(ledger, policy))
    after, after_reads, after_seconds = _measured(client, lambda: _write_offs_soon(ledger, TODAY, []))
    assert ([w.number for w in after.listed], after.more) == before, f"{after} != {before}"
    print(
        f"Digest write-offs: {count:,} invoices in dunning (written off {WRITE_OFF_DAYS} days after due,"
        f" three time zones), listing the {len(after.listed)} soonest, more: {after.more}"
    )
    print(f"  {'':36} {'requests':>8} {'items read':>10} {'time (s)':>9}")
    print(f"  {'due_work walk (before)':36} {before_reads.requests:8d} {before_reads.items:10,d} {before_seconds:9.3f}")
    print(f"  {'owed list (after)':36} {after_reads.requests:8d} {after_reads.items:10,d} {after_seconds:9.3f}")
    print(f"  ratio (after / before): items {after_reads.items / max(before_reads.items, 1):.4f}; lists equal")


def main() -> None:
    from botocore.config import Config

    from local import moto_patches

    # The moto `make dev` runs (this process's moto server): a Query reads its partition, not the whole table
    # (unpatched moto answers every Query from the whole table sorted, which would measure moto, not the design).
    moto_patches.install()

    from shared.adapters.aws import _session
    from shared.adapters.dynamodb import DynamoLedger
    from shared.clock import FixedClock
    from shared.services.reports import (
        AGING_SNAPSHOT,
        SNAPSHOT_KEPT,
        aging_as_of_end_of,
        aging_report,
        collections_report,
    )

    config = Config(read_timeout=900, retries={"max_attempts": 1})
    client = _session().create_client("dynamodb", region_name=os.environ["AWS_DEFAULT_REGION"], config=config)
    table = f"bench-reports-{uuid.uuid4().hex[:6]}"
    seeded, histories = _seed(client, table, random.Random(12))
    owed_now = sum(1 for _, after, _ in histories if after is None or after.amount_remaining)
    print(
        f"Reports: {seeded.invoices:,} invoices ({owed_now / seeded.invoices:.0%} still owed), {seeded.payments:,}"
        f" payments, {seeded.counters:,} counter items, five currencies, due dates over three years;"
        f" built in {seeded.seconds:.0f} s"
    )
    ledger = DynamoLedger(client, table)
    clock = FixedClock(TODAY)
    today = TODAY.date()
    _write_offs_case(client)

    # The balances run's own code keeps the snapshots a past as_of and the quarter read (timed: a job, not a route)
    def keep(day: date) -> None:
        ledger.save_snapshot(AGING_SNAPSHOT, day, aging_as_of_end_of(ledger, day, today), TODAY + SNAPSHOT_KEPT)

    days = (PAST, QUARTER[0] - timedelta(days=1), QUARTER[1])
    _, job, job_seconds = _measured(client, lambda: [keep(day) for day in days])
    print(f"  snapshot job (3 past days): {job.requests} requests, {job.items:,} items read, {job_seconds:.2f} s")

    def aging(as_of: date) -> dict[str, dict[str, int]]:
        return {line.currency: line.as_counts() for line in aging_report(ledger, clock, as_of).currencies}

    # One full scan (every report would need one; moto's Scan is slow enough that one is all a run can afford),
    # timed once and counted against each report, plus what computing that report from it takes.
    scanned, scan_reads, scan_seconds = _measured(client, lambda: _scan(client, table))
    cases = [
        ("aging as of today", lambda: aging(today), lambda: _scan_aging(scanned, today)),
        (f"aging as of {PAST.isoformat()}", lambda: aging(PAST), lambda: _scan_aging(scanned, PAST)),
        (
            f"collections {QUARTER[0].isoformat()}..{QUARTER[1].isoformat()}",
            lambda: _ours_collections(collections_report(ledger, clock, *QUARTER)),
            lambda: _scan_collections(scanned, *QUARTER),
        ),
    ]
    print(f"  {'report':36} {'':10} {'requests':>8} {'items read':>10} {'time (s)':>9}")
    for name, ours, scan in cases:
        answer, reads, seconds = _measured(client, ours)
        started = time.perf_counter()
        expected = scan()
        computed = scan_seconds + time.perf_counter() - started
        assert answer == expected, f"{name}: {answer} != {expected}"
        print(f"  {name:36} {'aggregates':10} {reads.requests:8d} {reads.items:10,d} {seconds:9.3f}")
        print(f"  {'':36} {'full scan':10} {scan_reads.requests:8d} {scan_reads.items:10,d} {computed:9.3f}")
        print(
            f"  {'':36} ratio (aggregates / scan): items {reads.items / max(scan_reads.items, 1):.4f},"
            f" time {seconds / max(computed, 1e-9):.4f}; answers equal"
        )


if __name__ == "__main__":
    main()
