"""The app as run.py serves it, over a raw socket: malformed requests leave no secret in the log, and
every answer - the parser's own 400s included - carries the security headers and no `Server` header."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
from aiohttp import web

import run
import signaling
from tests.conftest import TEST_NOW
from vibue.app import create_app
from vibue.core.clock import ManualClock
from vibue.core.settings import Settings
from vibue.video.join_tokens import JoinClaims, issue
from vibue.web.middleware import fixed_headers
from vibue.web.serving import AppRunner

COOKIE = "Sess10nCookieValue-xyz_0123456789abcdef"
LINK = "B00kingLinkToken_abcdefGHIJKL"
CODE = "482913"
EMAIL = "erika.mustermann@example.org"
IP = "203.0.113.77"
CLIENT_IP = "127.0.0.1"


def join_token(settings: Settings) -> str:
    claims = JoinClaims(appointment_id=7, participant_id=9, role="citizen", expires_at=datetime(2030, 1, 1, tzinfo=UTC))
    return issue(settings.secret_key, claims)


def malformed(join: str) -> dict[str, bytes]:
    """Requests aiohttp's parser refuses, each carrying planted secrets where a real client would."""
    cookie = f"Cookie: vibue_staff={COOKIE}; vibue_csrf={COOKIE}\r\n".encode()
    planted = f"X-Forwarded-For: {IP}\r\nFrom: {EMAIL}\r\n".encode()
    return {
        "bad header line": (
            f"GET /termin/{LINK}?code={CODE} HTTP/1.1\r\nHost: vibue\r\n".encode()
            + cookie
            + planted
            + f"Bad Header Line {EMAIL} {IP} {CODE} {COOKIE}\r\n\r\n".encode()
        ),
        "oversized header": (
            f"GET /socket.io/?EIO=4&transport=polling&token={join} HTTP/1.1\r\nHost: vibue\r\n".encode()
            + cookie
            + f"X-Long: {COOKIE} {EMAIL} {IP} {CODE} {join} ".encode()
            + b"a" * 9000
            + b"\r\n\r\n"
        ),
        "bad method": f"G@T /video/{LINK} HTTP/1.1\r\nHost: vibue\r\n".encode() + cookie + b"\r\n",
        "bad request line with a booking link": (
            f"GET /termin/{LINK} HTTQ/1.1 {EMAIL} {IP} {CODE} {join}\r\nHost: vibue\r\n".encode() + cookie + b"\r\n"
        ),
        "bad content length on a booking link": (
            f"POST /api/bookings/{LINK}/cancel HTTP/1.1\r\nHost: vibue\r\n".encode()
            + cookie
            + planted
            + f"Content-Length: {CODE}{EMAIL}\r\n\r\n".encode()
        ),
    }


def secrets_in(text: str, join: str) -> list[str]:
    payload, signature = join.split(".")
    planted = [COOKIE, LINK, CODE, EMAIL, IP, CLIENT_IP, join, payload, signature]
    return [secret for secret in planted if secret in text]


@pytest.fixture
async def served(settings: Settings) -> AsyncIterator[tuple[str, int]]:
    app = create_app(settings, clock=ManualClock(TEST_NOW), setups=[signaling.setup])
    runner = AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        host, port = runner.addresses[0][:2]
        yield host, port
    finally:
        await runner.cleanup()


async def exchange(host: str, port: int, raw: bytes) -> tuple[int, dict[str, list[str]], bytes]:
    """Send `raw` on a fresh connection and read the answer up to the server's close."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(raw)
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), timeout=30)
    finally:
        writer.close()
        await writer.wait_closed()
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers: dict[str, list[str]] = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers.setdefault(name.strip().lower(), []).append(value.strip())
    return int(status_line.split()[1]), headers, body


def assert_hardened(headers: dict[str, Any], settings: Settings, what: str) -> None:
    lowered = {name.lower(): value for name, value in headers.items()}
    assert "server" not in lowered, (what, lowered.get("server"))
    for name, value in fixed_headers(settings).items():
        got = lowered.get(name.lower())
        assert got in (value, [value]), (what, name, got)


async def test_malformed_requests_leave_no_secret_in_the_log_and_get_the_security_headers(
    served: tuple[str, int], settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    host, port = served
    join = join_token(settings)
    caplog.set_level(logging.DEBUG)
    # As run.py starts: the composition root installs the redaction.
    uninstall = run.configure_logging("DEBUG")
    try:
        for what, raw in malformed(join).items():
            status, headers, body = await exchange(host, port, raw)
            assert status == 400, what
            assert_hardened(headers, settings, what)
            assert headers["cache-control"] == ["no-store"], what
            assert headers["content-type"] == ["application/json; charset=utf-8"], what
            assert json.loads(body) == {
                "error": {
                    "code": "bad_request",
                    "message": "Die Anfrage konnte nicht verarbeitet werden.",
                    "fields": {},
                }
            }, what
    finally:
        uninstall()
    text = caplog.text
    # Each refusal was logged (aiohttp logs a first bad method at debug level), but without its secrets.
    assert text.count("Error handling request from <ip>") == len(malformed(join)), text
    assert secrets_in(text, join) == [], text
    assert "Invalid method" in text and "Bad status line" in text and "Got more than" in text


async def test_every_normal_answer_has_the_security_headers_and_no_server_header(
    served: tuple[str, int], settings: Settings
) -> None:
    host, port = served
    base = f"http://{host}:{port}"
    async with aiohttp.ClientSession() as http:
        for path, status in [
            ("/", 200),
            (f"/termin/{LINK}", 200),
            ("/static/css/base.css", 200),
            (f"/api/bookings/{LINK}", 404),
            ("/nowhere", 404),
            ("/healthz", 200),
        ]:
            async with http.get(base + path) as response:
                assert response.status == status, path
                assert_hardened(dict(response.headers), settings, path)
        # A revalidated static file (304) too.
        async with http.get(base + "/static/css/base.css") as first:
            etag = first.headers["ETag"]
        async with http.get(base + "/static/css/base.css", headers={"If-None-Match": etag}) as again:
            assert again.status == 304
            assert_hardened(dict(again.headers), settings, "304")
