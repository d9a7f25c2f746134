"""The log redaction: every kind of secret is replaced, ordinary lines stay as they were."""

from __future__ import annotations

import io
import logging

import pytest

from vibue.core.logs import RedactingFilter, install_redaction, redact


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Error handling request from 127.0.0.1", "Error handling request from <ip>"),
        ("peer ::1 and fe80::1 and 2001:db8:0:0:0:0:0:1", "peer <ip> and <ip> and <ip>"),
        ("Cookie: vibue_staff=abc; vibue_csrf=def", "Cookie: <cookie>"),
        ("sent __Host-vibue_staff=abc", "sent __Host-vibue_staff=<secret>"),
        ("GET /termin/abcdefghijklmnopqrst HTTP/1.1", "GET /termin/<secret> HTTP/1.1"),
        ("/api/interpreter/abcdefghijklmnopqrst/join", "/api/interpreter/<secret>/join"),
        ("?EIO=4&token=eyJhIjo3fQ.c2lnbmF0dXJl", "?EIO=4&token=<secret>"),
        ('{"code": "482913"}', '{"code": "<secret>"}'),
        ("your code is 482913.", "your code is <code>."),
        ("b'GET /x?482913 HTTP/1.1' (482913)", "b'GET /x?<code> HTTP/1.1' (<code>)"),
        ("mail to erika.mustermann+test@example.org failed", "mail to <email> failed"),
        ("hash 3f2a9c0d1e4b5a6978877665544332211", "hash <secret>"),
        ("sid Ab_CdEfGhIjKlMnOpQr", "sid <secret>"),
    ],
)
def test_each_kind_of_secret_is_replaced(line: str, expected: str) -> None:
    assert redact(line) == expected


@pytest.mark.parametrize(
    "line",
    [
        "retention applied: anonymised_appointments=1 (tables not present yet: documents, client_telemetry)",
        "undeclared error code identity_code_wrong from POST /api/video/{token}/code request_id=3f2a9c0d1e4b",
        "retention run failed; retrying in 24.0 hours",
        "unhandled error request_id=a123456bcdef at 2026-11-30T06:00:00.123456+00:00",
        "ServerDisconnectedError in ix_appointments_location_start at 13:41:31",
        'File "/usr/lib/python3.11/asyncio/base_events.py", line 1936, in _run_once',
    ],
)
def test_ordinary_lines_are_left_alone(line: str) -> None:
    assert redact(line) == line


def test_the_filter_covers_arguments_tracebacks_and_loggers_that_do_not_propagate() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    lonely = logging.getLogger("tests.lonely")
    lonely.propagate, lonely.handlers, lonely.level = False, [handler], logging.INFO
    uninstall = install_redaction()
    try:
        try:
            raise ValueError("bad line b'GET /video/abcdefghijklmnopqrst HTTP/1.1' from 10.0.0.8")
        except ValueError:
            lonely.exception("request from %s for %s", "10.0.0.8", "erika@example.org")
        logging.getLogger("aiohttp.server").handlers = [handler]
        logging.getLogger("aiohttp.server").propagate = False
        logging.getLogger("aiohttp.server").error("code %s", "123456")
    finally:
        uninstall()
        logging.getLogger("aiohttp.server").handlers = []
        logging.getLogger("aiohttp.server").propagate = True
    text = stream.getvalue()
    assert "request from <ip> for <email>" in text
    assert "ValueError: bad line b'GET /video/<secret> HTTP/1.1' from <ip>" in text
    assert "code <code>" in text
    for secret in ("10.0.0.8", "erika", "abcdefghijklmnopqrst", "123456"):
        assert secret not in text
    # Taken off again: the next line is written as it is.
    lonely.info("from 10.0.0.8")
    assert stream.getvalue().endswith("from 10.0.0.8\n")


def test_installed_once_on_the_library_loggers_and_the_root_handlers() -> None:
    root_handler = logging.StreamHandler(io.StringIO())
    logging.getLogger().addHandler(root_handler)
    uninstall = install_redaction()
    again = install_redaction()
    try:
        names = ["aiohttp.server", "aiohttp.access", "aiohttp.web", "socketio", "engineio", "asyncio"]
        for target in [*(logging.getLogger(name) for name in names), root_handler]:
            assert [type(f) for f in target.filters if isinstance(f, RedactingFilter)] == [RedactingFilter], target
    finally:
        again()
        uninstall()
        logging.getLogger().removeHandler(root_handler)
    assert not [f for f in root_handler.filters if isinstance(f, RedactingFilter)]
