"""GET /api/config: what the pages need to know about this office (time zone, hold time, city)."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel

from vibue.core.i18n import LANGUAGES
from vibue.web.appkeys import SETTINGS
from vibue.web.routing import PUBLIC, Routes

routes = Routes("system")


class ConfigOut(BaseModel):
    timezone: str
    city_name: str
    reservation_minutes: int
    languages: list[str]


@routes.get("/api/config", roles=PUBLIC, summary="Office settings the pages display", response=ConfigOut)
async def config(request: web.Request) -> ConfigOut:
    settings = request.app[SETTINGS]
    return ConfigOut(
        timezone=settings.timezone,
        city_name=settings.city_name,
        reservation_minutes=settings.reservation_minutes,
        languages=list(LANGUAGES),
    )
