"""Public links to the app's pages, built from the one configured base URL."""

from __future__ import annotations

from vibue.core.settings import Settings

# The secret in a booking or invitation link, as route patterns match it.
LINK_PATTERN = "{token:[A-Za-z0-9_-]{16,80}}"
BOOKING_API = f"/api/bookings/{LINK_PATTERN}"
VIDEO_API = f"/api/video/{LINK_PATTERN}"
INTERPRETER_API = f"/api/interpreter/{LINK_PATTERN}"


def public_url(settings: Settings, path: str) -> str:
    """The absolute link to `path` (which starts with "/"), whether or not base_url ends in a slash."""
    return f"{settings.base_url.rstrip('/')}{path}"
