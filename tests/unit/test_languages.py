"""The customer's locale picks the language served by its language part, English where payportal has no
catalog; `lang` says the language actually served, and amounts keep the customer's full locale."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.domain.languages import LANGUAGES, served_language
from shared.domain.payer_text import Amount, payer_plural, payer_text
from shared.rendering import environment, format_money, render, translations


@pytest.mark.parametrize(
    ("locale", "language"),
    [
        ("de-DE", "de"),
        ("de-CH", "de"),
        ("pt-BR", "pt"),
        ("pt-PT", "pt"),
        ("fr-CA", "fr"),
        ("es-MX", "es"),
        ("en-GB", "en"),
        ("it-IT", "en"),  # no Italian catalog: English, and said so
        ("zh-Hant-TW", "en"),
        ("DE_de", "de"),
        ("", "en"),
        ("x", "en"),
    ],
)
def test_the_locale_picks_the_language_by_its_language_part(locale: str, language: str) -> None:
    assert served_language(locale) == language


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_language_has_a_compiled_catalog(lang: str) -> None:
    assert translations(lang).info().get("language") == lang


def page(name: str, lang: str, **context: object) -> str:
    return render(name, lang=lang, business_name="Acme GmbH", support_contact="help@acme.test", **context)


@pytest.mark.parametrize(
    ("lang", "heading"),
    [
        ("de", "Dieser Zahlungslink ist ungültig"),
        ("fr", "Ce lien de paiement n\u2019est pas valide"),
        ("es", "Este enlace de pago no es válido"),
        ("pt", "Este link de pagamento não é válido"),
        ("en", "This payment link is not valid"),
    ],
)
def test_a_page_is_in_the_language_its_lang_says(lang: str, heading: str) -> None:
    html = page("not_found.html", lang)
    assert f'<html lang="{lang}">' in html
    assert heading in html


def test_a_language_without_a_catalog_reads_english() -> None:
    html = page("not_found.html", "it")
    assert "This payment link is not valid" in html


def test_text_decided_in_python_is_translated_with_its_amounts_and_dates_in_the_full_locale() -> None:
    # Given a problem with an amount and one with dates, shown in a Swiss German customer's page
    problem = payer_text("Enter at least %(minimum)s.", minimum=Amount(5_000, "CHF"))
    window = payer_text(
        "Choose a date between %(earliest)s and %(latest)s.", earliest=date(2026, 12, 1), latest=date(2026, 12, 15)
    )
    # When the error page shows them in German, formatted for de-CH
    html = page("error.html", "de", locale="de-CH", heading=problem, message=window, token=None)
    # Then the words are German and the amount and dates are Swiss German
    assert "Geben Sie mindestens CHF\xa050.00 ein." in html
    assert "Wählen Sie ein Datum zwischen dem 1. Dezember 2026 und dem 15. Dezember 2026." in html


def test_a_count_picks_each_languages_plural_form() -> None:
    one = payer_plural(
        "Amounts in %(currency)s have at most %(count)s decimal.",
        "Amounts in %(currency)s have at most %(count)s decimals.",
        1,
        currency="KWD",
    )
    many = payer_plural(
        "Amounts in %(currency)s have at most %(count)s decimal.",
        "Amounts in %(currency)s have at most %(count)s decimals.",
        3,
        currency="KWD",
    )
    html = page("error.html", "fr", heading=one, message=many, token=None)
    assert "Les montants en KWD ont au plus 1 décimale." in html
    assert "Les montants en KWD ont au plus 3 décimales." in html
    assert one.english() == "Amounts in KWD have at most 1 decimal." and many.english().endswith("3 decimals.")


@given(st.text(max_size=40))
def test_any_locale_at_all_is_served_a_language_payportal_has(locale: str) -> None:
    assert served_language(locale) in LANGUAGES


@pytest.mark.parametrize("autoescape", [True, False])
def test_a_translated_sentence_keeps_an_amounts_direction_marks_and_drops_those_of_free_text(autoescape: bool) -> None:
    # Given an Arabic-locale amount (Babel marks its direction) and a name with an override in one sentence
    template = environment().from_string(
        "{% autoescape " + str(autoescape).lower() + ' %}{{ _("Hello %(name)s,", name=name) }} '
        '{{ _("Enter at least %(minimum)s.", minimum=minimum) }}{% endautoescape %}'
    )
    # When it is rendered
    text = template.render(lang="en", name="\u202eEve <b>", minimum=format_money(12_345, "USD", "ar-EG"))
    # Then the amount's mark stays, the name's override goes, and markup is escaped where HTML is written
    assert "\u200f" in text and "\u202e" not in text
    assert ("Eve &lt;b&gt;" if autoescape else "Eve <b>") in text
