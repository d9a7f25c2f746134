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


def translate(lang: str | None, key: str, **params: Any) -> str:
    """The text for `key` in `lang`, falling back to German, then to the key itself."""
    text = catalog(language(lang)).get(key) or catalog(DEFAULT).get(key) or key
    try:
        return text.format(**params)
    except (KeyError, IndexError, ValueError):
        return text


def request_language(request: web.Request) -> str:
    """The cookie the UI's language switch sets wins; then Accept-Language; German by default."""
    cookie = request.cookies.get(LANG_COOKIE, "")
    if cookie in LANGUAGES:
        return cookie
    for part in request.headers.get("Accept-Language", "").split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in LANGUAGES:
            return tag
    return DEFAULT


def localized(obj: Any, attribute: str, lang: str | None) -> Any:
    """Pick `<attribute>_<lang>` from a model, e.g. concern.name_en, falling back to German when empty."""
    # Normalised first, so an unsupported language cannot name some other attribute.
    value = getattr(obj, f"{attribute}_{language(lang)}", None)
    return value if value else getattr(obj, f"{attribute}_{DEFAULT}")
