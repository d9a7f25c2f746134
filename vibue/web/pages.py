"""The static front end: clean page URLs map to HTML files in web/, assets under /static/."""

from __future__ import annotations

import asyncio
import mimetypes
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web

from vibue.core.i18n import DEFAULT, request_language
from vibue.core.paths import WEB
from vibue.core.settings import Settings
from vibue.core.urls import LINK_PATTERN
from vibue.web.appkeys import SETTINGS

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
    # An issued document's verification page; the check code follows after # (never sent here).
    "/v/{document_id:[A-Za-z0-9_-]{16,64}}": "verify.html",
}
# The /dev page and its script live apart from web/'s static files, so production cannot serve them.
DEV = WEB / "dev"


def _read(path: Path) -> tuple[bytes, str]:
    """The file's bytes and an ETag from its size and modification time, in one worker-thread call."""
    stat = path.stat()
    return path.read_bytes(), f'"{stat.st_mtime_ns:x}-{stat.st_size:x}"'


async def send_file(request: web.Request, path: Path, *, lang: str | None = None) -> web.StreamResponse:
    """Serve a small front-end file, revalidated on every use (no-cache, ETag).

    Read whole in a worker thread rather than streamed with web.FileResponse: its file handle was
    closed by a task that a server shutdown can cut off, leaving the file open (a ResourceWarning).
    The whole front end is well under a megabyte, and editing a file shows on the next reload.
    A page (`lang` given) is sent in the request's language: its `<html lang>` is the language the
    catalog API answers in, so the page's scripts load the same catalog (docs/decisions.md: "One language per request").
    """
    body, etag = await asyncio.to_thread(_read, path)
    headers = {"Cache-Control": "no-cache", "ETag": etag}
    if lang is not None:
        body = body.replace(f'<html lang="{DEFAULT}">'.encode(), f'<html lang="{lang}">'.encode(), 1)
        headers = {**headers, "ETag": f'{etag[:-1]}-{lang}"', "Vary": "Cookie, Accept-Language"}
    if headers["ETag"] in request.headers.get("If-None-Match", ""):
        return web.Response(status=304, headers=headers)
    content_type, _ = mimetypes.guess_type(path.name)
    return web.Response(body=body, headers={**headers, "Content-Type": content_type or "application/octet-stream"})


def page(filename: str) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def serve(request: web.Request) -> web.StreamResponse:
        return await send_file(request, WEB / filename, lang=request_language(request))

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
        return await send_file(request, path)

    return serve


def dev_tools_enabled(settings: Settings) -> bool:
    """The /dev page shows demo passwords and live codes: development mode on a loopback address only."""
    return not settings.production and settings.host in LOOPBACK


LOOPBACK = {"127.0.0.1", "localhost", "::1"}
