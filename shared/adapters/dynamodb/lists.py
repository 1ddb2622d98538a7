"""The operator's lists over the table: each listing (shared/services/ports.py) is one partition or a run of
partitions of the lists or by_owner index, and a key condition over its sort key. Queries only, with
DynamoDB's Limit at the rows still wanted: no Scan, no filter expression."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final

from shared import schema
from shared.adapters.dynamodb import items
from shared.adapters.dynamodb.codec import deserialize
from shared.adapters.dynamodb.cursors import decode_list_cursor, encode_list_cursor, listing_fingerprint
from shared.domain.invoices import Invoice
from shared.domain.records import Dispute, DisputeStatus, ReturnKind
from shared.services.ports import (
    CustomerListing,
    InvalidCursor,
    InvoiceListing,
    Page,
    PaymentListing,
    Returned,
    ReturnListing,
)

_INVOICE_LISTS: Final = {"owed": "OWED", "held": "HELD", "promised": "PROMISED", "disputed": "DISPUTED"}
_AFTER_ID: Final = "$"  # sorts after "#": the last sort key of a day is below "{day}$"


@dataclass(frozen=True, slots=True)
class KeyRange:
    """One listing as DynamoDB reads it: its partitions in the order read, and the sort-key condition."""

    index: str
    partition_key: str
    sort_key: str
    partitions: tuple[str, ...]
    condition: str = ""  # on "#s", with :lo and :hi
    lo: str = ""
    hi: str = ""
    forward: bool = True


def invoice_range(listing: InvoiceListing) -> KeyRange | None:
    """The key range of an invoice listing (None: it is empty whatever the table holds)."""
    if listing.by == "customer":
        owner = items.owner_partition(listing.customer_id)
        return KeyRange(
            schema.BY_OWNER_INDEX, schema.BY_OWNER_PK, schema.BY_OWNER_SK, (owner,), "begins_with(#s, :lo)",
            lo=items.OWNED_INVOICES, forward=not listing.newest_first,
        )  # fmt: skip
    if listing.by == "status":
        partition = schema.invoice_status_partition(listing.status, listing.currency)
    else:
        currency = listing.currency or schema.EVERY_CURRENCY  # only the owed list has one across currencies
        partition = schema.invoice_listing_partition(_INVOICE_LISTS[listing.by], currency)
    lo, hi = listing.due_from, listing.due_until
    if lo is not None and hi is not None and lo >= hi:
        return None
    base = KeyRange(
        schema.LISTS_INDEX, schema.LISTS_PK, schema.LISTS_SK, (partition,), forward=not listing.newest_first
    )
    if lo is not None and hi is not None:
        return _with(base, "#s BETWEEN :lo AND :hi", lo.isoformat(), _last_of(hi - timedelta(days=1)))
    if lo is not None:
        return _with(base, "#s >= :lo", lo.isoformat(), "")
    if hi is not None:
        return _with(base, "#s < :hi", "", hi.isoformat())
    return base


def payment_range(listing: PaymentListing) -> KeyRange:
    """Newest first: one customer's payments in by_owner, or the months of the window in the lists index."""
    since, until = listing.since.astimezone(UTC), listing.until.astimezone(UTC)
    if listing.customer_id:
        owner = items.owner_partition(listing.customer_id)
        lo, hi = f"{items.OWNED_PAYMENTS}{since.isoformat()}", f"{items.OWNED_PAYMENTS}{until.isoformat()}"
        return KeyRange(
            schema.BY_OWNER_INDEX, schema.BY_OWNER_PK, schema.BY_OWNER_SK, (owner,), "#s BETWEEN :lo AND :hi",
            lo, hi, forward=False,
        )  # fmt: skip
    subset = listing.state or listing.currency or listing.method or None  # the planner asks for one at most
    months = [schema.payments_partition(m, subset) for m in _months(since, until)]
    return KeyRange(
        schema.LISTS_INDEX, schema.LISTS_PK, schema.LISTS_SK, tuple(reversed(months)), "#s BETWEEN :lo AND :hi",
        items.utc_stamp(since), items.utc_stamp(until), forward=False,
    )  # fmt: skip


def returns_range(listing: ReturnListing) -> KeyRange:
    """Oldest first: the months of the window in the lists index's returns partitions."""
    since, until = listing.since.astimezone(UTC), listing.until.astimezone(UTC)
    months = [schema.returns_partition(m) for m in _months(since, until)]
    return KeyRange(
        schema.LISTS_INDEX, schema.LISTS_PK, schema.LISTS_SK, tuple(months), "#s BETWEEN :lo AND :hi",
        items.utc_stamp(since), items.utc_stamp(until),
    )  # fmt: skip


def returned_from(item: dict[str, Any]) -> Returned:
    payment = items.payment_from(item)
    kind = ReturnKind(item["return_kind"])
    if kind is ReturnKind.REVERSAL:
        return Returned(payment, kind)
    if kind is ReturnKind.DISPUTE_LOST:
        dispute = Dispute(
            id=str(item["returned"]),
            invoice_id=payment.invoice_id,
            payment_intent_id=payment.payment_intent_id or payment.key,
            amount=int(item["dispute_amount"]),
            currency=payment.currency,
            reason=str(item.get("dispute_reason", "")),
            status=DisputeStatus.LOST,
            updated_at=datetime.fromisoformat(str(item["dispute_closed_at"])),
            fee=items.fee_from(item.get("dispute_fee")),
        )
        return Returned(payment, kind, dispute=dispute)
    return Returned(payment, kind, payment.refund(item["returned"]))


