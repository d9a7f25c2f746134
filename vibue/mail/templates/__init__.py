"""Mail text catalogs, one module per language; German is the default.

Each catalog maps a key to a `str.format` template. Both catalogs must have the same keys
(a test checks), so a missing translation is caught before a citizen sees it.
"""

from __future__ import annotations

from collections.abc import Mapping

from vibue.mail.templates import de, en

DEFAULT_LANG = "de"
CATALOGS: Mapping[str, Mapping[str, str]] = {"de": de.TEXTS, "en": en.TEXTS}
WEEKDAYS: Mapping[str, tuple[str, ...]] = {"de": de.WEEKDAYS, "en": en.WEEKDAYS}
MONTHS: Mapping[str, tuple[str, ...]] = {"de": de.MONTHS, "en": en.MONTHS}


def language(lang: str | None) -> str:
    """The catalog language for an appointment's `lang`: English when asked for, else German."""
    return lang if lang is not None and lang in CATALOGS else DEFAULT_LANG


def text(lang: str, key: str, **params: object) -> str:
    return CATALOGS[language(lang)][key].format(**params)
