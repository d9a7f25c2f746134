"""Development helpers for the /dev page: demo sign-ins with live codes, and the mail outbox.

Every endpoint here is dev_only: in production mode the routes are not even registered.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

from aiohttp import web
from pydantic import BaseModel, Field
from sqlalchemy import select

from vibue.booking import service as booking
from vibue.booking.mails import confirmation_mail
from vibue.core.audit import record
from vibue.core.errors import NotFound
from vibue.core.references import new_manage_token, token_hash
from vibue.core.urls import public_url
from vibue.mail.transports import FileOutbox
from vibue.models import Appointment, Concern, Location, ServiceUnit, Staff
from vibue.seed import DEMO_STAFF
from vibue.staff import totp
from vibue.web.appkeys import CLOCK, MAIL, SESSIONS, SETTINGS
from vibue.web.routing import PUBLIC, Routes

routes = Routes("dev")


class DemoAccount(BaseModel):
    username: str
    password: str
    role: str
    display_name: str
    totp_enrolled: bool
    totp_code: str
    seconds_left: int


class AccountsOut(BaseModel):
    accounts: list[DemoAccount]


class OutboxMessage(BaseModel):
    file: str = Field(description="File name in the outbox folder.")
    to: str
    subject: str
    date: datetime | None
    size: int
    text: str


class OutboxOut(BaseModel):
    folder: str
    messages: list[OutboxMessage]


@routes.get(
    "/api/dev/accounts",
    roles=PUBLIC,
    dev_only=True,
    summary="Demo staff accounts with their current one-time code (development only)",
    response=AccountsOut,
)
async def dev_accounts(request: web.Request) -> AccountsOut:
    now = request.app[CLOCK].now()
    names = [demo.username for demo in DEMO_STAFF]
    async with request.app[SESSIONS]() as session:
        rows = {s.username: s for s in await session.scalars(select(Staff).where(Staff.username.in_(names)))}
    accounts = []
    for demo in DEMO_STAFF:
        staff = rows.get(demo.username)
        if staff is None or not staff.active:
            continue  # removed or deactivated through the admin CLI
        accounts.append(
            DemoAccount(
                username=demo.username,
                password=demo.password,
                role=staff.role,
                display_name=staff.display_name,
                totp_enrolled=staff.totp_enrolled,
                totp_code=totp.code_at(staff.totp_secret, now),
                seconds_left=totp.seconds_left(now),
            )
        )
    return AccountsOut(accounts=accounts)


def _text_body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    if part is None:
        return ""
    content = part.get_content()
    return content if isinstance(content, str) else ""


def _read_outbox(folder: Path) -> list[OutboxMessage]:
    outbox = FileOutbox(folder)
    messages = []
    for entry in outbox.list_messages():
        try:
            text = _text_body(outbox.read_message(entry.name))
        except FileNotFoundError:  # cleaned up between listing and reading
            continue
        messages.append(
            OutboxMessage(
                file=entry.name, to=entry.to, subject=entry.subject, date=entry.date, size=entry.size, text=text
            )
        )
    return messages


@routes.get(
    "/api/dev/outbox",
    roles=PUBLIC,
    dev_only=True,
    summary="Mails in the file outbox, newest first, with their text (development only)",
    response=OutboxOut,
)
async def dev_outbox(request: web.Request) -> OutboxOut:
    folder = Path(request.app[SETTINGS].data_dir) / "outbox"
    messages = await asyncio.to_thread(_read_outbox, folder)
    return OutboxOut(folder=str(folder), messages=messages)


class DemoCallOut(BaseModel):
    reference: str
    video_url: str
    manage_url: str
    start: datetime


DEMO_EMAIL = "demo.buergerin@example.org"


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
        unit = await session.scalar(select(ServiceUnit).where(ServiceUnit.slug == "buergeramt-virtuell"))
        concern = await session.scalar(select(Concern).where(Concern.slug == "an-ummeldung"))
        location = await session.scalar(select(Location).where(Location.slug == "bv-video"))
        if unit is None or concern is None or location is None:
            raise NotFound("not_found")
        appointment = Appointment(
            reference=await booking.unique_reference(session),
            manage_token_hash=token_hash(token),
            unit_id=unit.id,
            concern_id=concern.id,
            location_id=location.id,
            channel="video",
            status="confirmed",
            start_at=start,
            end_at=start + timedelta(minutes=concern.duration_minutes),
            citizen_name="Demo Bürgerin",
            citizen_email=DEMO_EMAIL,
            lang="de",
            created_at=now,
            updated_at=now,
        )
        session.add(appointment)
        await session.flush()
        record(session=session, at=now, actor="dev", action="dev.demo_call", subject=f"appointment:{appointment.id}")
        await session.refresh(appointment, ["concern", "unit", "location"])
        ctx = booking.Context(now=now, settings=settings, mail=request.app[MAIL])
        ctx.mail.enqueue(
            session=session, message=confirmation_mail(booking.mail_data(ctx, appointment, token), now=now)
        )
        reference = appointment.reference
    request.app[MAIL].wake()
    return DemoCallOut(
        reference=reference,
        video_url=public_url(settings, f"/video/{token}"),
        manage_url=booking.manage_url(settings, token),
        start=start.astimezone(ZoneInfo(settings.timezone)),
    )
