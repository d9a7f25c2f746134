"""The client's catalogs (web/i18n/<lang>.json): the same keys and placeholders, counted texts as plurals."""

from __future__ import annotations

import json
import re
import string

from vibue.core.i18n import catalog
from vibue.core.paths import WEB

I18N = WEB / "i18n"
# Not "{minutes}:{seconds} Minuten", a clock reading.
COUNTED = re.compile(r"(?<!:)\{\w+\} (Minuten?|Versuchen?|Tagen?|Tage|Personen|minutes?|attempts?|days?|people)\b")


def texts(lang: str) -> dict[str, str]:
    data: dict[str, str] = json.loads((I18N / f"{lang}.json").read_text(encoding="utf-8"))
    return data


def _fields(template: str) -> list[str]:
    return sorted(name for _, name, _, _ in string.Formatter().parse(template) if name)


def test_both_languages_have_the_same_keys_and_placeholders() -> None:
    german, english = texts("de"), texts("en")
    assert sorted(german.keys() ^ english.keys()) == []
    assert [key for key in german if _fields(german[key]) != _fields(english[key])] == []


def test_every_counted_text_has_both_plural_forms() -> None:
    # "Dauer: ca. 1 Minuten": a count followed by its noun is stored as <key>.one and <key>.other,
    # which t() in web/js/i18n.js chooses by params.count.
    for lang in ("de", "en"):
        catalog = texts(lang)
        counted = [key for key, text in catalog.items() if COUNTED.search(text)]
        assert [key for key in counted if not key.endswith((".one", ".other"))] == [], lang
        for key in catalog:
            base, _, form = key.rpartition(".")
            if form == "one":  # "media.denied.other" is another browser's text, not a plural form
                assert f"{base}.other" in catalog, key
                assert "{count}" in catalog[key] and "{count}" in catalog[f"{base}.other"], key


def test_a_cancelled_appointment_is_called_one_word_everywhere() -> None:
    # The page said "abgesagt", the status and the mail "storniert": one word, in page, status and mail.
    german = [*texts("de").items(), *catalog("de").items()]
    assert [key for key, text in german if "storn" in text.lower()] == []
    english = [*texts("en").items(), *catalog("en").items()]
    assert [key for key, text in english if re.search(r"\b(annul|revok|withdr)", text.lower())] == []
