"""Booking: reserve a slot, confirm it by double opt-in, cancel or reschedule it from the email link.

Every booking change starts by bumping its location's `booking_version`. That first write takes
SQLite's write lock or PostgreSQL's row lock, so the check "is the slot still free?" and the insert
happen for one booking at a time per location: a slot is never over-booked.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from vibue.booking.context import Context
from vibue.booking.lifecycle import transition
from vibue.booking.mails import (
    BookingMailData,
    cancellation_mail,
    confirmation_mail,
    reschedule_mail,
    reservation_mail,
)
from vibue.catalog.service import resolve_offer
from vibue.catalog.slots import booking_window, free_slots, grid, holding
from vibue.core.audit import record
from vibue.core.errors import Conflict, NotFound
from vibue.core.i18n import language, localized
from vibue.core.references import new_manage_token, new_reference, token_hash
from vibue.core.settings import Settings
from vibue.core.urls import public_url
from vibue.models import Appointment, Closure, Location


@dataclass(frozen=True)
class Citizen:
    name: str
    email: str
    phone: str
    lang: str


def manage_url(settings: Settings, token: str) -> str:
    return public_url(settings, f"/termin/{token}")


def confirm_url(settings: Settings, token: str) -> str:
    return manage_url(settings, token) + "?aktion=bestaetigen"


def join_url(settings: Settings, appointment: Appointment, token: str) -> str | None:
    # The pre-call page: camera check, identity code, waiting room; it opens 15 minutes before the slot.
    return public_url(settings, f"/video/{token}") if appointment.channel == "video" else None


async def lock_location(*, session: AsyncSession, location_id: int) -> None:
    """The first write of every booking transaction: serialises bookings at one location."""
    result = await session.execute(
        update(Location).where(Location.id == location_id).values(booking_version=Location.booking_version + 1)
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        raise NotFound("location_not_found")


async def lock_citizen(*, session: AsyncSession, email: str) -> None:
    """Serialise one citizen's bookings across locations for the one-open-booking rule.

    SQLite already runs one writer at a time (the location bump took the database lock); on
    PostgreSQL a transaction-scoped advisory lock on the address's hash does the same per citizen.
    """
    if session.get_bind().dialect.name == "postgresql":
        key = int.from_bytes(hashlib.sha256(email.encode()).digest()[:8], "big", signed=True)
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


async def ensure_free(
    *,
    session: AsyncSession,
    ctx: Context,
    appointment_unit: int,
    concern_id: int,
    location_id: int,
    start: datetime,
    ignore: int | None = None,
) -> datetime:
    """Check that `start` is a free slot; return its end. Raises slot_unavailable or slot_taken."""
    _, concern, location = await resolve_offer(
        session=session, unit_id=appointment_unit, concern_id=concern_id, location_id=location_id
    )
    tz = ctx.tz
    window = booking_window(
        now=ctx.now,
        tz=tz,
        lead_minutes=ctx.settings.min_lead_minutes,
        horizon_days=ctx.settings.booking_horizon_days,
    )
    day = start.astimezone(tz).date()
    free = await free_slots(
        session=session,
        unit_id=appointment_unit,
        concern=concern,
        location=location,
        first_day=day,
        days=1,
        now=ctx.now,
        tz=tz,
        window=window,
        ignore_appointment=ignore,
    )
    if any(slot.start == start for slot in free.get(day, [])):
        return start + timedelta(minutes=concern.duration_minutes)
    # Tell "somebody was faster" apart from "this was never a bookable time".
    closed = await session.scalar(
        select(func.count())
        .select_from(Closure)
        .where(Closure.location_id == location.id, Closure.first_day <= day, Closure.last_day >= day)
    )
    on_grid = any(slot.start == start for slot in grid(location, day, timedelta(minutes=concern.duration_minutes), tz))
    if on_grid and not closed and start >= window.earliest and day <= window.last_day:
        raise Conflict("slot_taken")
    raise Conflict("slot_unavailable")


async def reserve(
    *,
    session: AsyncSession,
    ctx: Context,
    unit_id: int,
    concern_id: int,
    location_id: int,
    start: datetime,
    citizen: Citizen,
) -> tuple[Appointment, str]:
    """Hold a slot for the reservation period and queue the mail with the confirm link."""
    await lock_location(session=session, location_id=location_id)
    end = await ensure_free(
        session=session, ctx=ctx, appointment_unit=unit_id, concern_id=concern_id, location_id=location_id, start=start
    )
    await lock_citizen(session=session, email=citizen.email)
    open_booking = await session.scalar(
        select(func.count())
        .select_from(Appointment)
        .where(
            Appointment.citizen_email == citizen.email,
            Appointment.concern_id == concern_id,
            Appointment.end_at > ctx.now,
            holding(ctx.now),
        )
    )
    if open_booking:
        raise Conflict("open_booking_exists")
    _, _, location = await resolve_offer(
        session=session, unit_id=unit_id, concern_id=concern_id, location_id=location_id
    )
    token = new_manage_token()
    appointment = Appointment(
        reference=await unique_reference(session),
        manage_token_hash=token_hash(token),
        unit_id=unit_id,
        concern_id=concern_id,
        location_id=location_id,
        channel=location.channel,
        status="reserved",
        start_at=start,
        end_at=end,
        reserved_until=ctx.now + timedelta(minutes=ctx.settings.reservation_minutes),
        citizen_name=citizen.name,
        citizen_email=citizen.email,
        citizen_phone=citizen.phone,
        lang=citizen.lang,
        created_at=ctx.now,
        updated_at=ctx.now,
    )
    session.add(appointment)
    await session.flush()
    record(
        session=session,
        at=ctx.now,
        actor=f"citizen:{appointment.reference}",
        action="booking.reserved",
        subject=f"appointment:{appointment.id}",
        channel=appointment.channel,
    )
    await _load(session, appointment)
    ctx.mail.enqueue(session=session, message=reservation_mail(mail_data(ctx, appointment, token), now=ctx.now))
    return appointment, token


async def unique_reference(session: AsyncSession) -> str:
    """A booking reference no appointment has yet."""
    while True:
        reference = new_reference()
        if not await session.scalar(select(func.count()).where(Appointment.reference == reference)):
            return reference


async def _load(session: AsyncSession, appointment: Appointment) -> None:
    await session.refresh(appointment, ["concern", "unit", "location"])


async def find(*, session: AsyncSession, token: str) -> Appointment:
    """The appointment behind an email link's secret, with its concern, unit and location."""
    appointment = await session.scalar(
        select(Appointment)
        .options(selectinload(Appointment.concern), selectinload(Appointment.unit), selectinload(Appointment.location))
        .where(Appointment.manage_token_hash == token_hash(token))
    )
    if appointment is None:
        raise NotFound("booking_not_found")
    return appointment


