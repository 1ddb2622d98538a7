"""Listing cursors: DynamoDB's LastEvaluatedKey, opaque to callers, checked when it comes back."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Sequence
from typing import Any, Final

from shared import schema
from shared.services.ports import (
    CustomerListing,
    InvalidCursor,
    InvoiceListing,
    PaymentListing,
    ReturnListing,
    listing_identity,
)

# The table's keys: in every LastEvaluatedKey, next to the queried index's two.
_TABLE_KEYS: Final = (schema.PARTITION_KEY, schema.SORT_KEY)
# DynamoDB's limit for a sort key, in bytes (a partition key may have 2,048): no key we hand out is longer.
_MAX_KEY_BYTES: Final = 1024


def encode_cursor(last_evaluated_key: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(last_evaluated_key, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(
    cursor: str, partition: str, partition_key: str, sort_key: str, *, sort_prefix: str = ""
) -> dict[str, Any]:
    """The ExclusiveStartKey a cursor stands for, if it has the shape of one a listing of `partition` handed
    out (the index's key and the table's, each a string) and, when one partition holds several listings,
    of the kind whose sort keys start with `sort_prefix`. Anything else is the caller's mistake, never a
    request DynamoDB would refuse."""
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(key, dict) or set(key) != {partition_key, sort_key, *_TABLE_KEYS}:
            raise ValueError("not the keys of this listing")
        values = {name: _string(attribute) for name, attribute in key.items()}
        if values[partition_key] != partition:
            raise ValueError("cursor belongs to another listing")
        if not values[sort_key].startswith(sort_prefix):
            raise ValueError("cursor belongs to another kind of listing")
    except (ValueError, KeyError, TypeError, RecursionError):
        raise InvalidCursor("the cursor is not valid for this listing", field="cursor") from None
    return key


def _string(attribute: object) -> str:
    """A key attribute as DynamoDB writes it in a LastEvaluatedKey: {"S": "..."}, non-empty and short."""
    if not isinstance(attribute, dict) or set(attribute) != {"S"}:
        raise ValueError("not a string attribute")
    value = attribute["S"]
    if not isinstance(value, str) or not value or len(value.encode()) > _MAX_KEY_BYTES:
        raise ValueError("not a key value")
    return value


def listing_fingerprint(listing: InvoiceListing | PaymentListing | CustomerListing | ReturnListing) -> str:
    """What a list cursor is bound to (ports.listing_identity), hashed."""
    return hashlib.sha256(listing_identity(listing).encode()).hexdigest()[:16]


def encode_list_cursor(fingerprint: str, partition: str, last_evaluated_key: dict[str, Any] | None) -> str:
    """Where a list goes on: in `partition` after that key (None: from its start), for this listing only."""
    payload = {"l": fingerprint, "p": partition, "k": last_evaluated_key}
    return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_list_cursor(
    cursor: str, fingerprint: str, partitions: Sequence[str], partition_key: str, sort_key: str
) -> tuple[str, dict[str, Any] | None]:
    """(partition, ExclusiveStartKey or None) of a cursor this listing handed out; anything else (altered,
    another listing's, another query's) is an InvalidCursor."""
    try:
        payload = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(payload, dict) or set(payload) != {"l", "p", "k"} or payload["l"] != fingerprint:
            raise ValueError("not a cursor of this listing")
        partition, key = payload["p"], payload["k"]
        if partition not in partitions:
            raise ValueError("not a partition of this listing")
        if key is not None:
            if not isinstance(key, dict) or set(key) != {partition_key, sort_key, *_TABLE_KEYS}:
                raise ValueError("not the keys of this listing")
            if _string(key[partition_key]) != partition or not all(_string(v) for v in key.values()):
                raise ValueError("cursor belongs to another partition")
    except (ValueError, KeyError, TypeError, RecursionError, binascii.Error):
        raise InvalidCursor("the cursor is not valid for this listing", field="cursor") from None
    return partition, key
