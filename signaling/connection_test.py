"""The pre-call connection test over HTTP: an offer answered by an echo peer, then the browser's verdict.

Both requests are authorised by the booking link's secret and need the video room to be open.
Thin handlers: the records and their rules are vibue/video/connection_tests.py, the wire models
vibue/video/schemas.py; here the aiortc echo peer is driven. docs/signaling.md lists both requests.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web

from signaling.echo import ECHO, EchoPeers
from vibue.core.ratelimit import TEN_MINUTES
from vibue.core.urls import VIDEO_API
from vibue.video import connection_tests
from vibue.video.schemas import AnswerOut, OfferIn, ResultIn, ResultOut
from vibue.web.appkeys import CLOCK, ENDPOINTS, RATE_LIMITER, SESSIONS, SETTINGS
from vibue.web.pages import dev_tools_enabled
from vibue.web.routing import PUBLIC, Routes, add_routes

routes = Routes("video")
LobbyChanged = Callable[[], Awaitable[None]]
# Told after a stored result, so staff watching the waiting room see it at once.
LOBBY_CHANGED: web.AppKey[LobbyChanged] = web.AppKey("connection_test_lobby_changed")


@routes.post(
    f"{VIDEO_API}/connection-test",
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
        "limits_unavailable",
    ),
)
async def offer(request: web.Request, body: OfferIn) -> AnswerOut:
    settings = request.app[SETTINGS]
    limiter = request.app[RATE_LIMITER]
    limit = settings.rate_limit_connection_tests
    await limiter.hit("connection_tests", limiter.client_key(request), limit=limit, window=TEN_MINUTES)
    now = request.app[CLOCK].now()
    async with request.app[SESSIONS]() as session:
        appointment = await connection_tests.joinable(session=session, token=request.match_info["token"], now=now)
        appointment_id = appointment.id
    test_id = connection_tests.new_test_id(settings.secret_key, appointment_id)
    sdp = await request.app[ECHO].answer(test_id=test_id, appointment_id=appointment_id, offer_sdp=body.sdp)
    return AnswerOut(sdp=sdp, test_id=test_id)


@routes.post(
    f"{VIDEO_API}/connection-test/result",
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
        "limits_unavailable",
    ),
)
async def result(request: web.Request, body: ResultIn) -> ResultOut:
    settings = request.app[SETTINGS]
    limiter = request.app[RATE_LIMITER]
    limit = settings.rate_limit_connection_test_results
    await limiter.hit("connection_test_results", limiter.client_key(request), limit=limit, window=TEN_MINUTES)
    now = request.app[CLOCK].now()
    echo = request.app[ECHO]
    async with request.app[SESSIONS].begin() as session:
        appointment = await connection_tests.tested(
            session=session,
            token=request.match_info["token"],
            secret=settings.secret_key,
            test_id=body.test_id,
            now=now,
        )
        # The test is over: its echo peer (if it is still open on this process) goes now.
        peer = echo.get(body.test_id)
        server = await echo.close(body.test_id) if peer is not None and peer.appointment_id == appointment.id else None
        stored, in_lobby = await connection_tests.store_result(
            session=session, appointment=appointment, result=body, server=server, now=now
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
