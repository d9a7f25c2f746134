"""GET /healthz: the app answers and its database does."""

from __future__ import annotations

import logging

from aiohttp import web
from pydantic import BaseModel
from sqlalchemy.exc import SQLAlchemyError

from vibue.core.db import ping
from vibue.web.appkeys import ENGINE
from vibue.web.middleware import error_response
from vibue.web.routing import PUBLIC, Routes

log = logging.getLogger("vibue.health")
routes = Routes("system")


class Health(BaseModel):
    status: str


@routes.get(
    "/healthz",
    roles=PUBLIC,
    summary="Liveness and database check",
    response=Health,
    errors=("database_unavailable",),
)
async def healthz(request: web.Request) -> web.StreamResponse | Health:
    try:
        await ping(request.app[ENGINE])
    except (SQLAlchemyError, OSError, TimeoutError) as exc:
        log.warning("health check: database unreachable (%s)", type(exc).__name__)
        return error_response(request, 503, "database_unavailable")
    return Health(status="ok")
