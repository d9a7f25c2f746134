"""The pre-call page's API: the appointment, the identity code by mail, and its verification."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from aiohttp import web
from pydantic import BaseModel, field_validator
from sqlalchemy import select

from vibue.booking import service as booking
from vibue.booking.mails import identity_code_mail
from vibue.booking.routes import BOOKING, context, local
from vibue.core.audit import record
from vibue.core.errors import RateLimited
from vibue.core.fields import Strict
from vibue.core.i18n import localized
from vibue.models import CallParticipant
from vibue.video import identity_codes, join_tokens
from vibue.web.appkeys import CLOCK, MAIL, RATE_LIMITER, SESSIONS, SETTINGS
from vibue.web.routing import PUBLIC, Routes

routes = Routes("video")
VIDEO = BOOKING.replace("/api/bookings/", "/api/video/")
TEN_MINUTES = 600.0
# A join token lasts through the appointment (reloads reconnect with it), and never longer than this.
JOIN_TOKEN_LIMIT = timedelta(hours=3)


class VideoOut(BaseModel):
    reference: str
    status: str
    start: datetime
    end: datetime
    opens_at: datetime
    open: bool
    concern: str
    checklist: list[str]
    code_verified: bool
    # The server's clock: the countdown runs by it, not by a device clock that may be off.
    server_time: datetime


class CodeSentOut(BaseModel):
    sent_to: str
    expires_at: datetime


class VerifyIn(Strict):
    code: str

    @field_validator("code")
    @classmethod
    def _six_digits(cls, value: str) -> str:
        value = value.replace(" ", "")
        if not re.fullmatch(r"[0-9]{6}", value):
            raise ValueError("field.six_digits")
        return value


class JoinOut(BaseModel):
    join_token: str
    expires_at: datetime


def masked(email: str) -> str:
    """e***@example.org: enough to recognise one's own address, not enough to learn it."""
    name, _, domain = email.partition("@")
    return f"{name[:1]}***@{domain}"


@routes.get(
    VIDEO,
    roles=PUBLIC,
    summary="The video appointment for the pre-call page",
    response=VideoOut,
    errors=("booking_not_found",),
)
async def show(request: web.Request) -> VideoOut:
    ctx = context(request)
    async with request.app[SESSIONS]() as session:
        appointment = await booking.find(session=session, token=request.match_info["token"])
        verified = await session.scalar(
            select(CallParticipant.code_verified_at).where(
                CallParticipant.appointment_id == appointment.id, CallParticipant.role == "citizen"
            )
        )
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
        code_verified=verified is not None,
        server_time=ctx.now.astimezone(ctx.tz),
    )


@routes.post(
    f"{VIDEO}/code",
    roles=PUBLIC,
    summary="Mail a one-time identity code",
    response=CodeSentOut,
    status=202,
    errors=("booking_not_found", "video_not_open", "not_a_video_appointment", "status_conflict", "rate_limited"),
)
async def send_code(request: web.Request) -> CodeSentOut:
    settings = request.app[SETTINGS]
    limiter = request.app[RATE_LIMITER]
    limiter.hit("mails", limiter.client_key(request), limit=settings.rate_limit_mails, window=3600.0)
    ctx = context(request)
    async with request.app[SESSIONS].begin() as session:
        appointment = await booking.find(session=session, token=request.match_info["token"])
        try:
            limiter.hit("identity_codes", str(appointment.id), limit=3, window=TEN_MINUTES)
        except RateLimited:
            record(
                session=session,
                at=ctx.now,
                actor=f"citizen:{appointment.reference}",
                action="identity_code.rate_limited",
                subject=f"appointment:{appointment.id}",
            )
            await session.commit()  # the refusal is audited, the request still answered 429
            raise
        code = await identity_codes.issue_code(
            session=session, appointment=appointment, now=ctx.now, secret=settings.secret_key
        )
        data = booking.mail_data(ctx, appointment, request.match_info["token"])
        ctx.mail.enqueue(session=session, message=identity_code_mail(data, code, now=ctx.now))
        sent_to = masked(appointment.citizen_email)
    request.app[MAIL].wake()
    return CodeSentOut(sent_to=sent_to, expires_at=local(ctx.now + identity_codes.CODE_LIFETIME, ctx) or ctx.now)


@routes.post(
    f"{VIDEO}/verify",
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
        "identity_code_missing",
        "identity_code_wrong",
        "identity_code_expired",
        "identity_code_voided",
        "identity_code_used",
    ),
)
async def verify(request: web.Request, body: VerifyIn) -> JoinOut:
    limiter = request.app[RATE_LIMITER]
    limiter.hit("identity_checks", limiter.client_key(request), limit=30, window=TEN_MINUTES)
    settings = request.app[SETTINGS]
    now = request.app[CLOCK].now()
    async with request.app[SESSIONS].begin() as session:
        appointment = await booking.find(session=session, token=request.match_info["token"])
        result = await identity_codes.verify_code(
            session=session, appointment=appointment, code=body.code, now=now, secret=settings.secret_key
        )
        end = appointment.end_at
    # Raised after the commit, so a wrong attempt is counted even though the request fails.
    if not isinstance(result, identity_codes.Verified):
        raise result
    expires = min(end + identity_codes.CLOSES_AFTER, now + JOIN_TOKEN_LIMIT)
    claims = join_tokens.JoinClaims(appointment.id, result.participant.id, "citizen", expires)
    return JoinOut(join_token=join_tokens.issue(settings.secret_key, claims), expires_at=expires)
