"""A one-off migration: give items written before the lists index the keys and list entries today's mappers
write (`payportal lists backfill`, docs/deploy.md).

It reads the whole table once (a paginated Scan: an ops command, never a route or a job) and rewrites each
invoice, customer and payment as items.py maps it now, with its list entries, in one transaction per record.
Each rewrite is guarded by the stored item's commit token (writes.py puts one on every item it writes), so
a record that changed while the backfill ran is never overwritten with what the backfill read: it is read
again and rewritten from that. Running it again rewrites the same items to the same content.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Final

from shared.adapters.dynamodb import items
from shared.adapters.dynamodb.codec import deserialize, serialize, wire_key
from shared.adapters.dynamodb.writes import COMMIT_ATTRIBUTE, REFUND_GIVEN_BACK

REWRITTEN_TYPES: Final = ("invoice", "customer", "payment")
_ATTEMPTS: Final = 5


@dataclass
class BackfillReport:
    scanned: int = 0
    rewritten: dict[str, int] = field(default_factory=lambda: dict.fromkeys(REWRITTEN_TYPES, 0))
    retried: int = 0  # records that changed while the backfill ran, read again


def backfill_list_entries(
    client: Any, table: str, *, now: datetime, dry_run: bool, say: Callable[[str], None], page_size: int = 500
) -> BackfillReport:
    report = BackfillReport()
    numbers: dict[str, str] = {}  # invoice id -> number, for payments written before they carried it
    for item in _scan(client, table, page_size, report):
        kind = item.get("type")
        if kind not in REWRITTEN_TYPES:
            continue
        if not dry_run:
            _rewrite(client, table, item, now, numbers, report)
        report.rewritten[kind] += 1
    verb = "would rewrite" if dry_run else "rewrote"
    counts = ", ".join(f"{count} {kind}(s)" for kind, count in report.rewritten.items())
    say(f"Scanned {report.scanned} item(s) of table {table}; {verb} {counts}; {report.retried} read again.")
    return report


def _scan(client: Any, table: str, page_size: int, report: BackfillReport) -> Iterator[dict[str, Any]]:
    request: dict[str, Any] = {"TableName": table, "Limit": page_size}
    while True:
        page = client.scan(**request)
        report.scanned += int(page.get("ScannedCount", 0))
        yield from (deserialize(raw) for raw in page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _rewrite(
    client: Any, table: str, stored: dict[str, Any], now: datetime, numbers: dict[str, str], report: BackfillReport
) -> None:
    for _ in range(_ATTEMPTS):
        puts = _items_now(client, table, stored, now, numbers)
        token = os.urandom(16).hex()
        guard = stored.get(COMMIT_ATTRIBUTE)
        condition = (
            {"ConditionExpression": "#c = :c", "ExpressionAttributeValues": {":c": {"S": guard}}}
            if guard
            else {"ConditionExpression": "attribute_exists(pk) AND attribute_not_exists(#c)"}
        )
        transaction = []
        for n, put in enumerate(puts):
            body: dict[str, Any] = {"TableName": table, "Item": serialize(put | {COMMIT_ATTRIBUTE: token})}
            if n == 0:  # the record itself: only over what was read
                body |= {"ExpressionAttributeNames": {"#c": COMMIT_ATTRIBUTE}} | condition
            transaction.append({"Put": body})
        try:
            client.transact_write_items(TransactItems=transaction, ClientRequestToken=token)
            return
        except client.exceptions.TransactionCanceledException:
            report.retried += 1
            found = client.get_item(TableName=table, Key=wire_key(stored["pk"], stored["sk"]), ConsistentRead=True)
            if "Item" not in found:
                return  # deleted meanwhile: nothing to list
            stored = deserialize(found["Item"])
    raise RuntimeError(f"{stored['pk']} kept changing; run the backfill again")


def _items_now(
    client: Any, table: str, stored: dict[str, Any], now: datetime, numbers: dict[str, str]
) -> list[dict[str, Any]]:
    """The record's item as items.py writes it today (its own first), with its list entries."""
    kind = stored["type"]
    if kind == "invoice":
        invoice = items.invoice_from(stored)
        main = items.invoice_item(invoice, now) | {"updated_at": stored.get("updated_at")}
        return [main, *(items.invoice_listing_item(name, invoice, now) for name in items.INVOICE_LISTINGS)]
    if kind == "customer":
        customer = items.customer_from(stored)
        return [items.customer_item(customer), items.customer_email_item(customer)]
    payment = items.payment_from(stored)
    if not payment.invoice_number:
        payment = replace(payment, invoice_number=_number_of(client, table, payment.invoice_id, numbers))
    returned = [items.refund_listing_item(payment, refund) for refund in payment.refunds]
    returned += [
        items.refund_failure_listing_item(payment, r) for r in payment.refunds if r.status in REFUND_GIVEN_BACK
    ]
    if payment.reversed:
        returned.append(items.reversal_listing_item(payment))
    return [
        items.payment_item(payment),
        items.payment_state_item(payment),
        items.payment_currency_item(payment),
        items.payment_method_item(payment),
        *returned,
    ]


def _number_of(client: Any, table: str, invoice_id: str, numbers: dict[str, str]) -> str:
    if invoice_id not in numbers:
        found = client.get_item(TableName=table, Key=wire_key(*items.invoice_key(invoice_id))).get("Item")
        numbers[invoice_id] = deserialize(found).get("number", "") if found else ""
    return numbers[invoice_id]
