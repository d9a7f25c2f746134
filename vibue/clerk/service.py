"""The clerk's desk: today's appointments, on-site concerns and counting walk-ins.

The day list shows the booked appointments (video and on site) starting on that local day,
ordered by start; cancelled ones come last so the working list stays on top. A clerk sees only
the unit and location pairs they have shifts for (data minimisation), an admin sees all.
Reservations that expired unconfirmed are no appointments and never shown. Walk-ins carry no
personal data and are only counted per concern.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, not_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from vibue.booking import service as booking
from vibue.booking.lifecycle import OUTCOME_STATUS, transition
from vibue.core import audit
from vibue.core.errors import Conflict, NotFound
from vibue.models import Appointment, Capacity, Concern, Location, Staff
from vibue.staff import units

WALK_IN = "walk_in"


def day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC instants where the local `day` starts and the next one starts (DST-safe)."""
    start = datetime.combine(day, time(0), tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    return start, end


async def day_appointments(
    *, session: AsyncSession, day: date, tz: ZoneInfo, viewer: Staff, now: datetime
) -> list[Appointment]:
    """The appointments of `day` that `viewer` may see, cancelled ones last."""
    start, end = day_bounds(day, tz)
    query = (
        select(Appointment)
        .options(selectinload(Appointment.concern), selectinload(Appointment.location))
        .where(
            Appointment.start_at >= start,
            Appointment.start_at < end,
            Appointment.channel != WALK_IN,
            not_(Appointment.lapsed_at(now)),
        )
        .order_by(case((Appointment.status == "cancelled", 1), else_=0), Appointment.start_at, Appointment.id)
    )
    # Any shift (on any weekday) for the appointment's unit at its location.
    query = query.where(units.serves(viewer))
    return list(await session.scalars(query))


async def walk_in_counts(*, session: AsyncSession, day: date, tz: ZoneInfo) -> list[tuple[Concern, int]]:
    start, end = day_bounds(day, tz)
    query = (
        select(Concern, func.count(Appointment.id))
        .join(Appointment, Appointment.concern_id == Concern.id)
        .where(Appointment.channel == WALK_IN, Appointment.start_at >= start, Appointment.start_at < end)
        .group_by(Concern.id)
        .order_by(Concern.sort_order, Concern.id)
    )
    return [(concern, int(count)) for concern, count in (await session.execute(query)).all()]


async def _physical_capacity(session: AsyncSession) -> list[tuple[int, int, int]]:
    """(location id, unit id, staff id) of every shift at a physical location."""
    query = (
        select(Capacity.location_id, Capacity.unit_id, Capacity.staff_id)
        .join(Location, Location.id == Capacity.location_id)
        .where(Location.kind == "physical")
        .order_by(Location.id, Capacity.unit_id, Capacity.id)
    )
    return [(row[0], row[1], row[2]) for row in (await session.execute(query)).all()]


async def on_site_concerns(*, session: AsyncSession) -> list[Concern]:
    """Active concerns handled on site by a unit that has shifts at some physical location."""
    served_units = {unit_id for _, unit_id, _ in await _physical_capacity(session)}
    concerns = await session.scalars(
        select(Concern)
        .options(selectinload(Concern.units))
        .where(Concern.active.is_(True))
        .order_by(Concern.sort_order, Concern.id)
    )
    return [c for c in concerns if "on_site" in c.channels and any(u.id in served_units for u in c.units)]


async def record_walk_in(
    *, session: AsyncSession, clerk: Staff, concern_id: int, location_id: int | None, now: datetime
) -> Appointment:
    """Count one walk-in: a completed on-site appointment without any personal data."""
    concern = await session.scalar(select(Concern).options(selectinload(Concern.units)).where(Concern.id == concern_id))
    if concern is None or not concern.active or "on_site" not in concern.channels:
        raise NotFound("concern_not_found")
    unit_ids = {unit.id for unit in concern.units}
    shifts = [s for s in await _physical_capacity(session) if s[1] in unit_ids]
    if location_id is not None:
        shifts = [s for s in shifts if s[0] == location_id]
    if not shifts:
        raise NotFound("location_not_found")
    # The clerk's own shift says best where they stand; otherwise the first location serving it.
    chosen = next((s for s in shifts if s[2] == clerk.id), shifts[0])
    appointment = Appointment(
        reference=await booking.unique_reference(session),
        unit_id=chosen[1],
        concern_id=concern.id,
        location_id=chosen[0],
        channel=WALK_IN,
        status="completed",
        start_at=now,
        end_at=now,
        citizen_name="",
        citizen_email="",
        citizen_phone="",
        clerk_id=clerk.id,
        created_at=now,
        updated_at=now,
    )
    session.add(appointment)
    await session.flush()
    audit.record(
        session=session,
        at=now,
        actor=f"staff:{clerk.id}",
        action="walk_in.recorded",
        subject=f"appointment:{appointment.id}",
        concern_id=concern.id,
        location_id=chosen[0],
    )
    return appointment


async def walk_ins_on(*, session: AsyncSession, concern_id: int, day: date, tz: ZoneInfo) -> int:
    start, end = day_bounds(day, tz)
    count = await session.scalar(
        select(func.count(Appointment.id)).where(
            Appointment.channel == WALK_IN,
            Appointment.concern_id == concern_id,
            Appointment.start_at >= start,
            Appointment.start_at < end,
        )
    )
    return int(count or 0)


async def record_outcome(
    *, session: AsyncSession, viewer: Staff, appointment_id: int, outcome: str, now: datetime
) -> Appointment:
    """Record afterwards how an abandoned call (or an unserved check-in) ended."""
    query = select(Appointment).where(
        Appointment.id == appointment_id, Appointment.channel != WALK_IN, units.serves(viewer)
    )
    appointment = await session.scalar(query.with_for_update(of=Appointment))
    if appointment is None:
        raise NotFound("not_found")
    if appointment.status != "abandoned":
        raise Conflict("status_conflict", status=appointment.status)
    transition(appointment, OUTCOME_STATUS[outcome], now=now)
    appointment.outcome = outcome
    audit.record(
        session=session,
        at=now,
        actor=f"staff:{viewer.id}",
        action="call.outcome_recorded",
        subject=f"appointment:{appointment.id}",
        outcome=outcome,
    )
    return appointment
