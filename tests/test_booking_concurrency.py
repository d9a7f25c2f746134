"""200 citizens press "book" for the same slot of capacity 1 at once: exactly one gets it."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.booking_flow import offer, reservation
from tests.helpers import csrf_headers
from vibue.settings import Settings

ATTEMPTS = 200
SLOT = "2026-11-30T08:00:00+01:00"  # Monday: one clerk serves the virtual office


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.replace(rate_limit_reservations=10 * ATTEMPTS, rate_limit_mails=10 * ATTEMPTS)


async def test_concurrent_bookings_never_overbook(client: TestClient[Any, Any]) -> None:
    o = await offer(client)
    headers = await csrf_headers(client)

    async def attempt(n: int) -> tuple[int, str]:
        response = await client.post(
            "/api/reservations", json=reservation(o, SLOT, email=f"citizen{n}@example.org"), headers=headers
        )
        body = await response.json()
        return response.status, body.get("error", {}).get("code", "")

    results = await asyncio.gather(*(attempt(n) for n in range(ATTEMPTS)))
    assert sum(1 for status, _ in results if status == 201) == 1
    assert sorted({(status, code) for status, code in results if status != 201}) == [(409, "slot_taken")]
    assert len(results) == ATTEMPTS
