"""Every group of JSON endpoints, in the order they appear in the API description."""

from vibue.routes import booking, catalog, clerk, dev, health, openapi, staff
from vibue.routing import Routes

ROUTE_GROUPS: list[Routes] = [
    health.routes,
    openapi.routes,
    catalog.routes,
    booking.routes,
    staff.routes,
    clerk.routes,
    dev.routes,
]
