"""The languages payer-facing text is written in, and which one a customer's locale is served.

A customer's locale (`de-DE`, `pt-BR`, `fr-CA`) picks the language of pages and emails by its language
part; amounts and dates keep the full locale. A language payportal has no catalog for is served in English,
and the page says so (`lang="en"`), rather than claiming a language it does not speak.
"""

from __future__ import annotations

from typing import Final

SOURCE_LANGUAGE: Final = "en"  # what the templates and code are written in
# Each has a catalog in shared/locale/<language>/LC_MESSAGES/messages.po (`make catalogs`).
LANGUAGES: Final = ("en", "es", "fr", "de", "pt")


def served_language(locale: str) -> str:
    """The language a customer with `locale` reads: its language part if payportal speaks it, else English."""
    language = locale.replace("_", "-").split("-", 1)[0].strip().lower()
    return language if language in LANGUAGES else SOURCE_LANGUAGE
