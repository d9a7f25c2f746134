"""With VIBUE_REDIS_URL set and Redis down (refusing connections, or accepting and never
answering), every request that needs a shared limit gets 503 `limits_unavailable` with
Retry-After and the German text, nothing happens behind it, and the log says so once, not per
request."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from tests.booking_flow import offer, reservation
from tests.helpers import add_staff, post_json
from vibue.core import shared_counters
from vibue.core.settings import Settings
from vibue.models import Appointment
from vibue.web.appkeys import SESSIONS

START = "2026-11-30T08:00:00+01:00"


def _closed_port() -> int:
    """A loopback port nobody listens on: bound, then released, so a connect is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(params=["refused", "silent"])
async def redis_url(request: pytest.FixtureRequest) -> AsyncIterator[str]:
    if request.param == "refused":
        yield f"redis://127.0.0.1:{_closed_port()}/0"
        return
    # Accepts the connection and reads, but never answers: only the client's timeout ends a call.
    peers: list[asyncio.StreamWriter] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peers.append(writer)
        while await reader.read(4096):
            pass

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    yield f"redis://127.0.0.1:{server.sockets[0].getsockname()[1]}/0"
    for writer in peers:
        writer.close()
    server.close()
    await server.wait_closed()


@pytest.fixture
def settings(settings: Settings, redis_url: str) -> Settings:
    return settings.replace(redis_url=redis_url)


@pytest.fixture(autouse=True)
def _first_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test sees the outage as new (the once-a-minute memory is per process)."""
    monkeypatch.setattr(shared_counters._Warning, "last", None)


async def _refused(response: Any) -> None:
    body = await response.json()
    assert response.status == 503, body
    assert body["error"]["code"] == "limits_unavailable"
    assert body["error"]["message"] == (
        "Der Dienst ist gerade nicht vollständig erreichbar. Bitte versuchen Sie es in 10 Sekunden erneut"
        " – Ihre Eingaben bleiben erhalten."
    )
    assert response.headers["Retry-After"] == "10"


async def test_a_reservation_is_refused_and_nothing_is_booked(
    client: TestClient[Any, Any], caplog: pytest.LogCaptureFixture
) -> None:
    o = await offer(client)  # reading the catalog needs no limit
    with caplog.at_level(logging.WARNING):
        for _ in range(3):
            await _refused(await post_json(client, "/api/reservations", reservation(o, START)))
    async with client.app[SESSIONS]() as session:
        assert await session.scalar(select(func.count()).select_from(Appointment)) == 0
    warnings = [r for r in caplog.records if r.name == "vibue.core.shared_counters"]
    assert len(warnings) == 1, [r.getMessage() for r in caplog.records]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]  # no 500, no traceback


async def test_sign_in_is_refused_rather_than_uncounted(client: TestClient[Any, Any]) -> None:
    await add_staff(client.app[SESSIONS], "clerk1")
    body = {"username": "clerk1", "password": "guess", "code": "123456"}
    await _refused(await post_json(client, "/api/staff/login", body))


async def test_identity_code_requests_are_refused(client: TestClient[Any, Any]) -> None:
    # The limit is checked before the booking link is even looked up.
    await _refused(await post_json(client, "/api/video/" + "a" * 32 + "/code"))
    await _refused(await post_json(client, "/api/video/" + "a" * 32 + "/verify", {"code": "123456"}))


async def test_document_checks_are_refused_rather_than_unlimited(client: TestClient[Any, Any]) -> None:
    # The public verification is limited per client and per document: without Redis, no verdict at all
    # (not even "unverifiable"), else guessing check codes would go uncounted.
    document_id = "d" * 22
    await _refused(await post_json(client, f"/api/verify/{document_id}", {"check_code": "7KQ4-M2XD-9P"}))


async def test_every_rate_limited_operation_declares_the_503(client: TestClient[Any, Any]) -> None:
    spec = await (await client.get("/api/openapi.json")).json()
    limited = [
        (path, method, op)
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if "rate_limited" in op.get("x-error-codes", [])
    ]
    assert len(limited) >= 9
    for path, method, op in limited:
        assert "limits_unavailable" in op["x-error-codes"], (method, path)
        assert "limits_unavailable" in op["responses"]["503"]["description"], (method, path)
        assert "Retry-After" in op["responses"]["503"]["headers"], (method, path)
