"""Pages and emails from Jinja2 templates (autoescaped), amounts and dates formatted with Babel.

Formatting happens only here, at the edge: everything inside payportal is integers and ISO codes.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from shared.domain.money import minor_unit_exponent

if TYPE_CHECKING:
    from jinja2 import Environment

TEMPLATES = Path(__file__).parent / "templates"


def babel_locale(locale: str) -> str:
    return locale.replace("-", "_")


def format_money(amount: int, currency: str, locale: str) -> str:
    from babel.numbers import format_currency  # lazy: babel loads on the first page or email rendered

    value = Decimal(amount).scaleb(-minor_unit_exponent(currency))
    return str(format_currency(value, currency, locale=babel_locale(locale)))


def major_units(amount: int, currency: str) -> str:
    """A plain decimal for form inputs, e.g. 125.00."""
    exponent = minor_unit_exponent(currency)
    return f"{Decimal(amount).scaleb(-exponent):.{exponent}f}"


def format_day(day: date, locale: str) -> str:
    from babel.dates import format_date  # lazy: babel loads on the first page or email rendered

    return str(format_date(day, format="long", locale=babel_locale(locale)))


def format_moment(moment: datetime, locale: str, timezone: str) -> str:
    from babel.dates import format_datetime  # lazy: babel loads on the first page or email rendered

    return str(format_datetime(moment, format="medium", tzinfo=ZoneInfo(timezone), locale=babel_locale(locale)))


@cache
def environment() -> Environment:
    # lazy: Jinja2 loads on the first render, never at import
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"], default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["money"] = format_money
    env.filters["day"] = format_day
    env.filters["major_units"] = major_units
    env.globals["stylesheet"] = stylesheet()
    return env


@cache
def stylesheet() -> str:
    return (TEMPLATES / "page.css").read_text()


@cache
def stylesheet_hash() -> str:
    """CSP source for the one inline stylesheet: pages load nothing from elsewhere."""
    digest = hashlib.sha256(stylesheet().encode()).digest()
    return "'sha256-" + base64.b64encode(digest).decode() + "'"


def render(template_name: str, /, **context: Any) -> str:
    return environment().get_template(template_name).render(**context)


def render_email(name: str, /, **context: Any) -> tuple[str, str, str]:
    """(subject, text, html) from `emails/<name>.subject.txt`, `.txt` and `.html`."""
    subject = render(f"emails/{name}.subject.txt", **context).strip()
    return subject, render(f"emails/{name}.txt", **context), render(f"emails/{name}.html", **context)
