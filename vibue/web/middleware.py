"""The edge: one place that turns errors into the JSON shape, checks CSRF, and sets security headers.

Error shape for every 4xx/5xx answer under /api: {"error": {"code", "message", "fields"}}.
Pages get a small German (or English) HTML page instead of a traceback.
"""

from __future__ import annotations

import asyncio
import html
import logging
import secrets
import uuid
import warnings
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from vibue.core.errors import DomainError, Forbidden
from vibue.core.i18n import request_language, translate
from vibue.core.settings import Settings
from vibue.web.appkeys import REQUEST_ID, ROUTE_ENDPOINTS, SETTINGS
from vibue.web.routing import SAFE_METHODS

log = logging.getLogger("vibue.http")

CSRF_COOKIE = "vibue_csrf"
CSRF_HEADER = "X-CSRF-Token"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# aiohttp's own HTTP errors, named like our domain codes.
HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_media_type",
}

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; media-src 'self' blob:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


_reported: set[tuple[str, str]] = set()


class UndeclaredErrorCode(UserWarning):
    """An endpoint answered an error code it does not declare, so its OpenAPI description is wrong."""


def check_declared(request: web.Request, code: str) -> None:
    """Warn (and log) when the matched endpoint's declaration does not list `code`.

    The test suite turns every warning into an error, so each API test also proves that the
    codes it provokes are declared (vibue.web.routing.Endpoint.error_codes).
    """
    endpoint = request.app.get(ROUTE_ENDPOINTS, {}).get(request.match_info.route)
    if endpoint is None or code in endpoint.error_codes:
        return
    # Logged once per endpoint and code: a client repeating the request must not flood the log
    # (the set is bounded by the route table times the registered codes). Python shows a warning
    # once per message by default; the tests turn each one into an error.
    if (endpoint.path, code) not in _reported:
        _reported.add((endpoint.path, code))
        log.warning(
            "undeclared error code %s from %s %s request_id=%s",
            code,
            request.method,
            route_of(request),
            request.get(REQUEST_ID),
        )
    warnings.warn(
        f"{endpoint.method} {endpoint.path} answered {code!r}, which it does not declare: add it to errors=(...)",
        UndeclaredErrorCode,
        stacklevel=2,
    )


def is_api(request: web.Request) -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz"


def error_body(request: web.Request, code: str, fields: dict[str, str], params: dict[str, Any]) -> dict[str, Any]:
    lang = request_language(request)
    return {
        "error": {
            "code": code,
            "message": translate(lang, f"error.{code}", **params),
            "fields": {name: translate(lang, key, **params) for name, key in fields.items()},
        }
    }


def error_response(
    request: web.Request,
    status: int,
    code: str,
    fields: dict[str, str] | None = None,
    params: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> web.Response:
    check_declared(request, code)
    body = error_body(request, code, fields or {}, params or {})
    if is_api(request):
        return web.json_response(body, status=status, headers=headers)
    lang = request_language(request)
    page = (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(translate(lang, 'page.error_title'))}</title>"
        f'<link rel="stylesheet" href="/static/css/base.css"></head><body><main id="main" class="error-page">'
        f"<h1>{html.escape(translate(lang, 'page.error_title'))}</h1>"
        f"<p>{html.escape(body['error']['message'])}</p>"
        f'<p><a href="/">{html.escape(translate(lang, "page.error_home"))}</a></p></main></body></html>'
    )
    return web.Response(text=page, status=status, content_type="text/html", headers=headers)


def route_of(request: web.Request) -> str:
    """The route pattern, not the path: paths can hold secrets (the token in a booking link)."""
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "(no route)"


@web.middleware
async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    request[REQUEST_ID] = uuid.uuid4().hex[:12]
    try:
        return await handler(request)
    except DomainError as exc:
        headers = None if exc.retry_after is None else {"Retry-After": str(exc.retry_after)}
        return error_response(request, exc.status, exc.code, exc.fields, exc.params, headers)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = HTTP_CODES.get(exc.status, "bad_request" if exc.status < 500 else "internal")
        headers = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None
        return error_response(request, exc.status, code, headers=headers)
    except (asyncio.CancelledError, ConnectionResetError):
        raise
    except Exception:
        # Logged once, with the request id the user sees, never with the body (personal data).
        log.exception("unhandled error request_id=%s %s %s", request[REQUEST_ID], request.method, route_of(request))
        return error_response(request, 500, "internal", params={"request_id": request[REQUEST_ID]})


@web.middleware
async def csrf(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Double-submit token: state changes must echo the vibue_csrf cookie in a header.

    A cross-site page can neither read the cookie nor set the header; SameSite=Strict cookies and
    the JSON-only bodies are two further walls.
    """
    routed = request.match_info.http_exception is None  # 404/405 speak for themselves
    if routed and request.method not in SAFE_METHODS and is_api(request):
        cookie = request.cookies.get(request.app[SETTINGS].cookie_name(CSRF_COOKIE), "")
        header = request.headers.get(CSRF_HEADER, "")
        if not cookie or not secrets.compare_digest(cookie.encode(), header.encode()):
            raise Forbidden("csrf_failed")
    return await handler(request)


def fixed_headers(settings: Settings) -> dict[str, str]:
    """The security headers every answer carries, whatever it is (vibue.web.serving adds them to parser errors)."""
    headers = {
        "Content-Security-Policy": CSP,
        "X-Content-Type-Options": "nosniff",
        # Booking links carry secrets in the path: never leak them to another site.
        "Referrer-Policy": "no-referrer",
        "X-Frame-Options": "DENY",
        "Permissions-Policy": "camera=(self), microphone=(self), geolocation=()",
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    if settings.cookies_secure:
        headers["Strict-Transport-Security"] = "max-age=31536000"
    return headers


async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare: headers for every answer, static files included; hands out the CSRF cookie."""
    settings = request.app[SETTINGS]
    for name, value in fixed_headers(settings).items():
        response.headers.setdefault(name, value)
    if is_api(request):
        response.headers.setdefault("Cache-Control", "no-store")
    # aiohttp names itself and its version ("Python/3.11 aiohttp/3.x"): no help to anyone but an attacker.
    response.headers.popall("Server", None)
    csrf_cookie = settings.cookie_name(CSRF_COOKIE)
    if not request.cookies.get(csrf_cookie):
        # aiohttp renders response cookies before this signal runs, so the header is written directly.
        # Not HttpOnly: the page's script must read the token to echo it in the X-CSRF-Token header.
        cookie = f"{csrf_cookie}={secrets.token_urlsafe(24)}; Path=/; SameSite=Strict"
        response.headers.add("Set-Cookie", cookie + ("; Secure" if settings.cookies_secure else ""))
