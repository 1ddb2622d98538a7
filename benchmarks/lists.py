"""The operator's lists at scale: invoices over five currencies and three years of due dates, about 20% still
owed, their payments and customers, built straight into a table. Each first page (overdue=true in one
currency, yesterday's payments, a customers q= search) read through the list use cases, against a full
scan answering the same question in the same run: items read per row returned, and whether the rows agree.
PAYPORTAL_BENCH_LIST_ITEMS sets the number of invoices (default 20,000)."""

from __future__ import annotations

import os
import random
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from shared import schema

INVOICES = int(os.environ.get("PAYPORTAL_BENCH_LIST_ITEMS", "20000"))
# moto's Scan costs about 2 s per 1 MB page at 10,000 items, and more per page as the table grows (it orders
# the table for every page): past this many invoices the full scan's answers are computed from the items the
# run wrote (what a Scan would read: every one), and its time is not measured.
SCANNED_UP_TO = int(os.environ.get("PAYPORTAL_BENCH_LIST_SCAN_UP_TO", "20000"))
CURRENCIES = ("USD", "EUR", "GBP", "CAD", "AUD")
NOW = datetime(2027, 3, 20, 15, tzinfo=UTC)
FIRST_DUE = date(2024, 3, 21)  # three years of due dates up to today
PAGE = 100
FIRST_NAMES = ("Ann", "Bo", "Carla", "Dev", "Emil", "Fatou", "Gus", "Hana", "Ivo", "Jun", "Mara", "Marek", "Noor")
LAST_NAMES = ("Smith", "Okafor", "Lund", "Garcia", "Chen", "Novak", "Haddad", "Ito", "Mbeki", "Rossi")


