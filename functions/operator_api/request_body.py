"""Reading an operator request's JSON body: whatever the bytes, the answer is a value or a JSONDecodeError.

The operator API reads JSON only. A POST, PUT or PATCH that declares another content type is refused (415)
before Powertools sees it: Powertools would parse a form or a multipart body itself, and a multipart type
without its boundary raises a ValueError (a 500).

Python's json raises other errors on hostile input: RecursionError on deep nesting, ValueError on an
integer of more than 4,300 digits. Both are JSON the API can never accept, so both become the
JSONDecodeError Powertools turns into our 400 `invalid_json`. A long but readable integer is kept as a
Decimal, which no integer field accepts: the caller gets a 422 naming the field instead.

Every body the API takes is a JSON object. One that is JSON but not an object is refused (422) before
Powertools sees it too: Powertools takes the first element of an array where it expects one value (its rule
for a repeated query parameter, applied to bodies as well), so `[{...}]` would pass as `{...}`.
"""

from __future__ import annotations

import base64
import binascii
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


def body_is_not_an_object(event: Mapping[str, Any]) -> bool:
    """A POST, PUT or PATCH whose body reads as JSON but is not an object (an array, a string, a number).
    A body that does not read at all is left to Powertools, which answers it 400."""
    if str(event.get("httpMethod", "")).upper() not in _WITH_BODY or not event.get("body"):
        return False
    try:
        raw = event["body"]
        text = base64.b64decode(raw).decode() if event.get("isBase64Encoded") else str(raw)
        value = parse_json_body(text)
    except (binascii.Error, UnicodeDecodeError, json.JSONDecodeError):
        return False
    return not isinstance(value, dict)