def expired(appointment: Appointment, now: datetime) -> bool:
    """The reservation lapsed unconfirmed: to the citizen it is as good as cancelled."""
    return appointment.lapsed(now)


def visible_status(appointment: Appointment, now: datetime) -> str:
    """The status a citizen sees: a lapsed reservation is as good as cancelled."""
    return "cancelled" if expired(appointment, now) else appointment.status


def can_change(appointment: Appointment, now: datetime) -> bool:
    return (
        appointment.status in ("reserved", "confirmed") and not expired(appointment, now) and appointment.start_at > now
    )


async def confirm(*, session: AsyncSession, ctx: Context, token: str) -> Appointment:
    """Double opt-in: the click in the mail turns the reservation into a booking (idempotent)."""
    appointment = await find(session=session, token=token)
    if appointment.status == "confirmed":
        return appointment
    if expired(appointment, ctx.now):
        raise Conflict("reservation_expired")
    transition(appointment, "confirmed", now=ctx.now)
    appointment.reserved_until = None
    record(
        session=session,
        at=ctx.now,
        actor=f"citizen:{appointment.reference}",
        action="booking.confirmed",
        subject=f"appointment:{appointment.id}",
    )
    ctx.mail.enqueue(session=session, message=confirmation_mail(mail_data(ctx, appointment, token), now=ctx.now))
    return appointment


