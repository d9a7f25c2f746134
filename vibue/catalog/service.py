"""Reading the catalog: which units offer which concerns at which locations."""

from __future__ import annotations

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from vibue.core.errors import NotFound
from vibue.models import Capacity, Concern, Location, ServiceUnit, Staff, unit_concerns


async def list_units(*, session: AsyncSession) -> list[ServiceUnit]:
    return list(await session.scalars(select(ServiceUnit).order_by(ServiceUnit.sort_order, ServiceUnit.id)))


async def get_unit(*, session: AsyncSession, unit_id: int) -> ServiceUnit:
    unit = await session.get(ServiceUnit, unit_id)
    if unit is None:
        raise NotFound("unit_not_found")
    return unit


async def unit_concerns_list(*, session: AsyncSession, unit_id: int) -> list[Concern]:
    await get_unit(session=session, unit_id=unit_id)
    query = (
        select(Concern)
        .join(unit_concerns, unit_concerns.c.concern_id == Concern.id)
        .where(unit_concerns.c.unit_id == unit_id, Concern.active.is_(True))
        .order_by(Concern.sort_order, Concern.id)
    )
    return list(await session.scalars(query))


async def get_offered_concern(*, session: AsyncSession, unit_id: int, concern_id: int) -> tuple[ServiceUnit, Concern]:
    unit = await get_unit(session=session, unit_id=unit_id)
    concern = await session.get(Concern, concern_id)
    offered = await session.scalar(
        select(exists().where(unit_concerns.c.unit_id == unit_id, unit_concerns.c.concern_id == concern_id))
    )
    if concern is None or not concern.active or not offered:
        raise NotFound("concern_not_found")
    return unit, concern


async def concern_locations(*, session: AsyncSession, unit_id: int, concern_id: int) -> list[Location]:
    """Locations where some clerk serves the unit, on a channel the concern allows."""
    _, concern = await get_offered_concern(session=session, unit_id=unit_id, concern_id=concern_id)
    kinds = [kind for kind, channel in (("virtual", "video"), ("physical", "on_site")) if channel in concern.channels]
    query = (
        select(Location)
        .options(selectinload(Location.hours))
        .where(
            Location.kind.in_(kinds),
            exists().where(
                Capacity.location_id == Location.id,
                Capacity.unit_id == unit_id,
                Capacity.staff_id == Staff.id,
                Staff.active.is_(True),
            ),
        )
        .order_by(Location.kind.desc(), Location.name)  # video first: the virtual office is the point
    )
    return list(await session.scalars(query))


async def resolve_offer(
    *, session: AsyncSession, unit_id: int, concern_id: int, location_id: int
) -> tuple[ServiceUnit, Concern, Location]:
    unit, concern = await get_offered_concern(session=session, unit_id=unit_id, concern_id=concern_id)
    for location in await concern_locations(session=session, unit_id=unit_id, concern_id=concern_id):
        if location.id == location_id:
            return unit, concern, location
    raise NotFound("location_not_found")
