"""The one server catalog (vibue/core/messages/*.json) and its language rules."""

from __future__ import annotations

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
