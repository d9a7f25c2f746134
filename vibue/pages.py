"""The static front end: clean page URLs map to HTML files in web/, assets under /static/."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from vibue.appkeys import SETTINGS
from vibue.paths import WEB

# URL -> HTML file in web/. The pages are static; they talk to the JSON API.
PAGES: dict[str, str] = {
    "/": "index.html",
    "/buchen": "booking.html",
    "/buchen/{step:[1-5]}": "booking.html",
    "/termin/{token:[A-Za-z0-9_-]{16,80}}": "manage.html",
    "/anmelden": "signin.html",
    "/sachbearbeitung": "clerk.html",
}
DEV_PAGES = {"/dev": "dev.html"}


def page(filename: str) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def serve(request: web.Request) -> web.StreamResponse:
        return web.FileResponse(WEB / filename, headers={"Cache-Control": "no-cache"})

    return serve


def setup(app: web.Application) -> None:
    pages = dict(PAGES)
    if not app[SETTINGS].production:
        pages.update(DEV_PAGES)
    for url, filename in pages.items():
        app.router.add_get(url, page(filename), name=None)
    app.router.add_static("/static/", WEB, show_index=False, follow_symlinks=False)
