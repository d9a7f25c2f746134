"""With VIBUE_REDIS_URL set, two processes together allow what the contract says one does: 3 code
requests per appointment and 30 code checks per client per 10 minutes (two app instances here,
one database, the real Redis with a key prefix of this test's own)."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.booking_flow import confirmed_booking, offer
from tests.helpers import csrf_headers
from tests.smtp import MailCatcher
from vibue.app import create_app
from vibue.core.clock import ManualClock
from vibue.core.settings import Settings

START = "2026-11-30T08:00:00+01:00"


@pytest.fixture
def settings(settings: Settings, redis_prefix: str) -> Settings:
    return settings.replace(redis_url="redis://127.0.0.1:6379/0", redis_prefix=redis_prefix)


async def two_processes(
    client: TestClient[Any, Any], aiohttp_client: Any, settings: Settings, clock: ManualClock
) -> list[tuple[TestClient[Any, Any], dict[str, str]]]:
    second: TestClient[Any, Any] = await aiohttp_client(create_app(settings.replace(seed_demo=False), clock=clock))
    return [(client, await csrf_headers(client)), (second, await csrf_headers(second))]


async def test_code_requests_per_appointment_are_counted_once_for_all_processes(
    client: TestClient[Any, Any], aiohttp_client: Any, settings: Settings, clock: ManualClock, mail_catcher: MailCatcher
) -> None:
    token = await confirmed_booking(client, mail_catcher, await offer(client), START)
    clock.advance(minutes=46)
    apps = await two_processes(client, aiohttp_client, settings, clock)
    statuses = []
    for n in range(6):
        app, headers = apps[n % 2]
        statuses.append((await app.post(f"/api/video/{token}/code", json={}, headers=headers)).status)
    assert statuses == [202] * 3 + [429] * 3


async def test_code_checks_per_client_are_counted_once_for_all_processes(
    client: TestClient[Any, Any], aiohttp_client: Any, settings: Settings, clock: ManualClock, mail_catcher: MailCatcher
) -> None:
    token = await confirmed_booking(client, mail_catcher, await offer(client), START)
    clock.advance(minutes=46)
    apps = await two_processes(client, aiohttp_client, settings, clock)
    statuses = []
    for n in range(2 * settings.rate_limit_identity_checks):
        app, headers = apps[n % 2]
        response = await app.post(f"/api/video/{token}/verify", json={"code": "123456"}, headers=headers)
        statuses.append(response.status)
        if response.status == 429:
            assert int(response.headers["Retry-After"]) > 0
    assert settings.rate_limit_identity_checks == 30
    assert statuses.count(429) == 30
    assert 429 not in statuses[:30]
