"""Free slots from opening hours, closures, the concern's duration and staff capacity.

A slot is free when more clerks serve the unit at the location during the whole slot than there
are holding appointments of that unit overlapping it. Slots start on a grid of the concern's
duration from each opening interval's start; times are computed in the office's time zone, so
daylight-saving changes fall where a citizen expects them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, and_, not_, select
from sqlalchemy.ext.asyncio import AsyncSession

from vibue.models import HOLDING, Appointment, Capacity, Closure, Concern, Location, Staff

MAX_DAYS_PER_QUERY = 31


@dataclass(frozen=True)
class Slot:
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Window:
    """Which days a citizen may book: from `earliest` (now + lead time) up to the horizon's last day."""

    earliest: datetime
    last_day: date


def booking_window(*, now: datetime, tz: ZoneInfo, lead_minutes: int, horizon_days: int) -> Window:
    return Window(
        earliest=now + timedelta(minutes=lead_minutes),
        last_day=now.astimezone(tz).date() + timedelta(days=horizon_days),
    )


def holding(now: datetime) -> ColumnElement[bool]:
    """SQL condition: the appointment keeps its slot (unconfirmed reservations only until they expire)."""
    return and_(Appointment.status.in_(HOLDING), not_(Appointment.lapsed_at(now)))


def serving(unit_id: int, location_id: int) -> Select[Capacity]:
    """Shifts of active staff for this unit at this location: a deactivated clerk offers no slots."""
    return (
        select(Capacity)
        .join(Staff, Staff.id == Capacity.staff_id)
        .where(Capacity.location_id == location_id, Capacity.unit_id == unit_id, Staff.active.is_(True))
    )


def _local(day: date, moment: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, moment, tzinfo=tz)


def grid(location: Location, day: date, duration: timedelta, tz: ZoneInfo) -> list[Slot]:
    """Every slot the opening hours of `day` allow, free or not (closures not considered)."""
    slots: list[Slot] = []
    for hours in sorted((h for h in location.hours if h.weekday == day.weekday()), key=lambda h: h.opens):
        start = _local(day, hours.opens, tz)
        closes = _local(day, hours.closes, tz)
        while start + duration <= closes:
            slots.append(Slot(start, start + duration))
            start += duration
    return slots


async def free_slots(
    *,
    session: AsyncSession,
    unit_id: int,
    concern: Concern,
    location: Location,
    first_day: date,
    days: int,
    now: datetime,
    tz: ZoneInfo,
    window: Window,
    ignore_appointment: int | None = None,
) -> dict[date, list[Slot]]:
    """Free slots per local day for `days` days from `first_day` (days past the horizon are left out)."""
    days = max(1, min(days, MAX_DAYS_PER_QUERY))
    last_day = min(first_day + timedelta(days=days - 1), window.last_day)
    result: dict[date, list[Slot]] = {}
    if last_day < first_day:
        return result
    range_start = _local(first_day, time.min, tz)
    range_end = _local(last_day + timedelta(days=1), time.min, tz)

    closures = list(
        await session.scalars(
            select(Closure).where(
                Closure.location_id == location.id, Closure.first_day <= last_day, Closure.last_day >= first_day
            )
        )
    )
    shifts = list(await session.scalars(serving(unit_id, location.id)))
    busy_query = select(Appointment.id, Appointment.start_at, Appointment.end_at).where(
        Appointment.location_id == location.id,
        Appointment.unit_id == unit_id,
        Appointment.start_at < range_end,
        Appointment.end_at > range_start,
        holding(now),
    )
    busy = [(start, end) for ident, start, end in await session.execute(busy_query) if ident != ignore_appointment]
    duration = timedelta(minutes=concern.duration_minutes)

    day = first_day
    while day <= last_day:
        closed = any(c.first_day <= day <= c.last_day for c in closures)
        result[day] = (
            []
            if closed
            else [
                slot
                for slot in grid(location, day, duration, tz)
                if slot.start >= window.earliest
                and sum(
                    1
                    for s in shifts
                    if s.weekday == day.weekday()
                    and _local(day, s.starts, tz) <= slot.start
                    and _local(day, s.ends, tz) >= slot.end
                )
                > sum(1 for b_start, b_end in busy if b_start < slot.end and b_end > slot.start)
            ]
        )
        day += timedelta(days=1)
    return result


async def closed_days(*, session: AsyncSession, location: Location, days: list[date]) -> set[date]:
    """The `days` the location is closed: no opening hours on that weekday, or a closure.

    The day list says "geschlossen" for these and "ausgebucht" only for an open day without a free slot.
    """
    if not days:
        return set()
    closures = list(
        await session.scalars(
            select(Closure).where(
                Closure.location_id == location.id, Closure.first_day <= max(days), Closure.last_day >= min(days)
            )
        )
    )
    weekdays = {h.weekday for h in location.hours}
    return {
        day for day in days if day.weekday() not in weekdays or any(c.first_day <= day <= c.last_day for c in closures)
    }


async def next_free_slot(
    *,
    session: AsyncSession,
    unit_id: int,
    concern: Concern,
    location: Location,
    now: datetime,
    tz: ZoneInfo,
    window: Window,
) -> Slot | None:
    """The earliest free slot within the booking horizon, searched a month at a time."""
    day = window.earliest.astimezone(tz).date()
    while day <= window.last_day:
        found = await free_slots(
            session=session,
            unit_id=unit_id,
            concern=concern,
            location=location,
            first_day=day,
            days=MAX_DAYS_PER_QUERY,
            now=now,
            tz=tz,
            window=window,
        )
        for slots in found.values():
            if slots:
                return slots[0]
        day += timedelta(days=MAX_DAYS_PER_QUERY)
    return None