def customer_range(listing: CustomerListing) -> KeyRange:
    if listing.by == "all":
        return KeyRange(
            schema.BY_OWNER_INDEX, schema.BY_OWNER_PK, schema.BY_OWNER_SK, (schema.ALL_CUSTOMERS_PARTITION,),
            forward=False,
        )  # fmt: skip
    prefix = listing.prefix + "#" if listing.by == "email" else listing.prefix
    return KeyRange(
        schema.LISTS_INDEX, schema.LISTS_PK, schema.LISTS_SK, (schema.CUSTOMER_SEARCH_PARTITION,),
        "begins_with(#s, :lo)", prefix,
    )  # fmt: skip


class ListReader:
    """Pages of listings, one Query per partition read (more only when DynamoDB stops at 1 MB)."""

    def __init__(self, client: Any, table_name: str) -> None:
        self._db = client
        self._table = table_name

    def invoices(self, listing: InvoiceListing, limit: int, cursor: str | None) -> Page:
        if listing.by == "number":
            if cursor:
                raise InvalidCursor("the cursor is not valid for this listing", field="cursor")
            return Page(items=[i for i in [self._invoice_numbered(listing.number)] if i], next_cursor=None)
        key_range = invoice_range(listing)
        if key_range is None:
            return Page(items=[], next_cursor=None)
        found, next_cursor = self.page(key_range, listing, limit, cursor)
        return Page(items=[items.invoice_from(i) for i in found], next_cursor=next_cursor)

    def payments(self, listing: PaymentListing, limit: int, cursor: str | None) -> Page:
        found, next_cursor = self.page(payment_range(listing), listing, limit, cursor)
        payments = [items.payment_from(i) for i in found]
        # The keys hold the second; the window is to the microsecond.
        inside = [p for p in payments if listing.since <= p.created_at < listing.until]
        return Page(items=inside, next_cursor=next_cursor)

    def returns(self, listing: ReturnListing, limit: int, cursor: str | None) -> Page:
        found, next_cursor = self.page(returns_range(listing), listing, limit, cursor)
        # The keys hold the second; the window is to the microsecond.
        inside = [r for r in (returned_from(i) for i in found) if listing.since <= r.at < listing.until]
        return Page(items=inside, next_cursor=next_cursor)

    def customers(self, listing: CustomerListing, limit: int, cursor: str | None) -> Page:
        found, next_cursor = self.page(customer_range(listing), listing, limit, cursor)
        pairs = [("email" if i["type"] == "customer_listing" else "name", items.customer_from(i)) for i in found]
        return Page(items=pairs, next_cursor=next_cursor)

    def _invoice_numbered(self, number: str) -> Invoice | None:
        claim = self._get(items.invoice_number_key(number))
        found = self._get(items.invoice_key(str(claim["invoice_id"]))) if claim else None
        return items.invoice_from(found) if found else None

    def _get(self, key: items.Key) -> dict[str, Any] | None:
        found = self._db.get_item(TableName=self._table, Key={"pk": {"S": key[0]}, "sk": {"S": key[1]}}).get("Item")
        return deserialize(found) if found else None

    def page(
        self,
        key_range: KeyRange,
        listing: InvoiceListing | PaymentListing | CustomerListing | ReturnListing,
        limit: int,
        cursor: str | None,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Up to `limit` items of the range, walking its partitions in order, and where to go on."""
        fingerprint = listing_fingerprint(listing)
        partitions = key_range.partitions
        partition, start = partitions[0], None
        if cursor:
            partition, start = decode_list_cursor(
                cursor, fingerprint, partitions, key_range.partition_key, key_range.sort_key
            )
        found: list[dict[str, Any]] = []
        position = partitions.index(partition)
        while True:
            last = self._query(key_range, partitions[position], limit - len(found), start, found)
            if last is not None and len(found) < limit:
                start = last  # DynamoDB stopped at 1 MB: this partition goes on
                continue
            if last is not None:
                return found, encode_list_cursor(fingerprint, partitions[position], last)
            position, start = position + 1, None
            if position == len(partitions):
                return found, None
            if len(found) == limit:
                return found, encode_list_cursor(fingerprint, partitions[position], None)

    def _query(
        self,
        key_range: KeyRange,
        partition: str,
        limit: int,
        start: dict[str, Any] | None,
        found: list[dict[str, Any]],
    ) -> dict[str, Any] | None:
        names = {"#p": key_range.partition_key}
        values: dict[str, Any] = {":p": {"S": partition}}
        condition = "#p = :p"
        if key_range.condition:
            condition += f" AND {key_range.condition}"
            names["#s"] = key_range.sort_key
            values |= {
                f":{n}": {"S": v} for n, v in (("lo", key_range.lo), ("hi", key_range.hi)) if f":{n}" in condition
            }
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": key_range.index,
            "KeyConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
            "ScanIndexForward": key_range.forward,
            "Limit": limit,
        }
        if start is not None:
            request["ExclusiveStartKey"] = start
        reply = self._db.query(**request)
        found.extend(deserialize(i) for i in reply.get("Items", []))
        last: dict[str, Any] | None = reply.get("LastEvaluatedKey")
        return last


def _with(base: KeyRange, condition: str, lo: str, hi: str) -> KeyRange:
    return KeyRange(base.index, base.partition_key, base.sort_key, base.partitions, condition, lo, hi, base.forward)


def _last_of(day: date) -> str:
    return f"{day.isoformat()}{_AFTER_ID}"


def _months(since: datetime, until: datetime) -> list[str]:
    """The months (yyyy-mm, UTC) a window [since, until) touches, oldest first."""
    months, year, month = [], since.year, since.month
    last = (until - timedelta(microseconds=1)).astimezone(UTC)
    while (year, month) <= (last.year, last.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months
