"""The app factory: builds the aiohttp application from validated settings.

Lifetimes (database engine, mail worker, retention job) are opened and closed in cleanup_ctx,
in that order. run.py plugs signaling in through `setups` (its routes and lifetimes come with
it); documents will arrive the same way.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterable

import redis.asyncio
from aiohttp import web

from vibue.booking import routes as booking_routes
from vibue.catalog import routes as catalog_routes
from vibue.clerk import routes as clerk_routes
from vibue.compliance.policy import load_policy
from vibue.compliance.retention import retention_job
from vibue.core import shared_counters
from vibue.core.clock import Clock, SystemClock
from vibue.core.db import make_engine, make_sessionmaker, migrate
from vibue.core.locks import KeyedLocks
from vibue.core.paths import project_path
from vibue.core.ratelimit import SharedLimiter
from vibue.core.settings import Settings
from vibue.core.strikes import Strikes
from vibue.devtools import routes as devtools_routes
from vibue.issued import routes as issued_routes
from vibue.mail.queue import MailQueue
from vibue.mail.transports import make_transport
from vibue.mail.worker import mail_worker
from vibue.seed import seed_demo
from vibue.staff import routes as staff_routes
from vibue.staff.lockout import Lockouts
from vibue.staff.middleware import staff_session
from vibue.video import routes as video_routes
from vibue.web import config, health, middleware, openapi, pages
from vibue.web.appkeys import (
    BOOKING_LOCKS,
    CLOCK,
    ENDPOINTS,
    ENGINE,
    LOCKOUTS,
    MAIL,
    POLICY,
    RATE_LIMITER,
    SESSIONS,
    SETTINGS,
)
from vibue.web.routing import MAX_BODY_BYTES, Routes, add_routes

log = logging.getLogger("vibue")

# Every group of JSON endpoints, in the order they appear in the API description.
ROUTE_GROUPS: list[Routes] = [
    health.routes,
    openapi.routes,
    config.routes,
    catalog_routes.routes,
    booking_routes.routes,
    video_routes.routes,
    staff_routes.routes,
    clerk_routes.routes,
    issued_routes.routes,
    devtools_routes.routes,
]

Setup = Callable[[web.Application], None]


async def database(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    engine = make_engine(settings.effective_database_url)
    log.info("migrating the database schema …")
    await migrate(engine)
    app[ENGINE] = engine
    app[SESSIONS] = make_sessionmaker(engine)
    if settings.seed_demo:
        log.info("seeding the demo catalog and demo staff if the database is empty (hashing their passwords) …")
        async with app[SESSIONS].begin() as session:
            if await seed_demo(session=session, now=app[CLOCK].now(), settings=settings):
                log.info("seeded the demo catalog and demo staff")
    app[MAIL] = MailQueue(app[SESSIONS], make_transport(settings), app[CLOCK])
    yield
    await engine.dispose()


def _closing(client: redis.asyncio.Redis) -> Callable[[web.Application], AsyncIterator[None]]:
    async def close(_app: web.Application) -> AsyncIterator[None]:
        yield
        await client.aclose()

    return close


def create_app(settings: Settings, *, clock: Clock | None = None, setups: Iterable[Setup] = ()) -> web.Application:
    """Build the app. Raises PolicyError or SettingsError when it must not start."""
    app = web.Application(
        middlewares=[middleware.errors, middleware.csrf, staff_session],
        client_max_size=MAX_BODY_BYTES,
    )
    app[SETTINGS] = settings
    app[CLOCK] = clock or SystemClock()
    app[POLICY] = load_policy(project_path(settings.policy_file))
    # With Redis, rate limits and sign-in lockouts are counted once for every process.
    shared = shared_counters.connect(settings.redis_url) if settings.redis_url else None
    prefix = settings.redis_prefix
    app[RATE_LIMITER] = SharedLimiter(settings.secret_key, proxies=settings.proxies, redis_client=shared, prefix=prefix)
    app[BOOKING_LOCKS] = KeyedLocks()
    app[LOCKOUTS] = Lockouts(settings.secret_key, Strikes(redis_client=shared, prefix=prefix))
    if shared is not None:
        app.cleanup_ctx.append(_closing(shared))
    app.on_response_prepare.append(middleware.security_headers)
    app.cleanup_ctx.append(database)
    app.cleanup_ctx.append(mail_worker)
    app.cleanup_ctx.append(retention_job)
    app[ENDPOINTS] = add_routes(app, ROUTE_GROUPS, development=pages.dev_tools_enabled(settings))
    pages.setup(app)
    for setup in setups:
        setup(app)
    return app
