"""The app factory: builds the aiohttp application from validated settings.

Lifetimes (database engine, mail worker, retention job) are opened and closed in cleanup_ctx,
in that order; later issues plug signaling and documents in through `setups`.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterable

from aiohttp import web

from vibue import middleware, pages
from vibue.appkeys import (
    BOOKING_LOCKS,
    CLOCK,
    ENDPOINTS,
    ENGINE,
    MAIL,
    POLICY,
    RATE_LIMITER,
    SESSIONS,
    SETTINGS,
    UNKNOWN_NAMES,
)
from vibue.clock import Clock, SystemClock
from vibue.db import make_engine, make_sessionmaker, migrate
from vibue.locks import KeyedLocks
from vibue.mail.queue import MailQueue, mail_worker
from vibue.mail.transports import make_transport
from vibue.paths import project_path
from vibue.policy import load_policy
from vibue.ratelimit import RateLimiter
from vibue.retention import retention_job
from vibue.routes import ROUTE_GROUPS
from vibue.routing import MAX_BODY_BYTES, add_routes
from vibue.seed import seed_demo
from vibue.settings import Settings
from vibue.staff_auth import UnknownNames

log = logging.getLogger("vibue")

Setup = Callable[[web.Application], None]


async def database(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    engine = make_engine(settings.effective_database_url)
    await migrate(engine)
    app[ENGINE] = engine
    app[SESSIONS] = make_sessionmaker(engine)
    if settings.seed_demo:
        async with app[SESSIONS].begin() as session:
            if await seed_demo(session=session, now=app[CLOCK].now(), settings=settings):
                log.info("seeded the demo catalog and demo staff")
    app[MAIL] = MailQueue(app[SESSIONS], make_transport(settings), app[CLOCK])
    yield
    await engine.dispose()


def create_app(settings: Settings, *, clock: Clock | None = None, setups: Iterable[Setup] = ()) -> web.Application:
    """Build the app. Raises PolicyError or SettingsError when it must not start."""
    app = web.Application(
        middlewares=[middleware.errors, middleware.csrf, middleware.staff_session],
        client_max_size=MAX_BODY_BYTES,
    )
    app[SETTINGS] = settings
    app[CLOCK] = clock or SystemClock()
    app[POLICY] = load_policy(project_path(settings.policy_file))
    app[RATE_LIMITER] = RateLimiter(settings.secret_key, proxies=settings.proxies)
    app[BOOKING_LOCKS] = KeyedLocks()
    app[UNKNOWN_NAMES] = UnknownNames(settings.secret_key)
    app.on_response_prepare.append(middleware.security_headers)
    app.cleanup_ctx.append(database)
    app.cleanup_ctx.append(mail_worker)
    app.cleanup_ctx.append(retention_job)
    app[ENDPOINTS] = add_routes(app, ROUTE_GROUPS, development=pages.dev_tools_enabled(settings))
    pages.setup(app)
    for setup in setups:
        setup(app)
    return app
