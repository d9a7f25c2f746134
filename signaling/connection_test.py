"""The pre-call connection test over HTTP: an offer answered by an echo peer, then the browser's verdict.

Both requests are authorised by the booking link's secret and need the video room to be open.
The verdict is stored with the appointment's citizen participant, so the clerk's waiting list
shows it; no addresses and no SDP are kept. docs/signaling.md lists both requests.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import Annotated, Literal

from aiohttp import web
from pydantic import BaseModel, Field, field_validator
from sqlalchemy import select

from signaling.echo import ECHO, EchoPeers
from vibue.booking import service as booking
from vibue.core.audit import record
from vibue.core.errors import Invalid
from vibue.core.fields import Strict
from vibue.core.ratelimit import TEN_MINUTES
from vibue.core.urls import VIDEO_API as VIDEO
from vibue.models import CallParticipant
from vibue.video import identity_codes
from vibue.web.appkeys import CLOCK, ENDPOINTS, RATE_LIMITER, SESSIONS, SETTINGS
from vibue.web.pages import dev_tools_enabled
from vibue.web.routing import PUBLIC, Routes, add_routes

routes = Routes("video")
MAX_SDP = 60_000
REASON = re.compile(r"[a-z][a-z0-9_]{0,63}")
LobbyChanged = Callable[[], Awaitable[None]]
# Told after a stored result, so staff watching the waiting room see it at once.
LOBBY_CHANGED: web.AppKey[LobbyChanged] = web.AppKey("connection_test_lobby_changed")

# JSON numbers only: strict, so true/false or "12" are refused instead of coerced.
Number = Annotated[float, Field(strict=True, ge=0)]


class OfferIn(Strict):
    sdp: str = Field(min_length=1, max_length=MAX_SDP)
    type: Literal["offer"]


class AnswerOut(BaseModel):
    sdp: str
    type: Literal["answer"] = "answer"
    test_id: str


class ResultIn(Strict):
    test_id: str = Field(min_length=1, max_length=200)
    verdict: Literal["good", "limited", "none"]
    reason: str = Field(max_length=200)
    rtt_ms: Annotated[Number, Field(le=600_000)] | None
    loss: Annotated[Number, Field(le=1)] | None
    bitrate_kbps: Annotated[Number, Field(le=1_000_000)] | None

    @field_validator("reason")
    @classmethod
    def _code(cls, value: str) -> str:
        if not REASON.fullmatch(value):
            raise ValueError("field.reason_code")
        return value


class ServerView(BaseModel):
    rtt_ms: int | None
    loss: float | None
    packets: int


class ResultOut(BaseModel):
    verdict: str
    reason: str
    rtt_ms: int | None
    loss: float | None
    bitrate_kbps: float | None
    tested_at: datetime
    server: ServerView | None


def sign(secret: str, appointment_id: int, nonce: str) -> str:
    mac = hmac.new(secret.encode(), f"connection-test:{appointment_id}:{nonce}".encode(), hashlib.sha256)
    return f"{nonce}.{mac.hexdigest()[:32]}"


def genuine(secret: str, appointment_id: int, test_id: str) -> bool:
    """A test id this server issued for this appointment (on any process: it is signed, not stored)."""
    nonce, _, _ = test_id.partition(".")
    return hmac.compare_digest(sign(secret, appointment_id, nonce).encode(), test_id.encode())  # bytes: any input


@routes.post(
    f"{VIDEO}/connection-test",
    roles=PUBLIC,
    summary="Start a connection test: the server's echo peer answers the browser's WebRTC offer",
    body=OfferIn,
    response=AnswerOut,
    errors=(
        "booking_not_found",
        "video_not_open",
        "not_a_video_appointment",
        "status_conflict",
        "connection_test_offer_invalid",
        "connection_test_busy",
        "rate_limited",
    ),
)
async def offer(request: web.Request, body: OfferIn) -> AnswerOut:
    limiter = request.app[RATE_LIMITER]
    limiter.hit("connection_tests", limiter.client_key(request), limit=10, window=TEN_MINUTES)
    now = request.app[CLOCK].now()
    async with request.app[SESSIONS]() as session:
        appointment = await booking.find(session=session, token=request.match_info["token"])
        identity_codes.ensure_joinable(appointment, now)
        appointment_id = appointment.id
    test_id = sign(request.app[SETTINGS].secret_key, appointment_id, secrets.token_urlsafe(12))
    sdp = await request.app[ECHO].answer(test_id=test_id, appointment_id=appointment_id, offer_sdp=body.sdp)
    return AnswerOut(sdp=sdp, test_id=test_id)


@routes.post(
    f"{VIDEO}/connection-test/result",
    roles=PUBLIC,
    summary="Report the connection test's verdict; stored for the clerk's waiting list",
    body=ResultIn,
    response=ResultOut,
    errors=(
        "booking_not_found",
        "video_not_open",
        "not_a_video_appointment",
        "status_conflict",
        "connection_test_unknown",
        "rate_limited",
    ),
)
async def result(request: web.Request, body: ResultIn) -> ResultOut:
    limiter = request.app[RATE_LIMITER]
    limiter.hit("connection_test_results", limiter.client_key(request), limit=20, window=TEN_MINUTES)
    now = request.app[CLOCK].now()
    echo = request.app[ECHO]
    async with request.app[SESSIONS].begin() as session:
        appointment = await booking.find(session=session, token=request.match_info["token"])
        identity_codes.ensure_joinable(appointment, now)
        if not genuine(request.app[SETTINGS].secret_key, appointment.id, body.test_id):
            raise Invalid("connection_test_unknown", fields={"test_id": "field.test_id"})
        # The test is over: its echo peer (if it is still open on this process) goes now.
        peer = echo.get(body.test_id)
        server = await echo.close(body.test_id) if peer is not None and peer.appointment_id == appointment.id else None
        stored = ResultOut(
            verdict=body.verdict,
            reason=body.reason,
            rtt_ms=None if body.rtt_ms is None else round(body.rtt_ms),
            loss=None if body.loss is None else round(body.loss, 4),
            bitrate_kbps=None if body.bitrate_kbps is None else round(body.bitrate_kbps, 1),
            tested_at=now,
            server=ServerView(**server) if server else None,
        )
        participant = await session.scalar(
            select(CallParticipant).where(
                CallParticipant.appointment_id == appointment.id, CallParticipant.role == "citizen"
            )
        )
        if participant is None:
            # The identity-code verification later fills in code_verified_at on this same row.
            participant = CallParticipant(appointment_id=appointment.id, role="citizen", state="waiting")
            session.add(participant)
        participant.connection_test = stored.model_dump(mode="json")
        in_lobby = participant.waiting_since is not None
        record(
            session=session,
            at=now,
            actor=f"citizen:{appointment.reference}",
            action="connection_test.result",
            subject=f"appointment:{appointment.id}",
            verdict=body.verdict,
        )
    if in_lobby and LOBBY_CHANGED in request.app:
        await request.app[LOBBY_CHANGED]()
    return stored


async def _echo_peers(app: web.Application) -> AsyncIterator[None]:
    yield
    await app[ECHO].close_all()


def setup(app: web.Application, *, lobby_changed: LobbyChanged | None = None) -> None:
    """Register the connection-test routes and the echo peers' lifetime on an app from create_app."""
    settings = app[SETTINGS]
    stun = [url.strip() for url in settings.stun_urls.split(",") if url.strip()]
    app[ECHO] = EchoPeers(limit=settings.echo_peers_max, timeout=settings.echo_timeout_seconds, stun_urls=stun)
    if lobby_changed is not None:
        app[LOBBY_CHANGED] = lobby_changed
    app.cleanup_ctx.append(_echo_peers)
    app[ENDPOINTS].extend(add_routes(app, [routes], development=dev_tools_enabled(settings)))
