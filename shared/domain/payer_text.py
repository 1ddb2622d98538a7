"""Payer-facing text decided in Python (a problem with what the customer entered, a notice), translated
where it is shown.

`payer_text("Enter an amount such as %(example)s.", example="25,00")` keeps the English message (the msgid
that `make catalogs` extracts: the call is a gettext keyword) and its named placeholders; the page's
`translate` filter (shared.rendering) looks the message up in the customer's language and fills them in,
formatting dates and amounts in the customer's locale.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True, slots=True)
class Amount:
    """An amount placeholder: minor units of `currency`, formatted in the reader's locale."""

    minor: int
    currency: str


Placeholder = str | int | date | Amount


@dataclass(frozen=True, slots=True)
class PayerText:
    msgid: str  # English, with %(name)s placeholders
    params: tuple[tuple[str, Placeholder], ...] = ()
    plural: str | None = None  # the English plural, chosen by `count` (also a placeholder)
    count: int = 1

    def english(self) -> str:
        """The untranslated text with its placeholders as plain values (for logs and tests)."""
        text = self.plural if self.plural is not None and self.count != 1 else self.msgid
        return text % {key: _plain(value) for key, value in self.params} if self.params else text


def payer_text(msgid: str, /, **params: Placeholder) -> PayerText:
    return PayerText(msgid, tuple(sorted(params.items())))


def payer_plural(singular: str, plural: str, count: int, /, **params: Placeholder) -> PayerText:
    """A message with a count: each language picks its own plural form (`%(count)s` is a placeholder)."""
    return PayerText(singular, tuple(sorted({**params, "count": count}.items())), plural=plural, count=count)


def _plain(value: Placeholder) -> str:
    if isinstance(value, Amount):
        return f"{value.currency} {value.minor}"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
