"""Slot computation across daylight-saving time, closures and capacity."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from vibue.catalog.slots import booking_window, free_slots
from vibue.core.settings import Settings
from vibue.models import Concern, Location, ServiceUnit
from vibue.seed import seed_demo

TZ = ZoneInfo("Europe/Berlin")


async def _offer(session: AsyncSession) -> tuple[int, Concern, Location]:
    unit = await session.scalar(select(ServiceUnit).where(ServiceUnit.slug == "buergeramt-virtuell"))
    concern = await session.scalar(select(Concern).where(Concern.slug == "an-ummeldung"))
    location = await session.scalar(
        select(Location).options(selectinload(Location.hours)).where(Location.slug == "bv-video")
    )
    assert unit and concern and location
    return unit.id, concern, location


async def test_slots_keep_wall_clock_times_across_the_dst_change(sessions: async_sessionmaker[AsyncSession]) -> None:
    now = datetime(2027, 3, 26, 6, 0, tzinfo=UTC)  # Friday before the clocks go forward (28 March)
    async with sessions.begin() as session:
        await seed_demo(session=session, now=now, settings=Settings())
    async with sessions() as session:
        unit_id, concern, location = await _offer(session)
        window = booking_window(now=now, tz=TZ, lead_minutes=60, horizon_days=60)
        days = await free_slots(
            session=session, unit_id=unit_id, concern=concern, location=location,
            first_day=date(2027, 3, 26), days=4, now=now, tz=TZ, window=window,
        )  # fmt: skip
    friday, monday = days[date(2027, 3, 26)], days[date(2027, 3, 29)]
    assert friday[0].start.isoformat() == "2027-03-26T08:00:00+01:00"
    assert monday[0].start.isoformat() == "2027-03-29T08:00:00+02:00"
    assert monday[0].start.astimezone(UTC).hour == 6  # one hour earlier in UTC than on Friday
    assert days[date(2027, 3, 27)] == days[date(2027, 3, 28)] == []  # weekend
    # 08:00–12:00 and 14:00–18:00 on Mondays, 15-minute slots, one clerk: 32 slots.
    assert len(monday) == 32


async def test_lead_time_and_horizon_bound_the_window(sessions: async_sessionmaker[AsyncSession]) -> None:
    now = datetime(2026, 11, 30, 9, 10, tzinfo=UTC)  # Monday 10:10 in Heidelberg
    async with sessions.begin() as session:
        await seed_demo(session=session, now=now, settings=Settings())
    async with sessions() as session:
        unit_id, concern, location = await _offer(session)
        window = booking_window(now=now, tz=TZ, lead_minutes=60, horizon_days=3)
        days = await free_slots(
            session=session, unit_id=unit_id, concern=concern, location=location,
            first_day=date(2026, 11, 30), days=7, now=now, tz=TZ, window=window,
        )  # fmt: skip
    assert days[date(2026, 11, 30)][0].start.isoformat() == "2026-11-30T11:15:00+01:00"
    assert max(days) == date(2026, 12, 3), "nothing past the horizon"
