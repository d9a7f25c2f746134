"""The one server catalog (vibue/core/messages/*.json) and its language rules."""

from __future__ import annotations

import re
import string
from pathlib import Path
from types import SimpleNamespace

import pytest

from vibue.core import i18n
from vibue.core.i18n import DEFAULT, LANGUAGES, catalog, language, localized, translate


def _fields(template: str) -> list[str]:
    return [name for _, name, _, _ in string.Formatter().parse(template) if name]


def test_every_key_exists_in_every_language() -> None:
    # Both directions, for every area (errors, fields, pages, mails): a text only one language
    # has would otherwise go unnoticed until a citizen reads the German fallback.
    german = catalog(DEFAULT).keys()
    for lang in LANGUAGES:
        assert sorted(german - catalog(lang).keys()) == [], f"missing in {lang}"
        assert sorted(catalog(lang).keys() - german) == [], f"only in {lang}"


def test_placeholders_match_between_languages() -> None:
    # A placeholder only one language has is filled in one and printed raw ("{reference}") in the other.
    for lang in LANGUAGES:
        for key, german in catalog(DEFAULT).items():
            assert sorted(_fields(catalog(lang)[key])) == sorted(_fields(german)), (lang, key)


def test_calendar_names_are_complete() -> None:
    # Mail dates name the weekday (ISO 1 = Monday) and the month (1 = January) from the catalog.
    for lang in LANGUAGES:
        texts = catalog(lang)
        assert [texts.get(f"mail.weekday.{day}") for day in range(1, 8)].count(None) == 0, lang
        assert [texts.get(f"mail.month.{month}") for month in range(1, 13)].count(None) == 0, lang
        assert "mail.weekday.0" not in texts and "mail.month.13" not in texts
    assert translate("de", "mail.weekday.1") == "Montag"
    assert translate("en", "mail.month.12") == "December"


def test_unsupported_languages_read_german() -> None:
    assert [language(lang) for lang in ("de", "en", "fr", "EN", "", None)] == ["de", "en", "de", "de", "de", "de"]
    assert translate("fr", "mail.subject.reservation", reference="VB-1") == ("Bitte bestätigen Sie Ihren Termin (VB-1)")
    concern = SimpleNamespace(name_de="Führungszeugnis", name_en="Certificate of good conduct")
    assert [localized(concern, "name", lang) for lang in ("en", "de", "fr", None)] == [
        "Certificate of good conduct",
        "Führungszeugnis",
        "Führungszeugnis",
        "Führungszeugnis",
    ]


def test_empty_or_missing_english_falls_back_to_german(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(catalog("en"), "error.not_found")
    assert translate("en", "error.not_found") == translate("de", "error.not_found")
    assert translate("en", "no.such.key") == "no.such.key"
    concern = SimpleNamespace(name_de="Einzahlungen", name_en="", checklist_de=["Bargeld"], checklist_en=[])
    assert localized(concern, "name", "en") == "Einzahlungen"
    assert localized(concern, "checklist", "en") == ["Bargeld"]


def test_an_area_file_holds_only_its_own_keys(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Files are merged into one catalog; the area prefix keeps two files from defining one key.
    folder = tmp_path
    (folder / "de.json").write_text('{"error.x": "X"}', encoding="utf-8")
    (folder / "mail.de.json").write_text('{"error.x": "Y"}', encoding="utf-8")
    monkeypatch.setattr(i18n, "CATALOGS", folder)
    catalog.cache_clear()
    try:
        with pytest.raises(ValueError, match="does not start with mail"):
            catalog("de")
    finally:
        monkeypatch.undo()
        catalog.cache_clear()
    assert "mail.footer" in catalog("de")


def test_a_counted_text_reads_its_plural_form() -> None:
    # "Sie haben noch 1 Versuche" was one text for every count.
    assert translate("de", "error.identity_code_wrong", count=1) == "Der Code stimmt nicht. Sie haben noch 1 Versuch."
    assert translate("de", "error.identity_code_wrong", count=4).endswith("noch 4 Versuche.")
    assert translate("en", "error.identity_code_wrong", count=1).endswith("You have 1 attempt left.")
    assert translate("en", "error.identity_code_wrong", count=0).endswith("You have 0 attempts left.")


COUNTED = re.compile(r"(?<!:)\{\w+\} (Minuten?|Versuchen?|Tagen?|Tage|Personen|minutes?|attempts?|days?|people)\b")


def test_every_counted_text_has_both_plural_forms() -> None:
    # A count followed by its noun is a plural text; each of those has .one and .other in each language.
    for lang in LANGUAGES:
        texts = catalog(lang)
        counted = sorted(key for key, text in texts.items() if COUNTED.search(text))
        assert [key for key in counted if not key.endswith((".one", ".other"))] == [], lang
        for key in texts:
            base, _, form = key.rpartition(".")
            if form == "one":
                assert f"{base}.other" in texts, key
                assert base not in texts, f"{base} is both a text and a plural"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("en-GB,en;q=0.9", "en"),
        ("en-US", "en"),
        ("fr-FR,fr;q=0.9,en;q=0.8,de;q=0.7", "en"),
        ("de;q=0.3, en;q=0.9", "en"),
        ("en;q=0, de", "de"),
        ("fr", "de"),
        ("", "de"),
        ("*", "de"),
        ("en;q=abc", "de"),
    ],
)
def test_accept_language_picks_the_most_preferred_supported_language(header: str, expected: str) -> None:
    assert i18n.accepted_language(header) == expected
