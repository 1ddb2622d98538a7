"""Pages and emails from Jinja2 templates (autoescaped), amounts and dates formatted with Babel.

Formatting happens only here, at the edge: everything inside payportal is integers and ISO codes.
"""

from __future__ import annotations

import base64
import gettext
import hashlib
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from shared.domain.languages import SOURCE_LANGUAGE, served_language
from shared.domain.money import babel_locale, minor_unit_exponent
from shared.domain.payer_text import Amount, PayerText
from shared.domain.text import strip_bidi_controls

if TYPE_CHECKING:
    from jinja2 import Environment
    from jinja2.runtime import Context

TEMPLATES = Path(__file__).parent / "templates"
# Compiled catalogs, one per language (`make catalogs` writes them beside their .po; tests keep them fresh).
LOCALE_DIR = Path(__file__).parent / "locale"
CATALOG_DOMAIN = "messages"


class Formatted(str):
    """Text Babel formatted for a locale: its direction marks (Arabic and Hebrew amounts carry them) are
    kept, where those in free text are taken out (`neutralise`)."""

    __slots__ = ()


def format_money(amount: int, currency: str, locale: str) -> str:
    from babel.numbers import format_currency  # lazy: babel loads on the first page or email rendered

    value = Decimal(amount).scaleb(-minor_unit_exponent(currency))
    return Formatted(format_currency(value, currency, locale=babel_locale(locale)))


def major_units(amount: int, currency: str, locale: str) -> str:
    """A plain decimal for form inputs in the customer's locale, without grouping: 125.00, or 125,00 in
    de-DE, so that what the page fills in reads back as the same amount (shared.domain.money)."""
    from babel.numbers import format_decimal  # lazy: babel loads on the first page or email rendered

    exponent = minor_unit_exponent(currency)
    pattern = "0." + "0" * exponent if exponent else "0"
    return str(format_decimal(Decimal(amount).scaleb(-exponent), format=pattern, locale=babel_locale(locale)))


def format_day(day: date, locale: str) -> str:
    from babel.dates import format_date  # lazy: babel loads on the first page or email rendered

    return Formatted(format_date(day, format="long", locale=babel_locale(locale)))


def format_moment(moment: datetime, locale: str, timezone: str) -> str:
    from babel.dates import format_datetime  # lazy: babel loads on the first page or email rendered

    formatted = format_datetime(moment, format="medium", tzinfo=ZoneInfo(timezone), locale=babel_locale(locale))
    return Formatted(formatted)


def neutralise(value: Any) -> Any:
    """Every value a template prints passes here (Jinja's `finalize`): free text loses its bidi controls,
    even if one got into the table before input was cleaned (shared.domain.text)."""
    if isinstance(value, str) and not isinstance(value, Formatted):
        return strip_bidi_controls(value)
    return value


@cache
def translations(language: str) -> gettext.GNUTranslations:
    """The compiled catalog of a language payportal speaks, read once per container (stdlib gettext: no
    Babel on this path). A language without one is a packaging fault, not a reason to serve English."""
    path = LOCALE_DIR / served_language(language) / "LC_MESSAGES" / f"{CATALOG_DOMAIN}.mo"
    with path.open("rb") as catalog:
        return gettext.GNUTranslations(catalog)


def _language(context: Context) -> str:
    """The language a render is in: the `lang` it was given (the one `<html lang>` says), else English."""
    return served_language(str(context.get("lang") or SOURCE_LANGUAGE))


def _gettext(context: Context, message: str, /, **variables: Any) -> str:
    return _filled(context, translations(_language(context)).gettext(message), variables)


def _ngettext(context: Context, singular: str, plural: str, count: int, /, **variables: Any) -> str:
    return _filled(context, translations(_language(context)).ngettext(singular, plural, count), variables)


def _filled(context: Context, translated: str, variables: dict[str, Any]) -> str:
    """Jinja's new-style gettext, except that free text in the placeholders loses its bidi controls here, so
    the sentence as a whole keeps the direction marks Babel put in its amounts (`neutralise` lets Formatted
    text and FormattedMarkup by). In HTML the translation is markup we wrote and each placeholder is escaped
    (Markup's %)."""
    from markupsafe import Markup  # lazy: comes with Jinja2, which is loaded by now

    values = {key: neutralise(value) for key, value in variables.items()}
    if context.eval_ctx.autoescape:
        sentence = Markup(translated) % values  # noqa: S704  # the translation is ours (the catalogs), as in Jinja
        return _formatted_markup()(sentence)
    return Formatted(translated % values)


