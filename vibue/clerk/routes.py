"""The clerk's desk over HTTP: the day list, on-site concerns and counting walk-ins (see service.py)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from aiohttp import web

from vibue.clerk import service
from vibue.clerk.schemas import (
    ClerkAppointment,
    ClerkConcernsOut,
    ClerkDayOut,
    ClerkDayQuery,
    OutcomeBody,
    OutcomeOut,
    WalkInBody,
    WalkInCount,
    WalkInOut,
)
from vibue.core.errors import NotFound
from vibue.core.fields import Named
from vibue.core.i18n import localized, request_language
from vibue.web.appkeys import CLOCK, SESSIONS, SETTINGS
from vibue.web.routing import CLERK, Routes, signed_in_staff

routes = Routes("clerk")


def _tz(request: web.Request) -> ZoneInfo:
    return ZoneInfo(request.app[SETTINGS].timezone)


@routes.get(
    "/api/clerk/day",
    roles=CLERK,
    summary=(
        "Appointments of one local day at the clerk's units and locations (all for admins; cancelled last) "
        "and the walk-ins counted per concern"
    ),
    query=ClerkDayQuery,
    response=ClerkDayOut,
)
async def clerk_day(request: web.Request, query: ClerkDayQuery) -> ClerkDayOut:
    tz = _tz(request)
    now = request.app[CLOCK].now()
    day = query.date or now.astimezone(tz).date()
    lang = request_language(request)
    viewer = signed_in_staff(request)
    async with request.app[SESSIONS]() as session:
        appointments = await service.day_appointments(session=session, day=day, tz=tz, viewer=viewer, now=now)
        counts = await service.walk_in_counts(session=session, day=day, tz=tz)
        return ClerkDayOut(
            date=day,
            appointments=[
                ClerkAppointment(
                    id=a.id,
                    reference=a.reference,
                    start=a.start_at,
                    end=a.end_at,
                    concern=Named(id=a.concern.id, name=localized(a.concern, "name", lang)),
                    citizen_name=a.citizen_name,
                    channel=a.channel,
                    status=a.status,
                    location=Named(id=a.location.id, name=localized(a.location, "name", lang)),
                )
                for a in appointments
            ],
            walk_ins=[WalkInCount(concern_id=c.id, name=localized(c, "name", lang), count=n) for c, n in counts],
        )


@routes.get(
    "/api/clerk/concerns",
    roles=CLERK,
    summary="Concerns handled on site (for walk-ins)",
    response=ClerkConcernsOut,
)
async def clerk_concerns(request: web.Request) -> ClerkConcernsOut:
    lang = request_language(request)
    async with request.app[SESSIONS]() as session:
        concerns = await service.on_site_concerns(session=session)
        return ClerkConcernsOut(concerns=[Named(id=c.id, name=localized(c, "name", lang)) for c in concerns])


@routes.post(
    "/api/clerk/walk-ins",
    roles=CLERK,
    summary="Count one walk-in visitor for a concern (no personal data)",
    body=WalkInBody,
    response=WalkInOut,
    status=201,
    errors=("concern_not_found", "location_not_found"),
)
async def clerk_walk_in(request: web.Request, body: WalkInBody) -> WalkInOut:
    tz = _tz(request)
    now = request.app[CLOCK].now()
    async with request.app[SESSIONS].begin() as session:
        await service.record_walk_in(
            session=session,
            clerk=signed_in_staff(request),
            concern_id=body.concern_id,
            location_id=body.location_id,
            now=now,
        )
        count = await service.walk_ins_on(
            session=session, concern_id=body.concern_id, day=now.astimezone(tz).date(), tz=tz
        )
    return WalkInOut(concern_id=body.concern_id, count_today=count)


@routes.post(
    "/api/clerk/appointments/{appointment_id}/outcome",
    roles=CLERK,
    summary="Record the outcome of a video appointment that ended without one (status abandoned)",
    body=OutcomeBody,
    response=OutcomeOut,
    errors=("not_found", "status_conflict"),
)
async def clerk_outcome(request: web.Request, body: OutcomeBody) -> OutcomeOut:
    raw = request.match_info["appointment_id"]
    if not raw.isdigit() or len(raw) > 9:
        raise NotFound("not_found")
    async with request.app[SESSIONS].begin() as session:
        appointment = await service.record_outcome(
            session=session,
            viewer=signed_in_staff(request),
            appointment_id=int(raw),
            outcome=body.outcome,
            now=request.app[CLOCK].now(),
        )
        return OutcomeOut(id=appointment.id, status=appointment.status, outcome=body.outcome)
