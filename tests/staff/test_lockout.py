"""Lockout by account and source: somebody else's script cannot lock the clerk out, and is still
stopped; a NUL in a sign-in field is a field error, counted like any failed attempt."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from tests.helpers import DEFAULT_PASSWORD, add_staff, post_json
from vibue.app import create_app
from vibue.core.settings import Settings
from vibue.models import AuditEntry, Staff
from vibue.staff import lockout, service, totp
from vibue.web.appkeys import SESSIONS

ATTACKER = "198.51.100.66"
CLERK = "203.0.113.5"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # The test client connects from 127.0.0.1: as a trusted proxy it lets each request name its source.
    return settings.replace(trusted_proxies="127.0.0.1")


async def login(client: Any, source: str, username: str, password: str, code: str = "") -> tuple[int, Any]:
    response = await post_json(
        client,
        "/api/staff/login",
        {"username": username, "password": password, "code": code},
        headers={"X-Forwarded-For": source},
    )
    return response.status, await response.json()


async def staff_row(client: Any, staff_id: int) -> Staff:
    async with client.app[SESSIONS]() as session:
        row: Staff | None = await session.get(Staff, staff_id)
    assert row is not None
    return row


async def test_an_attacker_cannot_lock_out_the_clerk_signing_in_elsewhere(client, clock):
    staff_id, secret = await add_staff(client.app[SESSIONS], "clerk1")
    statuses = [(await login(client, ATTACKER, "clerk1", f"guess {n}"))[0] for n in range(8)]
    assert statuses == [401] * 5 + [423] * 3
    # The attacker is stopped, even with the right password and code.
    status, data = await login(client, ATTACKER, "clerk1", DEFAULT_PASSWORD, totp.code_at(secret, clock.now()))
    assert (status, data["error"]["code"]) == (423, "account_locked")

    clock.advance(seconds=30)
    status, data = await login(client, CLERK, "clerk1", DEFAULT_PASSWORD, totp.code_at(secret, clock.now()))
    assert status == 200, data
    assert (await staff_row(client, staff_id)).locked_until is None

    clock.advance(minutes=14)  # still within the attacker's 15 minutes
    assert (await login(client, ATTACKER, "clerk1", DEFAULT_PASSWORD))[0] == 423
    clock.advance(minutes=1)
    assert (await login(client, ATTACKER, "clerk1", "guess again"))[0] == 401
    async with client.app[SESSIONS]() as session:
        entries = list(await session.scalars(select(AuditEntry).where(AuditEntry.action == "staff.locked")))
    assert [(e.subject, e.details["scope"]) for e in entries] == [(f"staff:{staff_id}", "source")]
    # Nothing in the database names the source.
    everything = repr([(e.actor, e.subject, e.details) for e in entries])
    assert ATTACKER not in everything


async def test_unknown_names_lock_per_source_too(client):
    """Otherwise a name that stays locked for everybody would give away that it has no account."""
    assert [(await login(client, ATTACKER, "nobody", "x"))[0] for _ in range(6)] == [401] * 5 + [423]
    assert (await login(client, CLERK, "nobody", "x"))[0] == 401


async def test_failures_from_many_sources_still_lock_the_account(client, clock, monkeypatch):
    """The ceiling over all sources (100 in production; 12 here to keep the test short)."""
    monkeypatch.setattr(service, "ACCOUNT_FAILURES", 12)
    monkeypatch.setattr(lockout, "ACCOUNT_FAILURES", 12)
    staff_id, secret = await add_staff(client.app[SESSIONS], "clerk1")
    for n in range(12):
        assert (await login(client, f"198.51.100.{n // 4}", "clerk1", "guess"))[0] == 401
    assert (await staff_row(client, staff_id)).locked_until is not None
    status, _ = await login(client, CLERK, "clerk1", DEFAULT_PASSWORD, totp.code_at(secret, clock.now()))
    assert status == 423
    for n in range(12):
        assert (await login(client, f"198.51.100.{n // 4}", "nobody", "guess"))[0] == 401
    assert (await login(client, CLERK, "nobody", "guess"))[0] == 423


NUL_MESSAGE = "Dieses Feld enthält ein unzulässiges Zeichen."


@pytest.mark.parametrize("field", ["username", "password"])
async def test_a_nul_in_a_sign_in_field_is_a_field_error_and_counted(client, field):
    staff_id, _ = await add_staff(client.app[SESSIONS], "clerk1")
    body = {"username": "clerk1", "password": "wrong password", "code": ""}
    body[field] = body[field] + "\x00"
    for _ in range(5):
        response = await post_json(client, "/api/staff/login", body, headers={"X-Forwarded-For": ATTACKER})
        data = await response.json()
        assert (response.status, data["error"]["code"]) == (422, "validation_failed"), data
        assert data["error"]["fields"] == {field: NUL_MESSAGE}
    response = await post_json(client, "/api/staff/login", body, headers={"X-Forwarded-For": ATTACKER})
    assert (response.status, (await response.json())["error"]["code"]) == (423, "account_locked")
    failed = (await staff_row(client, staff_id)).failed_attempts
    assert failed == (5 if field == "password" else 0)  # a name with a NUL is no account's name
    # Elsewhere (the enrolment token) such text is refused at the parse, before any lookup.
    response = await post_json(client, "/api/staff/enrol", {"token": "1.2.a\x00b", "code": "123456"})
    data = (await response.json())["error"]
    assert (response.status, data["code"], data["fields"]) == (422, "validation_failed", {"token": NUL_MESSAGE})


async def test_source_lockouts_are_shared_across_processes(aiohttp_client, settings, clock, redis_prefix):
    """Two app instances with one Redis: five failures in all lock the source on both."""
    shared = settings.replace(redis_url="redis://127.0.0.1:6379/0", redis_prefix=redis_prefix)
    first = await aiohttp_client(create_app(shared, clock=clock))
    second = await aiohttp_client(create_app(shared.replace(seed_demo=False), clock=clock))
    await add_staff(first.app[SESSIONS], "clerk1")
    statuses = [(await login((first, second)[n % 2], ATTACKER, "clerk1", "guess"))[0] for n in range(6)]
    assert statuses == [401] * 5 + [423]
    names = [(await login((first, second)[n % 2], ATTACKER, "nobody", "guess"))[0] for n in range(6)]
    assert names == [401] * 5 + [423]
    clock.advance(minutes=15)  # the lock ends by the app's clock, on both
    assert (await login(second, ATTACKER, "clerk1", "guess"))[0] == 401
    assert (await login(first, ATTACKER, "nobody", "guess"))[0] == 401
