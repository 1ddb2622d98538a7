"""Reading an operator request's JSON body: whatever the bytes, the answer is a value or a JSONDecodeError.

The operator API reads JSON only. A POST, PUT or PATCH that declares another content type is refused (415)
before Powertools sees it: Powertools would parse a form or a multipart body itself, and a multipart type
without its boundary raises a ValueError (a 500).

Python's json raises other errors on hostile input: RecursionError on deep nesting, ValueError on an
integer of more than 4,300 digits. Both are JSON the API can never accept, so both become the
JSONDecodeError Powertools turns into our 400 `invalid_json`. A long but readable integer is kept as a
Decimal, which no integer field accepts: the caller gets a 422 naming the field instead.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

JSON = "application/json"
_WITH_BODY = frozenset({"POST", "PUT", "PATCH"})

# More digits than any amount, count or limit the API takes (amounts stop at 99,999,999).
MAX_INTEGER_DIGITS = 30


def _integer(text: str) -> int | Decimal:
    return int(text) if len(text.lstrip("-")) <= MAX_INTEGER_DIGITS else Decimal(text)


def parse_json_body(text: str) -> Any:
    try:
        return json.loads(text, parse_int=_integer)
    except json.JSONDecodeError:
        raise
    except (RecursionError, ValueError) as error:
        raise json.JSONDecodeError(f"unreadable JSON: {type(error).__name__}", text, 0) from None


def declares_other_than_json(event: Mapping[str, Any]) -> bool:
    """A request that could carry a body and says it is not JSON (no Content-Type at all is read as JSON)."""
    if str(event.get("httpMethod", "")).upper() not in _WITH_BODY:
        return False
    headers = event.get("headers") or {}
    declared = next((str(v) for k, v in headers.items() if str(k).lower() == "content-type"), None)
    if declared is None:
        return False
    return declared.split(";", 1)[0].strip().lower() != JSON
