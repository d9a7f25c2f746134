"""Every group of JSON endpoints, in the order they appear in the API description."""

from vibue.routes import booking, catalog, clerk, config, dev, health, interpreter, openapi, staff, video
from vibue.routing import Routes

ROUTE_GROUPS: list[Routes] = [
    health.routes,
    openapi.routes,
    config.routes,
    catalog.routes,
    booking.routes,
    video.routes,
    interpreter.routes,
    staff.routes,
    clerk.routes,
    dev.routes,
]
