"""Public links to the app's pages, built from the one configured base URL."""

from __future__ import annotations

from vibue.core.settings import Settings


def public_url(settings: Settings, path: str) -> str:
    """The absolute link to `path` (which starts with "/"), whether or not base_url ends in a slash."""
    return f"{settings.base_url.rstrip('/')}{path}"
