"""The video appointment over HTTP: the pre-call page's appointment, the identity code by mail and
its check, and the interpreter's invitation (see service.py for the rules)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from aiohttp import web

from vibue.booking import service as booking
from vibue.booking.context import Context
from vibue.core.db import unit_of_work
from vibue.core.i18n import localized
from vibue.core.ratelimit import HOUR, TEN_MINUTES
from vibue.core.urls import INTERPRETER_API, VIDEO_API
from vibue.models import Appointment
from vibue.video import identity_codes, service
from vibue.video.schemas import CodeSentOut, InterpreterJoinIn, InvitationOut, JoinOut, VerifyIn, VideoOut
from vibue.web.appkeys import CLOCK, MAIL, RATE_LIMITER, SESSIONS, SETTINGS
from vibue.web.routing import PUBLIC, Routes

routes = Routes("video")


@routes.get(
    VIDEO_API,
    roles=PUBLIC,
    summary="The video appointment for the pre-call page",
    response=VideoOut,
    errors=("booking_not_found",),
)
async def show(request: web.Request) -> VideoOut:
    ctx = Context.of(request)
    async with request.app[SESSIONS]() as session:
        appointment = await booking.find(session=session, token=request.match_info["token"])
        verified = await service.code_verified(session=session, appointment=appointment)
    lang = appointment.lang
    return VideoOut(
        reference=appointment.reference,
        status=appointment.status,
        start=appointment.start_at.astimezone(ctx.tz),
        end=appointment.end_at.astimezone(ctx.tz),
        opens_at=identity_codes.opens_at(appointment).astimezone(ctx.tz),
        open=identity_codes.is_open(appointment, ctx.now),
        concern=localized(appointment.concern, "name", lang),
        checklist=localized(appointment.concern, "checklist", lang),
        code_verified=verified,
        server_time=ctx.now.astimezone(ctx.tz),
    )


@routes.post(
    f"{VIDEO_API}/code",
    roles=PUBLIC,
    summary="Mail a one-time identity code",
    response=CodeSentOut,
    status=202,
    errors=(
        "booking_not_found",
        "video_not_open",
        "not_a_video_appointment",
        "status_conflict",
        "rate_limited",
        "limits_unavailable",
    ),
)
async def send_code(request: web.Request) -> CodeSentOut:
    settings = request.app[SETTINGS]
    limiter = request.app[RATE_LIMITER]
    await limiter.hit("mails", limiter.client_key(request), limit=settings.rate_limit_mails, window=HOUR)
    ctx = Context.of(request)

    async def allow(appointment: Appointment) -> None:
        await limiter.hit(
            "identity_codes", str(appointment.id), limit=settings.rate_limit_identity_codes, window=TEN_MINUTES
        )

    async with unit_of_work(request.app[SESSIONS]) as session:
        sent = await service.mail_identity_code(
            session=session, ctx=ctx, token=request.match_info["token"], allow=allow
        )
    request.app[MAIL].wake()
    return CodeSentOut(sent_to=sent.to, expires_at=sent.expires_at.astimezone(ctx.tz))


@routes.post(
    f"{VIDEO_API}/verify",
    roles=PUBLIC,
    summary="Check the identity code; returns the join credential",
    body=VerifyIn,
    response=JoinOut,
    errors=(
        "booking_not_found",
        "video_not_open",
        "not_a_video_appointment",
        "status_conflict",
        "rate_limited",
        "limits_unavailable",
        "identity_code_missing",
        "identity_code_wrong",
        "identity_code_expired",
        "identity_code_voided",
        "identity_code_used",
    ),
)
async def verify(request: web.Request, body: VerifyIn) -> JoinOut:
    settings = request.app[SETTINGS]
    limiter = request.app[RATE_LIMITER]
    await limiter.hit(
        "identity_checks", limiter.client_key(request), limit=settings.rate_limit_identity_checks, window=TEN_MINUTES
    )
    # A wrong code is counted and audited although the request fails (unit_of_work keeps it).
    async with unit_of_work(request.app[SESSIONS]) as session:
        credential = await service.verify_citizen(
            session=session,
            token=request.match_info["token"],
            code=body.code,
            now=request.app[CLOCK].now(),
            secret=settings.secret_key,
        )
    return JoinOut(join_token=credential.token, expires_at=credential.expires_at)


@routes.get(
    INTERPRETER_API,
    roles=PUBLIC,
    summary="The appointment an interpreter is invited to",
    response=InvitationOut,
    errors=("invitation_not_found",),
)
async def invitation(request: web.Request) -> InvitationOut:
    zone = ZoneInfo(request.app[SETTINGS].timezone)
    async with request.app[SESSIONS]() as session:
        _, appointment, state = await service.invitation(
            session=session, secret=request.match_info["token"], now=request.app[CLOCK].now()
        )
        return InvitationOut(
            reference=appointment.reference,
            start=appointment.start_at.astimezone(zone),
            end=appointment.end_at.astimezone(zone),
            concern=localized(appointment.concern, "name", "de"),
            status=state,
        )


@routes.post(
    f"{INTERPRETER_API}/join",
    roles=PUBLIC,
    summary="Join the call with a one-time invitation",
    body=InterpreterJoinIn,
    response=JoinOut,
    errors=("invitation_not_found", "invitation_used", "invitation_expired", "rate_limited", "limits_unavailable"),
)
async def join_interpreter(request: web.Request, body: InterpreterJoinIn) -> JoinOut:
    settings = request.app[SETTINGS]
    limiter = request.app[RATE_LIMITER]
    await limiter.hit(
        "interpreter_joins",
        limiter.client_key(request),
        limit=settings.rate_limit_interpreter_joins,
        window=TEN_MINUTES,
    )
    async with unit_of_work(request.app[SESSIONS]) as session:
        credential = await service.join_interpreter(
            session=session,
            link=request.match_info["token"],
            name=body.name,
            language=body.language,
            now=request.app[CLOCK].now(),
            secret=settings.secret_key,
        )
    return JoinOut(join_token=credential.token, expires_at=credential.expires_at)
