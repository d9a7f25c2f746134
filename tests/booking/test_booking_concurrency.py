"""200 citizens press "book" for the same slot of capacity 1 at once: exactly one gets it.

The attempts go through two app instances on one database, each with its own engine and its own
in-process booking queue, as two server processes would: only the database lock can keep them
from over-booking.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.booking_flow import offer, reservation
from tests.helpers import csrf_headers
from vibue.app import create_app
from vibue.core.clock import ManualClock
from vibue.core.settings import Settings

ATTEMPTS = 200
SLOT = "2026-11-30T08:00:00+01:00"  # Monday: one clerk serves the virtual office


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.replace(rate_limit_reservations=10 * ATTEMPTS, rate_limit_mails=10 * ATTEMPTS)


async def test_concurrent_bookings_never_overbook(
    client: TestClient[Any, Any], aiohttp_client: Any, settings: Settings, clock: ManualClock
) -> None:
    second: TestClient[Any, Any] = await aiohttp_client(create_app(settings.replace(seed_demo=False), clock=clock))
    o = await offer(client)
    headers = {id(client): await csrf_headers(client), id(second): await csrf_headers(second)}

    async def attempt(n: int) -> tuple[int, str]:
        app = client if n % 2 else second
        response = await app.post(
            "/api/reservations", json=reservation(o, SLOT, email=f"citizen{n}@example.org"), headers=headers[id(app)]
        )
        body = await response.json()
        return response.status, body.get("error", {}).get("code", "")

    results = await asyncio.gather(*(attempt(n) for n in range(ATTEMPTS)))
    assert len(results) == ATTEMPTS
    assert sum(1 for status, _ in results if status == 201) == 1
    assert sorted({(status, code) for status, code in results if status != 201}) == [(409, "slot_taken")]
