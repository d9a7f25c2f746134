"""The server's one text catalog (error, field, page and mail texts) and its language rules.

German is the default everywhere: an unsupported language reads German, and a text or model
field missing in English falls back to German, so a citizen never sees a key or an empty line.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from aiohttp import web

LANGUAGES = ("de", "en")
DEFAULT = "de"
LANG_COOKIE = "vibue_lang"
CATALOGS = Path(__file__).parent / "messages"


def language(lang: str | None) -> str:
    """The supported language for `lang` (an appointment's, a caller's): itself if supported, else German."""
    return lang if lang is not None and lang in LANGUAGES else DEFAULT


def _files(lang: str) -> list[Path]:
    # `<lang>.json` holds the error, field and page texts; `<area>.<lang>.json` one area each
    # (mail.de.json: the mail texts). Separate files keep each area readable on its own and
    # keep edits to one area from conflicting with edits to another.
    return [CATALOGS / f"{lang}.json", *sorted(CATALOGS.glob(f"*.{lang}.json"))]


@cache
def catalog(lang: str) -> dict[str, str]:
    """All texts of `lang`, from every catalog file of that language, as one key → template map."""
    merged: dict[str, str] = {}
    for path in _files(lang):
        with open(path, encoding="utf-8") as handle:
            data: object = json.load(handle)
        if not isinstance(data, dict):
            raise ValueError(f"{path.name}: a catalog is one JSON object")
        # An area file's keys carry the area as prefix (mail.*), so two files cannot define the
        # same key and which one wins never depends on load order.
        area = path.name.removesuffix(f".{lang}.json") if path.name != f"{lang}.json" else None
        for key, text in data.items():
            if not isinstance(text, str):
                raise ValueError(f"{path.name}: {key} is not a text")
            if area is not None and not key.startswith(f"{area}."):
                raise ValueError(f"{path.name}: {key} does not start with {area}.")
            if key in merged:
                raise ValueError(f"{path.name}: {key} is defined twice")
            merged[key] = text
    return merged


def plural_form(count: int) -> str:
    """The CLDR plural category of `count`; German and English share it: "one" for 1, else "other"."""
    return "one" if count == 1 else "other"


def translate(lang: str | None, key: str, **params: Any) -> str:
    """The text for `key` in `lang`, falling back to German, then to the key itself.

    A counted text is stored as `<key>.one` and `<key>.other` and chosen by the `count` parameter
    ("noch 1 Versuch" / "noch 2 Versuche"); the client's t() in web/js/i18n.js does the same.
    """
    texts, german = catalog(language(lang)), catalog(DEFAULT)
    count = params.get("count")
    if isinstance(count, int) and f"{key}.one" in german:
        key = f"{key}.{plural_form(count)}"
    text = texts.get(key) or german.get(key) or key
    try:
        return text.format(**params)
    except (KeyError, IndexError, ValueError):
        return text


def request_language(request: web.Request) -> str:
    """The one rule for a request's language, for pages and API alike.

    The cookie the UI's language switch sets wins; then the browser's Accept-Language, most
    preferred first (q-values honoured, q=0 refused); German by default.
    """
    cookie = request.cookies.get(LANG_COOKIE, "")
    if cookie in LANGUAGES:
        return cookie
    return accepted_language(request.headers.get("Accept-Language", ""))


def accepted_language(header: str) -> str:
    """The supported language an Accept-Language header prefers most ("en-GB,de;q=0.5" → en)."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        code = tag.strip().lower().split("-")[0]
        if code in LANGUAGES and quality > 0:
            ranked.append((-quality, position, code))
    return min(ranked)[2] if ranked else DEFAULT


def localized(obj: Any, attribute: str, lang: str | None) -> Any:
    """Pick `<attribute>_<lang>` from a model, e.g. concern.name_en, falling back to German when empty."""
    # Normalised first, so an unsupported language cannot name some other attribute.
    value = getattr(obj, f"{attribute}_{language(lang)}", None)
    return value if value else getattr(obj, f"{attribute}_{DEFAULT}")
