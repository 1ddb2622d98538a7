"""The reminders report at scale: a year and more of reminders, their counters built straight into the table
with the adapter's own item shapes (the same Tally writes a commit makes), and each reminder's audit entry. The
report (one Query of its counters) against a full-table scan counting the audit entries, in the same run: items
read, requests, time, and whether the two agree.

    PAYPORTAL_BENCH_ONLY=reminder_report make bench      (or python -m benchmarks.reminder_report)
    PAYPORTAL_BENCH_REMINDER_DAYS (400) x PAYPORTAL_BENCH_REMINDERS_PER_DAY (25) reminders

The scan's table holds only the reminders' audit entries and the counters, so its figure is a floor: a real
table also holds every invoice, link, payment and outbox message. moto answers a Query by walking its whole
table, so its times say little about DynamoDB's; the items read are what DynamoDB would read.
"""

from __future__ import annotations

import os
import time
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

from shared import schema

DAYS = int(os.environ.get("PAYPORTAL_BENCH_REMINDER_DAYS", "400"))
PER_DAY = int(os.environ.get("PAYPORTAL_BENCH_REMINDERS_PER_DAY", "25"))
FIRST_DAY = date(2026, 1, 1)
STEPS = (("-7:upcoming", "upcoming"), ("+0:due_today", "due_today"), ("+3:overdue", "overdue"),
         ("+7:overdue", "overdue"), ("+14:overdue", "overdue"), ("+30:final_notice", "final_notice"))  # fmt: skip


def _seed(client: Any, table: str) -> Counter[tuple[str, str]]:
    """Every reminder's audit entry, and the counters its commit would have moved. Returns sent per step."""
    from shared.adapters.dynamodb.codec import serialize
    from shared.adapters.dynamodb.items import audit_item
    from shared.adapters.dynamodb.writes import tally_write
    from shared.domain.records import REMINDER_CHANNEL_EMAIL, AuditEntry, AuditSubject, ReminderAttribution
    from shared.services import reminder_report
    from shared.services.ports import merged_tallies

    client.create_table(**schema.create_table_kwargs(table))
    sent: Counter[tuple[str, str]] = Counter()
    tallies = []
    batch: list[dict[str, Any]] = []
    for day in range(DAYS):
        at = datetime.combine(FIRST_DAY + timedelta(days=day), datetime.min.time(), tzinfo=UTC) + timedelta(hours=9)
        for n in range(PER_DAY):
            step, template = STEPS[n % len(STEPS)]
            invoice_id = f"inv_{uuid.uuid4().hex}"
            reminder = ReminderAttribution(step, template, REMINDER_CHANNEL_EMAIL, at)
            tallies.append(reminder_report.reminder_sent(invoice_id, reminder))
            sent[(step, template)] += 1
            entry = AuditEntry(AuditSubject.INVOICE, invoice_id, "invoice.reminder_sent", "scheduler", at,
                               {"step": step, "skipped": []})  # fmt: skip
            batch.append({"PutRequest": {"Item": serialize(audit_item(entry))}})
            if len(batch) == 25:
                client.batch_write_item(RequestItems={table: batch})
                batch = []
    if batch:
        client.batch_write_item(RequestItems={table: batch})
    for tally in merged_tallies(tallies):  # what each reminder's commit added, summed per counter item
        client.update_item(**tally_write(tally, table).request["Update"])
    return sent


def _counting(client: Any) -> tuple[Counter[str], Any]:
    counts: Counter[str] = Counter()

    def count(model: Any, parsed: dict[str, Any], **_: Any) -> None:
        counts[f"requests:{model.name}"] += 1
        counts["items_read"] += int(parsed.get("ScannedCount", parsed.get("Count", 0)))

    client.meta.events.register("after-call.dynamodb", count)
    return counts, count


def _by_report(
    client: Any, table: str, first: date, last: date
) -> tuple[dict[tuple[str, str], int], Counter[str], float]:
    from shared.adapters.dynamodb import DynamoLedger
    from shared.services.reminder_report import reminder_report

    counts, hook = _counting(client)
    started = time.perf_counter()
    report = reminder_report(DynamoLedger(client, table), first, last)
    elapsed = time.perf_counter() - started
    client.meta.events.unregister("after-call.dynamodb", hook)
    return {(t.step, t.template): t.sent for t in report.totals}, counts, elapsed


def _by_scan(
    client: Any, table: str, first: date, last: date
) -> tuple[dict[tuple[str, str], int], Counter[str], float]:
    """What a report without counters does: read every item and count the reminders' audit entries."""
    from shared.adapters.dynamodb.codec import deserialize

    templates = dict(STEPS)
    counts, hook = _counting(client)
    started = time.perf_counter()
    found: Counter[tuple[str, str]] = Counter()
    for page in client.get_paginator("scan").paginate(TableName=table):
        for raw in page["Items"]:
            item = deserialize(raw)
            if (
                item.get("action") == "invoice.reminder_sent"
                and first.isoformat() <= item["at"][:10] <= last.isoformat()
            ):
                step = item["details"]["step"]
                found[(step, templates[step])] += 1
    elapsed = time.perf_counter() - started
    client.meta.events.unregister("after-call.dynamodb", hook)
    return dict(found), counts, elapsed


def main() -> None:
    from botocore.config import Config

    from shared.adapters.aws import _session

    config = Config(read_timeout=600, retries={"max_attempts": 1})
    client = _session().create_client("dynamodb", region_name=os.environ["AWS_DEFAULT_REGION"], config=config)
    table = f"bench-reminder-report-{uuid.uuid4().hex[:6]}"
    print(f"Reminders report: {DAYS} days x {PER_DAY} reminders a day ({DAYS * PER_DAY:,} reminders)")
    sent = _seed(client, table)
    last = FIRST_DAY + timedelta(days=DAYS - 1)
    print(f"{'':34} {'items read':>10} {'requests':>9} {'seconds':>8} {'agrees':>7}")
    for label, first in (("a month", last - timedelta(days=29)), (f"{DAYS} days", FIRST_DAY)):
        report, report_counts, report_s = _by_report(client, table, first, last)
        scan, scan_counts, scan_s = _by_scan(client, table, first, last)
        expected = sent if first == FIRST_DAY else scan
        agrees = report == scan == expected
        for name, counts, seconds in (
            ("counters (report)", report_counts, report_s),
            ("full scan", scan_counts, scan_s),
        ):
            requests = sum(v for k, v in counts.items() if k.startswith("requests:"))
            print(f"{label + ', ' + name:34} {counts['items_read']:10d} {requests:9d} {seconds:8.2f} {agrees!s:>7}")
        ratio = report_counts["items_read"] / max(scan_counts["items_read"], 1)
        print(f"{'':34} ratio of items read (report / scan): {ratio:.3f}")
        assert agrees, (report, scan)


if __name__ == "__main__":
    from benchmarks.__main__ import environment, moto_server

    with moto_server() as port:
        os.environ.update(environment(port, None))
        main()
