"""The static front end: clean page URLs map to HTML files in web/, assets under /static/."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web

from vibue.web.appkeys import SETTINGS
from vibue.core.paths import WEB
from vibue.core.settings import Settings
from vibue.core.urls import LINK_PATTERN

# URL -> HTML file in web/. The pages are static; they talk to the JSON API.
PAGES: dict[str, str] = {
    "/": "index.html",
    "/buchen": "booking.html",
    "/buchen/{step:[1-5]}": "booking.html",
    f"/termin/{LINK_PATTERN}": "manage.html",
    f"/video/{LINK_PATTERN}": "video.html",
    f"/dolmetschen/{LINK_PATTERN}": "interpreter.html",
    "/anmelden": "signin.html",
    "/sachbearbeitung": "clerk.html",
}
# The /dev page and its script live apart from web/'s static files, so production cannot serve them.
DEV = WEB / "dev"


def page(filename: str) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def serve(request: web.Request) -> web.StreamResponse:
        return web.FileResponse(WEB / filename, headers={"Cache-Control": "no-cache"})

    return serve


def setup(app: web.Application) -> None:
    for url, filename in PAGES.items():
        app.router.add_get(url, page(filename))
    if dev_tools_enabled(app[SETTINGS]):
        app.router.add_get("/dev", page("dev/index.html"))
        app.router.add_get("/dev/assets/{path:.+}", static_files(files_under(DEV)))
    app.router.add_get("/static/{path:.+}", static_files(files_under(WEB, leaving_out=DEV)))


def files_under(folder: Path, *, leaving_out: Path | None = None) -> dict[str, Path]:
    """The files a URL may name, listed once at start: nothing outside `folder` can ever be served."""
    return {
        path.relative_to(folder).as_posix(): path
        for path in folder.rglob("*")
        if path.is_file() and (leaving_out is None or not path.is_relative_to(leaving_out))
    }


def static_files(files: dict[str, Path]) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def serve(request: web.Request) -> web.StreamResponse:
        path = files.get(request.match_info["path"])
        if path is None:
            raise web.HTTPNotFound()
        return web.FileResponse(path, headers={"Cache-Control": "no-cache"})

    return serve


def dev_tools_enabled(settings: Settings) -> bool:
    """The /dev page shows demo passwords and live codes: development mode on a loopback address only."""
    return not settings.production and settings.host in LOOPBACK


LOOPBACK = {"127.0.0.1", "localhost", "::1"}
