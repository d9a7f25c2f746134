"""Development helpers for the /dev page: demo sign-ins with live codes, and the mail outbox.

Every endpoint here is dev_only: in production mode the routes are not even registered.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from aiohttp import web

from vibue.booking import service as booking
from vibue.booking.context import Context
from vibue.core.references import new_manage_token
from vibue.core.urls import public_url
from vibue.devtools import service
from vibue.devtools.schemas import AccountsOut, DemoAccount, DemoCallOut, OutboxOut
from vibue.staff import totp
from vibue.web.appkeys import CLOCK, MAIL, SESSIONS, SETTINGS
from vibue.web.routing import PUBLIC, Routes

routes = Routes("dev")


@routes.get(
    "/api/dev/accounts",
    roles=PUBLIC,
    dev_only=True,
    summary="Demo staff accounts with their current one-time code (development only)",
    response=AccountsOut,
)
async def dev_accounts(request: web.Request) -> AccountsOut:
    now = request.app[CLOCK].now()
    async with request.app[SESSIONS]() as session:
        demo_staff = await service.demo_staff(session=session)
    accounts = [
        DemoAccount(
            username=demo.username,
            password=demo.password,
            role=staff.role,
            display_name=staff.display_name,
            totp_enrolled=staff.totp_enrolled,
            totp_code=totp.code_at(staff.totp_secret, now),
            seconds_left=totp.seconds_left(now),
        )
        for demo, staff in demo_staff
    ]
    return AccountsOut(accounts=accounts)


@routes.get(
    "/api/dev/outbox",
    roles=PUBLIC,
    dev_only=True,
    summary="Mails in the file outbox, newest first, with their text (development only)",
    response=OutboxOut,
)
async def dev_outbox(request: web.Request) -> OutboxOut:
    folder = Path(request.app[SETTINGS].data_dir) / "outbox"
    messages = await asyncio.to_thread(service.read_outbox, folder)
    return OutboxOut(folder=str(folder), messages=messages)


@routes.post(
    "/api/dev/demo-call",
    roles=PUBLIC,
    summary="Development only: a confirmed video appointment starting in 10 minutes, to try a call any time",
    response=DemoCallOut,
    status=201,
    dev_only=True,
    errors=("not_found",),
)
async def demo_call(request: web.Request) -> DemoCallOut:
    """Opening hours and lead time would make a newcomer wait for office hours; this skips them."""
    settings = request.app[SETTINGS]
    now = request.app[CLOCK].now()
    start = (now + timedelta(minutes=10)).replace(second=0, microsecond=0)
    token = new_manage_token()
    async with request.app[SESSIONS].begin() as session:
        reference = await service.create_demo_call(
            session=session, ctx=Context(now=now, settings=settings, mail=request.app[MAIL]), token=token, start=start
        )
    request.app[MAIL].wake()
    return DemoCallOut(
        reference=reference,
        video_url=public_url(settings, f"/video/{token}"),
        manage_url=booking.manage_url(settings, token),
        start=start.astimezone(ZoneInfo(settings.timezone)),
    )
