"""Every web.AppKey of the app, in one place, typed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from vibue.core.clock import Clock
from vibue.core.settings import Settings

if TYPE_CHECKING:
    from vibue.compliance.policy import Policy
    from vibue.core.locks import KeyedLocks
    from vibue.core.ratelimit import SharedLimiter
    from vibue.mail.queue import MailQueue
    from vibue.models import Staff
    from vibue.staff.lockout import Lockouts
    from vibue.web.routing import Endpoint

SETTINGS = web.AppKey("settings", Settings)
CLOCK = web.AppKey("clock", Clock)
ENGINE = web.AppKey("engine", AsyncEngine)
SESSIONS = web.AppKey("sessions", async_sessionmaker[AsyncSession])
POLICY: web.AppKey[Policy] = web.AppKey("policy")
MAIL: web.AppKey[MailQueue] = web.AppKey("mail")
RATE_LIMITER: web.AppKey[SharedLimiter] = web.AppKey("rate_limiter")
BOOKING_LOCKS: web.AppKey[KeyedLocks] = web.AppKey("booking_locks")
LOCKOUTS: web.AppKey[Lockouts] = web.AppKey("lockouts")
ENDPOINTS: web.AppKey[list[Endpoint]] = web.AppKey("endpoints")
# The endpoint behind each registered route: the error middleware checks its declared codes.
ROUTE_ENDPOINTS: web.AppKey[dict[web.AbstractRoute, Endpoint]] = web.AppKey("route_endpoints")

# Per-request state, set by vibue.web.middleware.
REQUEST_ID: web.RequestKey[str] = web.RequestKey("request_id")
CURRENT_STAFF: web.RequestKey[Staff | None] = web.RequestKey("staff")
