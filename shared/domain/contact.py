"""How a customer reaches the business, as links a phone can tap."""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

_EMAIL = re.compile(r"[^@\s<>\"']+@[^@\s<>\"']+\.[^@\s<>\"']+")
_PHONE_PUNCTUATION = re.compile(r"[\s().\-/]")
_PHONE = re.compile(r"\+?[0-9]{5,15}")


def contact_href(contact: str) -> str:
    """`mailto:` for an email address, `tel:` for a phone number (digits, an optional leading +, spaces and
    the usual punctuation), an https URL as it is; "" for anything else, which is shown but not linked."""
    value = contact.strip()
    if _EMAIL.fullmatch(value):
        return "mailto:" + quote(value, safe="@.+-_")
    digits = _PHONE_PUNCTUATION.sub("", value)
    if _PHONE.fullmatch(digits):
        return "tel:" + digits
    if value.startswith("https://") and urlsplit(value).netloc:
        return value
    return ""


def url_origin(url: str) -> str:
    """https://pay.example.com of https://pay.example.com/some/path: what every link we send starts with."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
