"""The web middleware that tells every request which staff member (if any) is signed in."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from vibue.staff import sessions as staff_sessions
from vibue.web.appkeys import CLOCK, CURRENT_STAFF, SESSIONS, SETTINGS

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def staff_session(request: web.Request, handler: Handler) -> web.StreamResponse:
    token = request.cookies.get(request.app[SETTINGS].cookie_name(staff_sessions.COOKIE))
    request[CURRENT_STAFF] = None
    if token:
        async with request.app[SESSIONS]() as session:
            request[CURRENT_STAFF] = await staff_sessions.resolve(
                session=session, token=token, now=request.app[CLOCK].now()
            )
    return await handler(request)
