"""The interpreter's page: what the invitation is for, and joining the call with it."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from aiohttp import web
from pydantic import BaseModel, Field, field_validator

from vibue.core.fields import Strict, no_control_chars
from vibue.core.i18n import localized
from vibue.video import interpreters, join_tokens
from vibue.video.identity_codes import CLOSES_AFTER
from vibue.video.routes import JOIN_TOKEN_LIMIT, JoinOut
from vibue.web.appkeys import CLOCK, RATE_LIMITER, SESSIONS, SETTINGS
from vibue.web.routing import PUBLIC, Routes

routes = Routes("video")
INVITATION = "/api/interpreter/{token:[A-Za-z0-9_-]{16,80}}"


class InvitationOut(BaseModel):
    reference: str
    start: datetime
    end: datetime
    concern: str
    status: str


class JoinIn(Strict):
    name: str = Field(min_length=1, max_length=120)
    language: str = Field(min_length=1, max_length=60)

    # Shown to the clerk and the citizen: no control or bidi-override characters (and NUL would
    # make PostgreSQL fail the insert).
    @field_validator("name", "language")
    @classmethod
    def _printable(cls, value: str) -> str:
        if not no_control_chars(value):
            raise ValueError("field.invalid")
        return value


@routes.get(
    INVITATION,
    roles=PUBLIC,
    summary="The appointment an interpreter is invited to",
    response=InvitationOut,
    errors=("invitation_not_found",),
)
async def show(request: web.Request) -> InvitationOut:
    now = request.app[CLOCK].now()
    zone = ZoneInfo(request.app[SETTINGS].timezone)
    async with request.app[SESSIONS]() as session:
        invitation, appointment = await interpreters.find(session=session, secret=request.match_info["token"])
    return InvitationOut(
        reference=appointment.reference,
        start=appointment.start_at.astimezone(zone),
        end=appointment.end_at.astimezone(zone),
        concern=localized(appointment.concern, "name", "de"),
        status=interpreters.state(invitation, appointment, now),
    )


@routes.post(
    f"{INVITATION}/join",
    roles=PUBLIC,
    summary="Join the call with a one-time invitation",
    body=JoinIn,
    response=JoinOut,
    errors=("invitation_not_found", "invitation_used", "invitation_expired", "rate_limited"),
)
async def join(request: web.Request, body: JoinIn) -> JoinOut:
    limiter = request.app[RATE_LIMITER]
    limiter.hit("interpreter_joins", limiter.client_key(request), limit=20, window=600.0)
    now = request.app[CLOCK].now()
    async with request.app[SESSIONS].begin() as session:
        participant, appointment = await interpreters.join(
            session=session, secret=request.match_info["token"], name=body.name, language=body.language, now=now
        )
        end = appointment.end_at
    expires = min(end + CLOSES_AFTER, now + JOIN_TOKEN_LIMIT)
    claims = join_tokens.JoinClaims(appointment.id, participant.id, "interpreter", expires)
    return JoinOut(join_token=join_tokens.issue(request.app[SETTINGS].secret_key, claims), expires_at=expires)
