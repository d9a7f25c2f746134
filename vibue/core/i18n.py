"""Server-side message catalogs (error messages, mail-independent texts) and language choice."""

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


@cache
def catalog(lang: str) -> dict[str, str]:
    with open(CATALOGS / f"{lang}.json", encoding="utf-8") as handle:
        data: dict[str, str] = json.load(handle)
    return data


def translate(lang: str, key: str, **params: Any) -> str:
    """The text for `key` in `lang`, falling back to German, then to the key itself."""
    text = catalog(lang if lang in LANGUAGES else DEFAULT).get(key) or catalog(DEFAULT).get(key) or key
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


def localized(obj: Any, attribute: str, lang: str) -> Any:
    """Pick `<attribute>_<lang>` from a model, e.g. concern.name_en, falling back to German."""
    value = getattr(obj, f"{attribute}_{lang}", None)
    return value if value else getattr(obj, f"{attribute}_{DEFAULT}")
