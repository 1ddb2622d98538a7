"""Listing cursors: DynamoDB's LastEvaluatedKey, opaque to callers, checked when it comes back."""

from __future__ import annotations

import base64
import json
from typing import Any, Final

from shared import schema
from shared.services.ports import InvalidCursor

# The only attributes a LastEvaluatedKey of our listings holds (the table's and the queried index's keys).
_KEY_ATTRIBUTES: Final = frozenset(
    {
        schema.PARTITION_KEY,
        schema.SORT_KEY,
        schema.BY_OWNER_PK,
        schema.BY_OWNER_SK,
        schema.DUE_WORK_PK,
        schema.DUE_WORK_SK,
    }
)


def encode_cursor(last_evaluated_key: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(last_evaluated_key, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(
    cursor: str, partition: str, partition_key: str, *, sort_key: str | None = None, sort_prefix: str = ""
) -> dict[str, Any]:
    """The ExclusiveStartKey a cursor stands for, if it was handed out by a listing of `partition` (and, when
    one partition holds several listings, of the kind whose sort keys start with `sort_prefix`)."""
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if key[partition_key] != {"S": partition}:
            raise ValueError("cursor belongs to another listing")
        if sort_key is not None and not str(key[sort_key]["S"]).startswith(sort_prefix):
            raise ValueError("cursor belongs to another kind of listing")
        if not isinstance(key, dict) or set(key) - _KEY_ATTRIBUTES:
            raise ValueError("unexpected keys")
    except (ValueError, KeyError, TypeError):
        raise InvalidCursor("the cursor is not valid for this listing", field="cursor") from None
    return key
