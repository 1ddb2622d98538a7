"""Bulk import, locally: a file of PAYPORTAL_BENCH_IMPORT_ROWS rows (default 1,000: half the customers with
two invoices each) checked and queued as POST /v1/imports does, then every chunk through the imports worker's
handler, as the SQS event source hands it over, on the moto `make dev` runs. Prints the rows per second and the
DynamoDB requests per row, then the same for the same file imported again (every row found and skipped)."""

from __future__ import annotations

import os
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from shared import schema

ROWS = int(os.environ.get("PAYPORTAL_BENCH_IMPORT_ROWS", "1000"))
NOW = datetime(2027, 3, 20, 15, tzinfo=UTC)
HEADER = "customer_external_id,customer_name,customer_email,invoice_number,currency,amount_minor,due_date"


def a_file(rows: int) -> str:
    lines = [HEADER]
    for n in range(rows):
        customer = n // 2
        lines.append(
            f"bench-{customer},Customer {customer},c{customer}@example.com,B-{n:07d},EUR,{1_000 + n},2027-06-30"
        )
    return "\n".join(lines) + "\n"


def _counting(client: Any) -> Counter[str]:
    counts: Counter[str] = Counter()

    def count(model: Any, **_: Any) -> None:
        counts[model.name] += 1

    client.meta.events.register("after-call.dynamodb", count)
    return counts


def _run_queue(sqs: Any, url: str, handler: Any, context: Any) -> int:
    ran = 0
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return ran
        for message in messages:
            record = {"messageId": message["MessageId"], "receiptHandle": message["ReceiptHandle"],
                      "body": message["Body"], "attributes": {}, "messageAttributes": {}, "eventSource": "aws:sqs",
                      "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:bench-imports", "awsRegion": "us-east-1",
                      "md5OfBody": message["MD5OfBody"]}  # fmt: skip
            assert handler({"Records": [record]}, context) == {"batchItemFailures": []}
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            ran += 1


def _import_once(content: str, sqs: Any, url: str, counts: Counter[str], key: str) -> dict[str, Any]:
    from functions.imports.handler import lambda_handler
    from shared import wiring
    from shared.clock import FixedClock
    from shared.domain.imports import FileFormat
    from shared.services import imports
    from tests.support import FakeLambdaContext

    clock = FixedClock(NOW)
    counts.clear()
    started = time.perf_counter()
    job = imports.start_import(
        wiring.import_store(), wiring.imports_queue(), clock, content, FileFormat.CSV, import_id=key, actor="bench"
    )
    queued = time.perf_counter() - started
    start_requests = sum(counts.values())
    counts.clear()
    started = time.perf_counter()
    chunks = _run_queue(sqs, url, lambda_handler, FakeLambdaContext())
    worked = time.perf_counter() - started
    done = imports.get_import(wiring.import_store(), job.id).job
    assert done.rows_done == ROWS, done
    return {"job": done, "queued": queued, "start_requests": start_requests, "chunks": chunks, "worked": worked,
            "requests": sum(counts.values()), "by_kind": dict(counts)}  # fmt: skip


def main() -> None:
    from shared import wiring
    from shared.adapters.aws import client
    from shared.adapters.dynamodb.counters import mark_new_table
    from shared.clock import FixedClock, use_clock

    table = f"bench-imports-{uuid.uuid4().hex[:6]}"
    os.environ["PAYPORTAL_TABLE"] = table
    os.environ["PAYPORTAL_IMPORTS_QUEUE_URL"] = ""
    wiring.reset()
    sqs = client("sqs")
    url = sqs.create_queue(QueueName=f"bench-imports-{uuid.uuid4().hex[:6]}")["QueueUrl"]
    os.environ["PAYPORTAL_IMPORTS_QUEUE_URL"] = url
    wiring.reset()
    dynamodb = client("dynamodb")  # cached: the one client every adapter of this process uses
    dynamodb.create_table(**schema.create_table_kwargs(table))
    mark_new_table(dynamodb, table)
    use_clock(FixedClock(NOW))
    counts = _counting(dynamodb)
    content = a_file(ROWS)
    print(f"Bulk import: {ROWS:,} rows ({(ROWS + 1) // 2:,} customers, {ROWS:,} invoices), {len(content):,} bytes, "
          f"chunks of 250, one worker")  # fmt: skip
    for label, key in (("first import", "imp_bench_1"), ("same file again", "imp_bench_2")):
        run = _import_once(content, sqs, url, counts, key)
        job = run["job"]
        rate = ROWS / run["worked"] if run["worked"] else 0.0
        print(
            f"  {label}: checked and queued in {run['queued']:.2f} s ({run['start_requests']} DynamoDB requests); "
            f"{run['chunks']} chunks in {run['worked']:.1f} s, {rate:,.0f} rows/s; "
            f"{run['requests'] / ROWS:.1f} DynamoDB requests per row; "
            f"{job.rows_imported:,} imported, {job.rows_skipped:,} skipped, {job.rows_rejected:,} rejected"
        )
        print(f"    requests: {dict(sorted(run['by_kind'].items()))}")