async def cancel(*, session: AsyncSession, ctx: Context, token: str) -> Appointment:
    """Cancel from the email link; the slot is bookable again at once."""
    appointment = await find(session=session, token=token)
    if appointment.status == "cancelled":
        return appointment
    if not can_change(appointment, ctx.now):
        raise Conflict(
            "reservation_expired" if expired(appointment, ctx.now) else "status_conflict", status=appointment.status
        )
    await lock_location(session=session, location_id=appointment.location_id)
    transition(appointment, "cancelled", now=ctx.now)
    record(
        session=session,
        at=ctx.now,
        actor=f"citizen:{appointment.reference}",
        action="booking.cancelled",
        subject=f"appointment:{appointment.id}",
    )
    ctx.mail.enqueue(session=session, message=cancellation_mail(mail_data(ctx, appointment, token), now=ctx.now))
    return appointment


async def reschedule(*, session: AsyncSession, ctx: Context, token: str, start: datetime) -> Appointment:
    """Move the appointment to another free slot of the same concern and location."""
    appointment = await find(session=session, token=token)
    if not can_change(appointment, ctx.now):
        raise Conflict(
            "reservation_expired" if expired(appointment, ctx.now) else "status_conflict", status=appointment.status
        )
    await lock_location(session=session, location_id=appointment.location_id)
    end = await ensure_free(
        session=session,
        ctx=ctx,
        appointment_unit=appointment.unit_id,
        concern_id=appointment.concern_id,
        location_id=appointment.location_id,
        start=start,
        ignore=appointment.id,
    )
    previous_start = appointment.start_at
    appointment.start_at = start
    appointment.end_at = end
    appointment.updated_at = ctx.now
    record(
        session=session,
        at=ctx.now,
        actor=f"citizen:{appointment.reference}",
        action="booking.rescheduled",
        subject=f"appointment:{appointment.id}",
    )
    data = mail_data(ctx, appointment, token, previous_start=previous_start)
    # Still unconfirmed: the new time needs the confirm link, and the hold keeps running.
    compose = reservation_mail if appointment.status == "reserved" else reschedule_mail
    ctx.mail.enqueue(session=session, message=compose(data, now=ctx.now))
    return appointment


def mail_data(
    ctx: Context, appointment: Appointment, token: str, *, previous_start: datetime | None = None
) -> BookingMailData:
    # The mail's language and the concern's texts follow the one rule of vibue.core.i18n:
    # English when asked for and present, German otherwise.
    lang = language(appointment.lang)
    concern = appointment.concern
    return BookingMailData(
        reference=appointment.reference,
        citizen_name=appointment.citizen_name,
        citizen_email=appointment.citizen_email,
        concern_name=localized(concern, "name", lang),
        location_name=localized(appointment.location, "name", lang),
        location_address=localized(appointment.location, "address", lang),
        channel=appointment.channel,
        start=appointment.start_at,
        end=appointment.end_at,
        timezone=ctx.settings.timezone,
        checklist=list(localized(concern, "checklist", lang)),
        confirm_url=confirm_url(ctx.settings, token),
        manage_url=manage_url(ctx.settings, token),
        join_url=join_url(ctx.settings, appointment, token),
        reserved_until=appointment.reserved_until,
        city_name=ctx.settings.city_name,
        mail_from=ctx.settings.mail_from,
        lang=lang,
        book_url=public_url(ctx.settings, "/buchen"),
        previous_start=previous_start,
    )
