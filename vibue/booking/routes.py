"""Step 5 and after: reserve, then confirm, cancel or reschedule through the email link's secret."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from aiohttp import web

from vibue.booking import service as booking
from vibue.booking.context import Context
from vibue.booking.schemas import (
    BookingCitizen,
    BookingConcern,
    BookingLocation,
    BookingOut,
    RescheduleIn,
    ReservationIn,
    ReservationOut,
)
from vibue.booking.service import Citizen
from vibue.core.fields import Named
from vibue.core.i18n import localized, request_language
from vibue.core.ratelimit import HOUR
from vibue.core.urls import BOOKING_API
from vibue.models import Appointment
from vibue.web.appkeys import BOOKING_LOCKS, RATE_LIMITER, SESSIONS, SETTINGS
from vibue.web.routing import PUBLIC, Routes

routes = Routes("booking")


async def limit(request: web.Request, *, reservation: bool = False) -> None:
    """Every call here sends a mail; reservations have a tighter budget of their own."""
    limiter = request.app[RATE_LIMITER]
    settings = request.app[SETTINGS]
    key = limiter.client_key(request)
    if reservation:
        await limiter.hit("reservations", key, limit=settings.rate_limit_reservations, window=HOUR)
    await limiter.hit("mails", key, limit=settings.rate_limit_mails, window=HOUR)


def local(moment: datetime | None, ctx: Context) -> datetime | None:
    """Times leave the API in the office's zone with their offset, as the slots do."""
    return None if moment is None else moment.astimezone(ctx.tz)


def booking_out(appointment: Appointment, ctx: Context, token: str, lang: str) -> BookingOut:
    """The booking as the manage page shows it, its names in the request's language (as the page is)."""
    concern = appointment.concern
    changeable = booking.can_change(appointment, ctx.now)
    return BookingOut(
        reference=appointment.reference,
        status=booking.visible_status(appointment, ctx.now),
        channel=appointment.channel,
        start=appointment.start_at.astimezone(ctx.tz),
        end=appointment.end_at.astimezone(ctx.tz),
        reserved_until=local(appointment.reserved_until, ctx),
        unit=Named(id=appointment.unit.id, name=localized(appointment.unit, "name", lang)),
        concern=BookingConcern(
            id=concern.id,
            name=localized(concern, "name", lang),
            checklist=localized(concern, "checklist", lang),
            duration_minutes=concern.duration_minutes,
        ),
        location=BookingLocation(
            id=appointment.location.id,
            name=localized(appointment.location, "name", lang),
            address=localized(appointment.location, "address", lang),
            kind=appointment.location.kind,
        ),
        citizen=BookingCitizen(name=appointment.citizen_name, email=appointment.citizen_email),
        join_url=booking.join_url(ctx.settings, appointment, token),
        can_cancel=changeable,
        can_reschedule=changeable,
    )


async def change(request: web.Request, operation: Callable[..., Awaitable[Appointment]], **args: Any) -> BookingOut:
    """Confirm, cancel or reschedule through the link's secret, in one unit of work; then send the mail."""
    await limit(request)
    ctx = Context.of(request)
    token = request.match_info["token"]
    async with request.app[SESSIONS].begin() as session:
        appointment = await operation(session=session, ctx=ctx, token=token, **args)
        out = booking_out(appointment, ctx, token, request_language(request))
    ctx.mail.wake()
    return out


@routes.post(
    "/api/reservations",
    roles=PUBLIC,
    summary="Step 5: reserve a slot; the confirm link goes out by email",
    body=ReservationIn,
    response=ReservationOut,
    status=201,
    errors=(
        "unit_not_found",
        "concern_not_found",
        "location_not_found",
        "slot_taken",
        "slot_unavailable",
        "open_booking_exists",
        "rate_limited",
        "limits_unavailable",
    ),
)
async def reserve(request: web.Request, body: ReservationIn) -> ReservationOut:
    await limit(request, reservation=True)
    ctx = Context.of(request)
    async with request.app[BOOKING_LOCKS].hold(body.location_id), request.app[SESSIONS].begin() as session:
        appointment, _ = await booking.reserve(
            session=session,
            ctx=ctx,
            unit_id=body.unit_id,
            concern_id=body.concern_id,
            location_id=body.location_id,
            start=body.start,
            citizen=Citizen(name=body.name, email=body.email, phone=body.phone, lang=body.lang),
        )
    ctx.mail.wake()
    return ReservationOut(
        reference=appointment.reference,
        status=appointment.status,
        reserved_until=local(appointment.reserved_until, ctx),
        start=appointment.start_at.astimezone(ctx.tz),
        end=appointment.end_at.astimezone(ctx.tz),
        channel=appointment.channel,
    )


@routes.get(
    BOOKING_API,
    roles=PUBLIC,
    summary="The booking behind an email link",
    response=BookingOut,
    errors=("booking_not_found",),
)
async def show(request: web.Request) -> BookingOut:
    ctx = Context.of(request)
    token = request.match_info["token"]
    async with request.app[SESSIONS]() as session:
        appointment = await booking.find(session=session, token=token)
    return booking_out(appointment, ctx, token, request_language(request))


@routes.post(
    f"{BOOKING_API}/confirm",
    roles=PUBLIC,
    summary="Confirm a reservation (double opt-in)",
    response=BookingOut,
    errors=("booking_not_found", "reservation_expired", "status_conflict", "rate_limited", "limits_unavailable"),
)
async def confirm(request: web.Request) -> BookingOut:
    return await change(request, booking.confirm)


@routes.post(
    f"{BOOKING_API}/cancel",
    roles=PUBLIC,
    summary="Cancel; the slot is free again at once",
    response=BookingOut,
    errors=("booking_not_found", "reservation_expired", "status_conflict", "rate_limited", "limits_unavailable"),
)
async def cancel(request: web.Request) -> BookingOut:
    return await change(request, booking.cancel)


@routes.post(
    f"{BOOKING_API}/reschedule",
    roles=PUBLIC,
    summary="Move to another free slot of the same concern and location",
    body=RescheduleIn,
    response=BookingOut,
    errors=(
        "booking_not_found",
        "reservation_expired",
        "status_conflict",
        "concern_not_found",
        "location_not_found",
        "slot_taken",
        "slot_unavailable",
        "rate_limited",
        "limits_unavailable",
    ),
)
async def reschedule(request: web.Request, body: RescheduleIn) -> BookingOut:
    return await change(request, booking.reschedule, start=body.start)
