"""Steps 1–4 of the booking flow: units, concerns, locations and free slots."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from aiohttp import web

from vibue.catalog import service as catalog
from vibue.catalog.schemas import (
    ConcernOut,
    ConcernsOut,
    DayOut,
    HoursOut,
    LocationOut,
    LocationsOut,
    SlotOut,
    SlotsOut,
    SlotsQuery,
    UnitOut,
    UnitsOut,
)
from vibue.catalog.slots import booking_window, closed_days, free_slots, next_free_slot
from vibue.core.errors import NotFound
from vibue.core.i18n import localized, request_language
from vibue.web.appkeys import CLOCK, SESSIONS, SETTINGS
from vibue.web.routing import PUBLIC, Routes

routes = Routes("booking")


def path_id(request: web.Request, name: str) -> int:
    raw = request.match_info[name]
    if not raw.isdigit() or len(raw) > 9:
        raise NotFound(f"{name.removesuffix('_id')}_not_found")
    return int(raw)


@routes.get("/api/units", roles=PUBLIC, summary="Step 1: the service units", response=UnitsOut)
async def units(request: web.Request) -> UnitsOut:
    lang = request_language(request)
    async with request.app[SESSIONS]() as session:
        rows = await catalog.list_units(session=session)
    return UnitsOut(
        units=[
            UnitOut(
                id=u.id, slug=u.slug, name=localized(u, "name", lang), description=localized(u, "description", lang)
            )
            for u in rows
        ]
    )


@routes.get(
    "/api/units/{unit_id}/concerns",
    roles=PUBLIC,
    summary="Step 2: the concerns a unit offers, with their checklists",
    response=ConcernsOut,
    errors=("unit_not_found",),
)
async def concerns(request: web.Request) -> ConcernsOut:
    lang = request_language(request)
    async with request.app[SESSIONS]() as session:
        rows = await catalog.unit_concerns_list(session=session, unit_id=path_id(request, "unit_id"))
    return ConcernsOut(
        concerns=[
            ConcernOut(
                id=c.id,
                slug=c.slug,
                name=localized(c, "name", lang),
                description=localized(c, "description", lang),
                duration_minutes=c.duration_minutes,
                channels=c.channels,
                checklist=localized(c, "checklist", lang),
            )
            for c in rows
        ]
    )


@routes.get(
    "/api/units/{unit_id}/concerns/{concern_id}/locations",
    roles=PUBLIC,
    summary="Step 3: where (or by video) the concern can be handled",
    response=LocationsOut,
    errors=("unit_not_found", "concern_not_found"),
)
async def locations(request: web.Request) -> LocationsOut:
    lang = request_language(request)
    async with request.app[SESSIONS]() as session:
        rows = await catalog.concern_locations(
            session=session, unit_id=path_id(request, "unit_id"), concern_id=path_id(request, "concern_id")
        )
    return LocationsOut(
        locations=[
            LocationOut(
                id=loc.id,
                slug=loc.slug,
                name=localized(loc, "name", lang),
                kind=loc.kind,
                channel=loc.channel,
                address=localized(loc, "address", lang),
                opening_hours=[
                    HoursOut(weekday=h.weekday, opens=h.opens.strftime("%H:%M"), closes=h.closes.strftime("%H:%M"))
                    for h in loc.hours
                ],
            )
            for loc in rows
        ]
    )


@routes.get(
    "/api/slots",
    roles=PUBLIC,
    summary="Step 4: free slots per day, and the next free slot",
    query=SlotsQuery,
    response=SlotsOut,
    errors=("unit_not_found", "concern_not_found", "location_not_found"),
)
async def slots(request: web.Request, query: SlotsQuery) -> SlotsOut:
    settings = request.app[SETTINGS]
    now = request.app[CLOCK].now()
    tz = ZoneInfo(settings.timezone)
    window = booking_window(
        now=now, tz=tz, lead_minutes=settings.min_lead_minutes, horizon_days=settings.booking_horizon_days
    )
    today = now.astimezone(tz).date()
    first_day = max(query.from_ or today, today)
    async with request.app[SESSIONS]() as session:
        unit, concern, location = await catalog.resolve_offer(
            session=session, unit_id=query.unit, concern_id=query.concern, location_id=query.location
        )
        days = await free_slots(
            session=session, unit_id=unit.id, concern=concern, location=location,
            first_day=first_day, days=query.days, now=now, tz=tz, window=window,
        )  # fmt: skip
        closed = await closed_days(session=session, location=location, days=list(days))
        upcoming = await next_free_slot(
            session=session, unit_id=unit.id, concern=concern, location=location, now=now, tz=tz, window=window
        )
    return SlotsOut(
        timezone=settings.timezone,
        today=today,
        next_free=SlotOut(start=upcoming.start, end=upcoming.end) if upcoming else None,
        days=[
            DayOut(date=day, open=day not in closed, slots=[SlotOut(start=s.start, end=s.end) for s in found])
            for day, found in days.items()
        ],
        horizon_end=window.last_day,
    )
