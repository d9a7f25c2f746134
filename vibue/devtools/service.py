"""Development helpers' rules: reading the file outbox and creating a demo video appointment."""

from __future__ import annotations

from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from vibue.booking import service as booking
from vibue.booking.context import Context
from vibue.booking.mails import confirmation_mail
from vibue.core.audit import record
from vibue.core.errors import NotFound
from vibue.core.references import token_hash
from vibue.devtools.schemas import OutboxMessage
from vibue.mail.transports import FileOutbox
from vibue.models import Appointment, Concern, Location, ServiceUnit, Staff
from vibue.seed import DEMO_STAFF, DemoStaff

DEMO_EMAIL = "demo.buergerin@example.org"


async def demo_staff(*, session: AsyncSession) -> list[tuple[DemoStaff, Staff]]:
    """The demo accounts still active, with their rows (removed or deactivated ones are left out)."""
    names = [demo.username for demo in DEMO_STAFF]
    rows = {s.username: s for s in await session.scalars(select(Staff).where(Staff.username.in_(names)))}
    return [(demo, rows[demo.username]) for demo in DEMO_STAFF if demo.username in rows and rows[demo.username].active]


def _text_body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    if part is None:
        return ""
    content = part.get_content()
    return content if isinstance(content, str) else ""


def read_outbox(folder: Path) -> list[OutboxMessage]:
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


async def create_demo_call(*, session: AsyncSession, ctx: Context, token: str, start: datetime) -> str:
    """A confirmed video appointment of the demo catalog at `start`, with its mail queued; its reference."""
    now = ctx.now
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
    ctx.mail.enqueue(session=session, message=confirmation_mail(booking.mail_data(ctx, appointment, token), now=now))
    return appointment.reference