def _seed(client: Any, table: str, kept: list[dict[str, Any]] | None = None) -> dict[str, int]:
    from shared.adapters.dynamodb.codec import serialize
    from shared.adapters.dynamodb.items import (
        INVOICE_LISTINGS,
        customer_email_item,
        customer_item,
        invoice_item,
        invoice_listing_item,
        payment_currency_item,
        payment_item,
        payment_method_item,
        payment_state_item,
    )
    from shared.domain.invoices import Invoice, InvoiceStatus, PaymentStatus
    from shared.domain.records import Customer, Payment

    client.create_table(**schema.create_table_kwargs(table))
    rng = random.Random(12)
    batch: list[dict[str, Any]] = []
    written = {"items": 0}

    def put(item: dict[str, Any]) -> None:
        batch.append({"PutRequest": {"Item": serialize(item)}})
        if kept is not None:
            kept.append(item)
        written["items"] += 1
        if len(batch) == 25:
            client.batch_write_item(RequestItems={table: list(batch)})
            batch.clear()

    customers = []
    for n in range(max(1, INVOICES // 10)):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        customer = Customer(
            id=f"cus_{n:06d}", email=f"{last.lower()}.{n}@example.com", name=f"{first} {last}", external_id=None,
            timezone=rng.choice(("Europe/London", "America/New_York", "Pacific/Auckland", "Asia/Tokyo")),
            locale="en-GB", created_at=NOW - timedelta(days=rng.randrange(1_000)),
        )  # fmt: skip
        customers.append(customer)
        put(customer_item(customer))
        put(customer_email_item(customer))
    span = (NOW.date() - FIRST_DUE).days
    for n in range(INVOICES):
        customer = customers[n % len(customers)]
        due = FIRST_DUE + timedelta(days=rng.randrange(span))
        owed = rng.random() < 0.2
        amount = 5_000 + rng.randrange(50) * 1_000
        paid = (amount // 3 if rng.random() < 0.3 else 0) if owed else amount
        status = (InvoiceStatus.PARTIALLY_PAID if paid else InvoiceStatus.OPEN) if owed else InvoiceStatus.PAID
        invoice = Invoice(
            id=f"inv_{uuid.UUID(int=rng.getrandbits(128)).hex}", customer_id=customer.id, number=f"B-{n:07d}",
            currency=CURRENCIES[n % len(CURRENCIES)], amount_due=amount, amount_paid=paid, status=status,
            due_date=due, description="Monthly service, with a description of typical length", allow_partial=True,
            min_partial_amount=None, version=1,
            created_at=datetime.combine(due, datetime.min.time(), UTC) - timedelta(days=30),
            customer_timezone=customer.timezone,
        )  # fmt: skip
        put(invoice_item(invoice, NOW))
        for name, listed in INVOICE_LISTINGS.items():
            if listed(invoice):
                put(invoice_listing_item(name, invoice, NOW))
        if paid:
            # Paid around the due date; the most recent ones around yesterday
            received = min(NOW - timedelta(minutes=5), datetime.combine(due, datetime.min.time(), UTC) + timedelta(
                hours=rng.randrange(-240, 240)))  # fmt: skip
            if rng.random() < 0.02:  # a late payer: paid yesterday
                received = NOW.replace(hour=0) - timedelta(seconds=rng.randrange(1, 86_400))
            payment = Payment(
                key=f"pi_{invoice.id[4:28]}", invoice_id=invoice.id, customer_id=customer.id, amount=paid,
                currency=invoice.currency, status=PaymentStatus.SUCCEEDED, checkout_session_id=None,
                payment_intent_id=f"pi_{invoice.id[4:28]}", created_at=received, updated_at=received,
                invoice_number=invoice.number,
            )  # fmt: skip
            put(payment_item(payment))
            put(payment_state_item(payment))
            put(payment_currency_item(payment))
            put(payment_method_item(payment))
    if batch:
        client.batch_write_item(RequestItems={table: list(batch)})
    return written


class Reads:
    def __init__(self) -> None:
        self.requests = 0
        self.items = 0

    def hook(self, parsed: dict[str, Any], **_: Any) -> None:
        self.requests += 1
        self.items += int(parsed.get("ScannedCount", 0))  # what DynamoDB read (and bills), kept or not


def _measure(client: Any, run: Callable[[], list[str]]) -> tuple[list[str], Reads, float]:
    reads = Reads()
    client.meta.events.register("after-call.dynamodb", reads.hook)
    started = time.perf_counter()
    rows = run()
    seconds = time.perf_counter() - started
    client.meta.events.unregister("after-call.dynamodb", reads.hook)
    return rows, reads, seconds


def _scan(client: Any) -> Callable[[str], list[dict[str, Any]]]:
    from shared.adapters.dynamodb.codec import deserialize

    def every(table: str) -> list[dict[str, Any]]:
        return [
            deserialize(i) for page in client.get_paginator("scan").paginate(TableName=table) for i in page["Items"]
        ]

    return every


def main() -> None:
    from botocore.config import Config

    from shared.adapters.aws import _session
    from shared.adapters.dynamodb import DynamoLedger
    from shared.adapters.dynamodb.items import invoice_from
    from shared.clock import FixedClock
    from shared.domain.text import search_text
    from shared.services import lists

    config = Config(read_timeout=600, retries={"max_attempts": 1})
    client = _session().create_client("dynamodb", region_name=os.environ["AWS_DEFAULT_REGION"], config=config)
    table = f"bench-lists-{uuid.uuid4().hex[:6]}"
    print(
        f"Lists: {INVOICES:,} invoices in {len(CURRENCIES)} currencies, due over three years, ~20% owed; "
        f"first pages of {PAGE}"
    )
    started = time.perf_counter()
    by_scan = INVOICES <= SCANNED_UP_TO
    seeded: list[dict[str, Any]] = []
    written = _seed(client, table, None if by_scan else seeded)
    print(f"  built {written['items']:,} items in {time.perf_counter() - started:.0f} s")
    ledger = DynamoLedger(client, table)
    clock = FixedClock(NOW)
    scan_once = _scan(client)
    scanned_items: list[dict[str, Any]] = []

    def scan(_table: str) -> list[dict[str, Any]]:
        """The one full scan's items: moto's Scan costs minutes per pass at this size, so the table is
        scanned once (measured below) and each question's scan answer is computed from what it read."""
        return scanned_items

    def overdue_page() -> list[str]:
        filters = lists.InvoiceFilters(overdue=True, currency="USD")
        return [r.invoice.id for r in lists.list_invoices(ledger, clock, filters, limit=PAGE, cursor=None).items]

    def overdue_scan() -> list[str]:
        found = [invoice_from(i) for i in scan(table) if i.get("type") == "invoice" and i["currency"] == "USD"]
        overdue = sorted((i for i in found if lists.days_overdue(i, NOW) > 0), key=lambda i: (i.due_date, i.id))
        return [i.id for i in overdue[:PAGE]]

    def overdue_everywhere_page() -> list[str]:
        filters = lists.InvoiceFilters(overdue=True)
        return [r.invoice.id for r in lists.list_invoices(ledger, clock, filters, limit=PAGE, cursor=None).items]

    def overdue_everywhere_scan() -> list[str]:
        found = [invoice_from(i) for i in scan(table) if i.get("type") == "invoice"]
        overdue = sorted((i for i in found if lists.days_overdue(i, NOW) > 0), key=lambda i: (i.due_date, i.id))
        return [i.id for i in overdue[:PAGE]]

    yesterday = datetime.combine(NOW.date() - timedelta(days=1), datetime.min.time(), UTC)
    today = yesterday + timedelta(days=1)

    def payments_page() -> list[str]:
        filters = lists.PaymentFilters(since=yesterday, until=today)
        return [p.key for p in lists.list_payments(ledger, clock, filters, limit=PAGE, cursor=None).items]

    def payments_scan() -> list[str]:
        found = [i for i in scan(table) if i.get("type") == "payment"]
        inside = [i for i in found if yesterday <= datetime.fromisoformat(i["created_at"]) < today]
        inside.sort(
            key=lambda i: (datetime.fromisoformat(i["created_at"]).strftime("%Y-%m-%dT%H:%M:%S"), i["key"]),
            reverse=True,
        )
        return [i["key"] for i in inside[:PAGE]]

    prefix = "mar"

    def customers_page() -> list[str]:
        page = lists.list_customers(ledger, lists.CustomerFilters(q=prefix), limit=PAGE, cursor=None)
        return [c.id for c in page.items]

    def customers_scan() -> list[str]:
        people = [i for i in scan(table) if i.get("type") == "customer"]
        entries = sorted(
            (f"{search_text(text)}#{c['id']}", under, c)
            for c in people
            for under, text in (("name", c["name"]), ("email", c["email"]))
            if search_text(text).startswith(prefix)
        )
        kept = [c["id"] for _, under, c in entries if under == "name" or not search_text(c["name"]).startswith(prefix)]
        return kept[:PAGE]

    print(
        f"  {'question':34} {'how':10} {'requests':>8} {'items read':>10} {'rows':>5} {'read/row':>9} {'time s':>7}"
        "  rows equal"
    )

    def read_everything() -> list[str]:
        scanned_items.extend(scan_once(table))
        return [str(len(scanned_items))]

    if by_scan:
        _, scan_reads, scan_seconds = _measure(client, read_everything)
    else:  # every item written, as a Scan reads them (through the codec both ways), and read all: no time
        from shared.adapters.dynamodb.codec import deserialize, serialize

        scanned_items.extend(deserialize(serialize(item)) for item in seeded)
        scan_reads, scan_seconds = Reads(), float("nan")
        scan_reads.items = len(scanned_items)
        print(f"  (full scan not run: its answers from the {len(scanned_items):,} items written, each read once)")
    for question, listed, scanned in (
        ("overdue=true&currency=USD", overdue_page, overdue_scan),
        ("overdue=true (every currency)", overdue_everywhere_page, overdue_everywhere_scan),
        ("payments since yesterday", payments_page, payments_scan),
        (f"customers q={prefix}", customers_page, customers_scan),
    ):
        rows, reads, seconds = _measure(client, listed)
        scan_rows = scanned()
        same = "yes" if rows == scan_rows else f"NO ({len(rows)} vs {len(scan_rows)})"
        for how, r, n, s in (
            ("list", reads, len(rows), seconds),
            ("full scan", scan_reads, len(scan_rows), scan_seconds),
        ):
            verdict = same if how == "list" else ""
            print(
                f"  {question:34} {how:10} {r.requests:8d} {r.items:10,d} {n:5d} {r.items / max(n, 1):9.2f} {s:7.2f}"
                f"  {verdict}"
            )
        print(f"  {'':34} ratio (list / scan): items read {reads.items / max(scan_reads.items, 1):.4f}")
