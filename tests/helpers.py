"""Shared test helpers: CSRF headers, staff accounts with known secrets, signing in through the API."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import ClientSession
from aiohttp.test_utils import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from documents import pki
from vibue.core.settings import Settings
from vibue.models import Staff
from vibue.seed import DEMO_STAFF
from vibue.staff import totp
from vibue.staff.passwords import hash_password_sync
from vibue.web.appkeys import CLOCK, SESSIONS

# The in-process test client or a plain session against a served app: both take relative paths.
Client = TestClient[Any, Any] | ClientSession

CSRF_COOKIE = "vibue_csrf"
STAFF_COOKIE = "vibue_staff"
DEFAULT_PASSWORD = "correct horse battery"


def cookie(client: Client, name: str) -> str | None:
    """The value of a cookie the client's jar holds for the test server, or None."""
    jar = client.session.cookie_jar if isinstance(client, TestClient) else client.cookie_jar
    for morsel in jar:
        if morsel.key == name:
            return morsel.value
    return None


async def csrf_headers(client: Client) -> dict[str, str]:
    """{"X-CSRF-Token": ...} echoing the vibue_csrf cookie (fetched with a GET when the jar has none)."""
    value = cookie(client, CSRF_COOKIE)
    if value is None:
        response = await client.get("/healthz")
        response.release()
        value = cookie(client, CSRF_COOKIE)
    assert value, "the app did not hand out a vibue_csrf cookie"
    return {"X-CSRF-Token": value}


async def post_json(client: Client, path: str, body: Any = None, **kwargs: Any) -> Any:
    """POST JSON with the CSRF header; returns the response (not yet read)."""
    headers = {**(await csrf_headers(client)), **kwargs.pop("headers", {})}
    return await client.post(path, json={} if body is None else body, headers=headers, **kwargs)


async def add_staff(
    sessions: async_sessionmaker[AsyncSession],
    username: str,
    *,
    role: str = "clerk",
    password: str = DEFAULT_PASSWORD,
    secret: str | None = None,
    enrolled: bool = True,
    display_name: str | None = None,
    now: Any = None,
) -> tuple[int, str]:
    """Insert a staff row with a known password and TOTP secret; returns (id, secret)."""
    secret = secret or totp.new_secret()
    async with sessions.begin() as session:
        staff = Staff(
            username=username,
            display_name=display_name or username.title(),
            role=role,
            password_hash=hash_password_sync(password),
            totp_secret=secret,
            totp_enrolled=enrolled,
            created_at=now or datetime.now(UTC),
        )
        session.add(staff)
        await session.flush()
        return staff.id, secret


async def fresh_code(
    client: TestClient[Any, Any], sessions: async_sessionmaker[AsyncSession] | None, username: str
) -> str:
    """A code for `username` that has not been used yet, at the app's clock (within the ±1 step window)."""
    maker = sessions or client.app[SESSIONS]
    async with maker() as session:
        staff = await session.scalar(select(Staff).where(Staff.username == username))
    assert staff is not None, f"no staff member {username!r}"
    now = client.app[CLOCK].now()
    for offset in (-1, 0, 1):
        if totp.step_at(now) + offset > staff.totp_last_step:
            return totp.code_at(staff.totp_secret, now, offset=offset)
    raise AssertionError(f"every code of {username!r} in the window is used up: advance the clock 30 s")


async def sign_in(
    client: TestClient[Any, Any],
    sessions: async_sessionmaker[AsyncSession] | None,
    username: str,
    password: str,
    totp_secret: str | None = None,
) -> dict[str, Any]:
    """Sign in through POST /api/staff/login; returns the "staff" object. The cookie lands in the jar.

    With `totp_secret` the current code is used as is; without, the secret is read from the
    database and a code not yet used is picked, so one test can sign the same person in twice.
    """
    if totp_secret is None:
        code = await fresh_code(client, sessions, username)
    else:
        code = totp.code_at(totp_secret, client.app[CLOCK].now())
    response = await post_json(client, "/api/staff/login", {"username": username, "password": password, "code": code})
    data = await response.json()
    assert response.status == 200, data
    assert data["staff"] is not None, data
    staff: dict[str, Any] = data["staff"]
    return staff


async def sign_in_demo(client: TestClient[Any, Any], role: str = "clerk") -> dict[str, Any]:
    """Sign in as the first seeded demo account with `role` (the app must seed demo data)."""
    demo = next(d for d in DEMO_STAFF if d.role == role)
    return await sign_in(client, None, demo.username, demo.password)


async def sign_out(client: TestClient[Any, Any]) -> None:
    response = await post_json(client, "/api/staff/logout")
    assert response.status == 204, await response.text()


def with_development_pki(settings: Settings, made: Path) -> Settings:
    """`settings` whose data dir already holds the development PKI `made` (the `development_pki`
    fixture), as after the app's first start: each new one would cost two RSA 3072 keys."""
    shutil.copytree(made, settings.data_path / pki.FOLDER)
    return settings
