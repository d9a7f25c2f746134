"""Serving the app: aiohttp's runner, with the parser's own error answers held to our header rules.

A request aiohttp cannot parse (a bad request line, header line or method, an oversized header) is
answered by `RequestHandler.handle_error` before any middleware or `on_response_prepare` signal runs:
without this module that 400 carried none of the security headers, named aiohttp and its version in
`Server`, and echoed the offending line (a booking link, a cookie) in a text body instead of the
one JSON error shape.

aiohttp offers no public switch for the request handler's class, so `AppRunner` swaps the class of
the server it builds (one private method, `_make_server`); tests/web/test_served.py pins the result
over a raw socket.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import hdrs, web
from aiohttp.web_request import BaseRequest

from vibue.core.i18n import translate
from vibue.core.settings import Settings
from vibue.web.appkeys import SETTINGS
from vibue.web.middleware import HTTP_CODES, fixed_headers


class _NamelessResponse(web.Response):
    """A response without aiohttp's `Server` header (normal answers lose it in on_response_prepare)."""

    async def _prepare_headers(self) -> None:
        await super()._prepare_headers()
        self.headers.popall(hdrs.SERVER, None)


class _RequestHandler(web.RequestHandler):
    headers: dict[str, str]

    def handle_error(
        self, request: BaseRequest, status: int = 500, exc: BaseException | None = None, message: str | None = None
    ) -> web.StreamResponse:
        # aiohttp's own logs the error (the redacting filter cleans the line) and checks nothing was sent.
        super().handle_error(request, status, exc, message)
        # The one JSON error shape, in German (the headers that would choose the language did not parse),
        # never the parser's message: it quotes the request, and the request may hold a secret.
        code = HTTP_CODES.get(status) or ("bad_request" if status < 500 else "internal")
        text = translate(None, f"error.{code}", request_id="-")
        body = {"error": {"code": code, "message": text, "fields": {}}}
        response = _NamelessResponse(
            status=status,
            text=json.dumps(body, ensure_ascii=False),
            content_type="application/json",
            headers=self.headers,
        )
        response.headers["Cache-Control"] = "no-store"
        response.force_close()
        return response


class _Server(web.Server):
    headers: dict[str, str]

    def __call__(self) -> web.RequestHandler:
        handler = _RequestHandler(self, loop=self._loop, **self._kwargs)
        handler.headers = self.headers
        return handler


class AppRunner(web.AppRunner):
    """web.AppRunner whose connections answer unparsable requests with the app's security headers."""

    def __init__(self, app: web.Application, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        settings: Settings = app[SETTINGS]
        self._headers = fixed_headers(settings)

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        server.__class__ = _Server
        assert isinstance(server, _Server)
        server.headers = self._headers
        return server
