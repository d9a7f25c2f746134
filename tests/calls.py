"""Helpers for call tests: a citizen with a verified code, signed-in staff, Socket.IO clients."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any

import aiohttp
import pyotp
import pytest
import socketio
from aiohttp import web
from sqlalchemy import select

from tests.booking_flow import confirmed_booking, identity_code_from_mail, offer
from tests.helpers import post_json
from tests.smtp import MailCatcher
from vibue.models import Staff
from vibue.seed import DEMO_STAFF
from vibue.web.appkeys import CLOCK, SESSIONS


def http(base_url: str) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(base_url=base_url, cookie_jar=aiohttp.CookieJar(unsafe=True))


async def booked_video(session: aiohttp.ClientSession, catcher: MailCatcher, *, start: str, email: str) -> str:
    """Book and confirm a video appointment; returns the booking link's secret."""
    o = await offer(session)
    return await confirmed_booking(session, catcher, o, start, email)


async def verified_citizen(
    session: aiohttp.ClientSession, catcher: MailCatcher, *, token: str, email: str, mails_before: int = 2
) -> str:
    """Ask for the identity code by mail and verify it (the room must be open); returns the join token."""
    sent = await post_json(session, f"/api/video/{token}/code")
    assert sent.status == 202, await sent.text()
    code = await identity_code_from_mail(catcher, email, count=mails_before + 1)
    verified = await post_json(session, f"/api/video/{token}/verify", {"code": code})
    assert verified.status == 200, await verified.text()
    return str((await verified.json())["join_token"])


async def staff_cookie(app: web.Application, session: aiohttp.ClientSession, username: str) -> str:
    """Sign a demo account in through the API and return its session cookie."""
    async with app[SESSIONS]() as db:
        secret = await db.scalar(select(Staff.totp_secret).where(Staff.username == username))
    password = next(d.password for d in DEMO_STAFF if d.username == username)
    assert secret is not None
    code = pyotp.TOTP(secret).at(app[CLOCK].now())
    response = await post_json(session, "/api/staff/login", {"username": username, "password": password, "code": code})
    assert response.status == 200, await response.text()
    for morsel in session.cookie_jar:
        if morsel.key == "vibue_staff":
            return morsel.value
    raise AssertionError("no staff cookie")


class Peer:
    """A Socket.IO client that records every event it receives."""

    def __init__(self) -> None:
        # Our own HTTP session, so it is closed even when the connection is refused.
        self.http = aiohttp.ClientSession()
        self.client = socketio.AsyncClient(reconnection=False, http_session=self.http)
        self.events: dict[str, list[Any]] = defaultdict(list)
        self._arrived = asyncio.Event()

        self.client.on("*", self._record)
        # Reserved: the catch-all does not see it. Carries the server's refusal code.
        self.client.on("connect_error", self._refused)
        self.client.on("disconnect", self._disconnected)

    async def _record(self, event: str, data: Any = None) -> None:
        self.events[event].append(data)
        self._arrived.set()

    async def _refused(self, data: Any = None) -> None:
        self.events["connect_error"].append(data)

    async def _disconnected(self, *reason: Any) -> None:
        self.events["disconnect"].append(reason[0] if reason else None)
        self._arrived.set()

    async def connect(
        self,
        base_url: str,
        *,
        join_token: str | None = None,
        cookie: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        headers = {**({"Cookie": f"vibue_staff={cookie}"} if cookie else {}), **(headers or {})}
        await self.client.connect(
            base_url,
            transports=["websocket"],
            socketio_path="socket.io",
            auth={"join_token": join_token} if join_token else {},
            headers=headers,
            wait_timeout=10,
        )

    async def call(self, event: str, data: Any = None) -> Any:
        return await self.client.call(event, {} if data is None else data, timeout=10)

    async def next(self, event: str, count: int = 1, seconds: float = 10.0) -> Any:
        """Wait until `event` arrived `count` times; return the last one."""
        async with asyncio.timeout(seconds):
            while len(self.events[event]) < count:
                self._arrived.clear()
                await self._arrived.wait()
        return self.events[event][count - 1]

    async def close(self) -> None:
        if self.client.connected:
            await self.client.disconnect()
        await self.http.close()


async def refused(base_url: str, **connect: Any) -> list[Any]:
    """Assert that the server refuses this connection; returns what came with `connect_error`."""
    peer = Peer()
    try:
        with pytest.raises(socketio.exceptions.ConnectionError):
            await peer.connect(base_url, **connect)
        return peer.events["connect_error"]
    finally:
        await peer.close()