@cache
def _formatted_markup() -> type[str]:
    """Markup that `neutralise` lets by, as it does Formatted text: a translated sentence whose free text was
    neutralised when it was filled in. Built on first use: markupsafe loads with Jinja2."""
    from markupsafe import Markup

    class FormattedMarkup(Markup, Formatted):
        __slots__ = ()

    return FormattedMarkup


def _translate(context: Context, text: PayerText, locale: str) -> str:
    """A PayerText in the render's language, its dates and amounts formatted in `locale`."""
    catalog = translations(_language(context))
    if text.plural is not None:
        translated = catalog.ngettext(text.msgid, text.plural, text.count)
    else:
        translated = catalog.gettext(text.msgid)
    if not text.params:
        return translated
    return Formatted(translated % {key: _placeholder(value, locale) for key, value in text.params})


def _placeholder(value: object, locale: str) -> object:
    if isinstance(value, Amount):
        return format_money(value.minor, value.currency, locale)
    if isinstance(value, date):
        return format_day(value, locale)
    return neutralise(value)


@cache
def environment() -> Environment:
    # lazy: Jinja2 loads on the first render, never at import
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context, select_autoescape

    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"], default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=neutralise,
        extensions=["jinja2.ext.i18n"],
    )
    # Payer-facing text goes through gettext (`{{ _("...") }}`, `{% trans %}`), in the language of the render's
    # `lang`: one environment, so each template is compiled once for every language (decision 103).
    env.policies["ext.i18n.trimmed"] = True  # as babel.cfg extracts them: whitespace in {% trans %} collapses
    # Installed as the i18n extension's install_gettext_callables(newstyle=True) would, minus its wrapper: ours
    # fill the placeholders themselves (`_filled`).
    env.globals.update(gettext=pass_context(_gettext), ngettext=pass_context(_ngettext))
    env.newstyle_gettext = True  # type: ignore[attr-defined]  # added by the i18n extension
    env.filters["translate"] = pass_context(_translate)
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
    """(subject, text, html) from `emails/<name>.subject.txt`, `.txt` and `.html`; the HTML's <title> is the
    subject."""
    subject = render(f"emails/{name}.subject.txt", **context).strip()
    text = render(f"emails/{name}.txt", subject=subject, **context)
    return subject, text, render(f"emails/{name}.html", subject=subject, **context)


def qr_svg(text: str, *, title: str) -> str:
    """A QR code as inline SVG markup, drawn here: no image from elsewhere, no script on the page."""
    import segno  # lazy: only the console's TOTP enrolment draws one

    svg: str = segno.make(text, error="m").svg_inline(scale=5, border=4, title=title, dark="#000", light="#fff")
    return svg


@cache
def console_stylesheet() -> str:
    """console.css, then lists.css (the list and report pages' forms, tables and charts): one inline sheet."""
    return (TEMPLATES / "console" / "console.css").read_text() + (TEMPLATES / "console" / "lists.css").read_text()


@cache
def console_stylesheet_hash() -> str:
    digest = hashlib.sha256(console_stylesheet().encode()).digest()
    return "'sha256-" + base64.b64encode(digest).decode() + "'"


@cache
def operator_text_environment() -> Environment:
    """Text the operator edits (an incident notice): a sandbox, so a template can print what it is given and
    reach nothing else; the same gettext, filters and includes as payportal's own emails, no autoescape."""
    from jinja2 import FileSystemLoader, StrictUndefined, pass_context
    from jinja2.sandbox import SandboxedEnvironment

    env = SandboxedEnvironment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=False,  # plain text; the HTML part escapes it (emails/operator_text.html)
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=neutralise,
        extensions=["jinja2.ext.i18n"],
    )
    env.policies["ext.i18n.trimmed"] = True
    env.globals.update(gettext=pass_context(_gettext), ngettext=pass_context(_ngettext))
    env.newstyle_gettext = True  # type: ignore[attr-defined]  # added by the i18n extension
    env.filters["money"] = format_money
    env.filters["day"] = format_day
    return env


def render_operator_text(source: str, /, **context: Any) -> tuple[str, str, str]:
    """(subject, text, html) of an operator's template: its first non-blank line is the subject, the rest
    the text; the HTML shows that text, escaped, a paragraph per blank-line-separated block."""
    rendered = operator_text_environment().from_string(source).render(**context).strip()
    subject, _, text = rendered.partition("\n")
    text = text.strip() + "\n"
    paragraphs = [p.strip() for p in text.split("\n\n") if p.strip()]
    html = render("emails/operator_text.html", subject=subject.strip(), paragraphs=paragraphs, **context)
    return subject.strip(), text, html
