"""Guesses sent at once cannot get past the identity code's own limits, on either database.

The requests go through two app instances on one database, each with its own engine, as two
server processes would. The per-client HTTP limit is raised out of the way, so only the code's
five attempts and its single use are tested.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from tests.booking_flow import confirmed_booking, identity_code_from_mail, offer
from tests.helpers import csrf_headers
from tests.smtp import MailCatcher
from vibue.app import create_app
from vibue.core.clock import ManualClock
from vibue.core.settings import Settings
from vibue.models import AuditEntry, IdentityCode
from vibue.web.appkeys import SESSIONS

GUESSES = 200
RIGHT = 6
START = "2026-11-30T08:00:00+01:00"
EMAIL = "erika@example.org"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.replace(rate_limit_identity_checks=10 * GUESSES)


async def two_apps(
    client: TestClient[Any, Any], aiohttp_client: Any, settings: Settings, clock: ManualClock, catcher: MailCatcher
) -> tuple[str, str, list[tuple[TestClient[Any, Any], dict[str, str]]]]:
    """A video appointment with a mailed code, and two app instances to verify it through."""
    token = await confirmed_booking(client, catcher, await offer(client), START)
    clock.advance(minutes=46)
    sent = await client.post(f"/api/video/{token}/code", json={}, headers=await csrf_headers(client))
    assert sent.status == 202
    code = await identity_code_from_mail(catcher, EMAIL, count=3)
    # The second instance starts after the mails are out: its mail worker has nothing to send.
    second: TestClient[Any, Any] = await aiohttp_client(create_app(settings.replace(seed_demo=False), clock=clock))
    return token, code, [(client, await csrf_headers(client)), (second, await csrf_headers(second))]


async def fire(
    apps: list[tuple[TestClient[Any, Any], dict[str, str]]], token: str, codes: list[str]
) -> list[tuple[int, str]]:
    async def attempt(n: int, code: str) -> tuple[int, str]:
        app, headers = apps[n % 2]
        response = await app.post(f"/api/video/{token}/verify", json={"code": code}, headers=headers)
        body = await response.json()
        return response.status, body.get("error", {}).get("code", "")

    return list(await asyncio.gather(*(attempt(n, code) for n, code in enumerate(codes))))


async def failed_attempts(client: TestClient[Any, Any]) -> tuple[int, int]:
    """(the code's attempt counter, the number of evaluated wrong guesses in the audit)."""
    async with client.app[SESSIONS]() as session:
        attempts = await session.scalar(select(IdentityCode.attempts))
        failed = (await session.scalars(select(AuditEntry).where(AuditEntry.action == "identity_code.failed"))).all()
    assert attempts is not None
    return attempts, len(failed)


async def test_concurrent_wrong_guesses_are_evaluated_at_most_five_times(
    client: TestClient[Any, Any],
    aiohttp_client: Any,
    settings: Settings,
    clock: ManualClock,
    mail_catcher: MailCatcher,
) -> None:
    token, code, apps = await two_apps(client, aiohttp_client, settings, clock, mail_catcher)
    wrong = [f"{(int(code) + 1 + n) % 1_000_000:06d}" for n in range(GUESSES)]
    results = await fire(apps, token, wrong)
    assert results.count((422, "identity_code_wrong")) == 4
    assert set(results) == {(422, "identity_code_wrong"), (409, "identity_code_voided")}
    assert await failed_attempts(client) == (5, 5)
    # The right code comes too late: the code is void.
    assert await fire(apps, token, [code]) == [(409, "identity_code_voided")]


async def test_concurrent_guesses_and_right_codes_give_at_most_one_token(
    client: TestClient[Any, Any],
    aiohttp_client: Any,
    settings: Settings,
    clock: ManualClock,
    mail_catcher: MailCatcher,
) -> None:
    token, code, apps = await two_apps(client, aiohttp_client, settings, clock, mail_catcher)
    wrong = [f"{(int(code) + 1 + n) % 1_000_000:06d}" for n in range(GUESSES)]
    mixed = wrong[: GUESSES // 2] + [code] * RIGHT + wrong[GUESSES // 2 :]
    results = await fire(apps, token, mixed)
    attempts, failed = await failed_attempts(client)
    assert attempts == failed <= 5
    tokens = results.count((200, ""))
    assert tokens <= 1
    # Either the right code won before the fifth miss, or five misses voided it first.
    assert tokens == 1 or attempts == 5


async def test_a_right_code_sent_six_times_at_once_gives_exactly_one_token(
    client: TestClient[Any, Any],
    aiohttp_client: Any,
    settings: Settings,
    clock: ManualClock,
    mail_catcher: MailCatcher,
) -> None:
    token, code, apps = await two_apps(client, aiohttp_client, settings, clock, mail_catcher)
    results = await fire(apps, token, [code] * RIGHT)
    assert sorted(results) == [(200, "")] + [(409, "identity_code_used")] * (RIGHT - 1)
    async with client.app[SESSIONS]() as session:
        verified = (
            await session.scalars(select(AuditEntry).where(AuditEntry.action == "identity_code.verified"))
        ).all()
    assert len(verified) == 1
