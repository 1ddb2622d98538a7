"""The running aggregates' "counters ready" marker, and what `payportal reports backfill` reads: every invoice
of the table (a paginated Scan: an ops command, never a route, job or report)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from shared.adapters.dynamodb import items
from shared.adapters.dynamodb.codec import deserialize, serialize
from shared.domain.invoices import Invoice


def mark_counters_ready(client: Any, table: str, since: date) -> None:
    """Write the marker, unless one is there already (the earliest mark is kept: a table whose counters were
    ready from its creation stays so when the backfill runs on it)."""
    try:
        client.put_item(
            TableName=table,
            Item=serialize(items.counters_ready_item(since)),
            ConditionExpression="attribute_not_exists(pk)",
        )
    except client.exceptions.ConditionalCheckFailedException:
        return


def mark_new_table(client: Any, table: str) -> None:
    """A table this code has just created holds no invoice from before the aggregates: ready from the start."""
    mark_counters_ready(client, table, date.min)


def scan_invoices(client: Any, table: str, *, page_size: int = 500) -> Iterator[Invoice]:
    """Every invoice of the table as items.py reads it, a page of the Scan at a time."""
    request: dict[str, Any] = {
        "TableName": table,
        "Limit": page_size,
        "FilterExpression": "#t = :invoice",
        "ExpressionAttributeNames": {"#t": "type"},
        "ExpressionAttributeValues": {":invoice": {"S": "invoice"}},
    }
    while True:
        page = client.scan(**request)
        for raw in page.get("Items", []):
            yield items.invoice_from(deserialize(raw))
        if "LastEvaluatedKey" not in page:
            return
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
