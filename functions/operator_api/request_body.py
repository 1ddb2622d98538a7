"""Reading an operator request's JSON body: whatever the bytes, the answer is a value or a JSONDecodeError.

Python's json raises other errors on hostile input: RecursionError on deep nesting, ValueError on an
integer of more than 4,300 digits. Both are JSON the API can never accept, so both become the
JSONDecodeError Powertools turns into our 400 `invalid_json`. A long but readable integer is kept as a
Decimal, which no integer field accepts: the caller gets a 422 naming the field instead.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

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
