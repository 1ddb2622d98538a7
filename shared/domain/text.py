"""Free text from outside (names, descriptions, reasons): without the Unicode controls that reorder it.

Bidirectional embedding, override and isolate controls (U+202A-U+202E, U+2066-U+2069) and the
direction marks (U+200E, U+200F, U+061C) are invisible, yet they make "Invoice 1007 \u202eFDP.exe" show
as something else, on a pay page or in an email. They are taken out where text comes in and again where
it is rendered (shared.rendering), so one that got into the table before is harmless too.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

BIDI_CONTROLS: Final = frozenset(
    "\u202a\u202b\u202c\u202d\u202e"  # LRE RLE PDF LRO RLO
    "\u2066\u2067\u2068\u2069"  # LRI RLI FSI PDI
    "\u200e\u200f\u061c"  # LRM RLM ALM
)
_REMOVE: Final = dict.fromkeys(map(ord, BIDI_CONTROLS))


def strip_bidi_controls(text: str) -> str:
    return text.translate(_REMOVE)


def has_bidi_controls(text: str) -> bool:
    return not BIDI_CONTROLS.isdisjoint(text)


EMAIL_ADDRESS_MAX: Final = 254  # RFC 5321's path limit, less the brackets
_EMAIL_ADDRESS: Final = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")


def is_email_address(text: str) -> bool:
    """What the operator API and the console take as a customer's address (SES refuses what this lets by)."""
    return len(text) <= EMAIL_ADDRESS_MAX and bool(_EMAIL_ADDRESS.match(text)) and not has_bidi_controls(text)


SEARCH_TEXT_CHARS: Final = 200  # what customer search compares (and what fits an index sort key)


def search_text(text: str) -> str:
    """How customer search compares names and emails, and the prefix asked: compatibility-normalised,
    case-folded, spaces collapsed, the first 200 characters."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())[:SEARCH_TEXT_CHARS]
