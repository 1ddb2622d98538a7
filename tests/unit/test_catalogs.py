"""The message catalogs stay complete: what the sources say is in the template (messages.pot), every
language translates all of it with the same placeholders and every plural form, and the compiled .mo files
the functions read are the .po files as they stand. Each failure says how to fix it: `make catalogs`."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

from shared.domain.languages import LANGUAGES, SOURCE_LANGUAGE
from shared.rendering import LOCALE_DIR

REPO = Path(__file__).resolve().parents[2]
# As the Makefile's `catalogs` target extracts them: the same mapping, keywords and input folders.
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "payer_text": None, "payer_plural": (1, 2)}
INPUTS = ("shared", "functions")
FIX = "run `make catalogs`, then translate what it added to every shared/locale/<lang>/LC_MESSAGES/messages.po"
TRANSLATED = [lang for lang in LANGUAGES if lang != SOURCE_LANGUAGE]
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")

MessageKey = str | tuple[str, str]


def _key(message: Message) -> MessageKey:
    return message.id if isinstance(message.id, str) else (message.id[0], message.id[1])


def _catalog(path: Path) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle)


def _messages(catalog: Catalog) -> dict[MessageKey, Message]:
    return {_key(m): m for m in catalog if m.id}


def _extracted() -> set[MessageKey]:
    with (LOCALE_DIR / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    found: set[MessageKey] = set()
    for folder in INPUTS:
        for _file, _line, message, _comments, _context in extract_from_dir(
            REPO / folder, method_map, options_map, keywords=KEYWORDS
        ):
            found.add(message if isinstance(message, str) else (message[0], message[1]))
    return found


def _placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def _po(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po"


def test_the_template_holds_exactly_what_the_sources_say() -> None:
    template = set(_messages(_catalog(LOCALE_DIR / "messages.pot")))
    extracted = _extracted()

    missing, stale = extracted - template, template - extracted
    assert not missing, f"messages.pot lacks {sorted(map(str, missing))[:10]}: {FIX}"
    assert not stale, f"messages.pot holds messages no source uses any more, {sorted(map(str, stale))[:10]}: {FIX}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_language_has_a_catalog_of_the_templates_messages(lang: str) -> None:
    template = set(_messages(_catalog(LOCALE_DIR / "messages.pot")))
    assert _po(lang).is_file(), f"no catalog for {lang}: {FIX}"
    catalog = set(_messages(_catalog(_po(lang))))

    assert not template - catalog, f"{lang} lacks {sorted(map(str, template - catalog))[:10]}: {FIX}"
    assert not catalog - template, f"{lang} holds obsolete {sorted(map(str, catalog - template))[:10]}: {FIX}"


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_message_is_translated_with_its_placeholders_and_plural_forms(lang: str) -> None:
    catalog = _catalog(_po(lang))
    problems: list[str] = []
    for key, message in _messages(catalog).items():
        english = [message.id] if isinstance(message.id, str) else list(message.id)
        forms = [message.string] if isinstance(message.string, str) else list(message.string)
        if message.fuzzy:
            problems.append(f"{key!r} is fuzzy (its English changed): check the translation, drop the flag")
        if isinstance(message.id, tuple) and len(forms) != catalog.num_plurals:
            problems.append(f"{key!r} has {len(forms)} plural forms, {lang} needs {catalog.num_plurals}")
        expected = _placeholders(english[-1])
        for form in forms:
            if not form.strip():
                problems.append(f"{key!r} is not translated")
            elif _placeholders(form) - {"count"} != expected - {"count"} or not _placeholders(form) <= expected:
                problems.append(f"{key!r}: placeholders {sorted(_placeholders(form))}, English {sorted(expected)}")
        problems.extend(f"{key!r}: {error}" for error in (message.check(catalog) or ()))
    assert not problems, f"shared/locale/{lang}/LC_MESSAGES/messages.po:\n" + "\n".join(problems) + f"\n{FIX}"


def _compiled(catalog: Catalog) -> dict[MessageKey, object]:
    """What a compiled catalog answers: each message's translation (all plural forms), and the plural rule."""
    answers: dict[MessageKey, object] = {_key(m): m.string for m in catalog if m.id and not m.fuzzy and m.string}
    return answers | {"": catalog.plural_forms}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_compiled_catalog_is_the_po_as_it_stands(lang: str) -> None:
    # Compiled from the .po now, and read back as the functions read it, it answers as the committed .mo does
    compiled = io.BytesIO()
    write_mo(compiled, _catalog(_po(lang)))
    compiled.seek(0)
    with (LOCALE_DIR / lang / "LC_MESSAGES" / "messages.mo").open("rb") as shipped:
        assert _compiled(read_mo(shipped)) == _compiled(read_mo(compiled)), (
            f"{lang}'s messages.mo is older than its messages.po: {FIX}"
        )
