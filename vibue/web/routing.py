"""Endpoints that declare who may call them and what they take and give.

One table of `Endpoint`s drives three things: the aiohttp routes, the role check on every call
and the OpenAPI document. A route without a declared role set cannot be registered.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ValidationError

from vibue.core.error_codes import CODES
from vibue.core.errors import BadRequest, Forbidden, Invalid, TooLarge, Unauthorized
from vibue.core.fields import storable
from vibue.core.i18n import DEFAULT, catalog
from vibue.models import Staff
from vibue.web.appkeys import CURRENT_STAFF, ROUTE_ENDPOINTS
from vibue.web.jsonbody import parse_json

PUBLIC = frozenset({"public"})
STAFF = frozenset({"clerk", "support", "admin"})
CLERK = frozenset({"clerk", "admin"})
ADMIN = frozenset({"admin"})

# The largest JSON body any endpoint accepts; larger bodies are refused before parsing.
MAX_BODY_BYTES = 64 * 1024

Handler = Callable[..., Awaitable[Any]]
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# The codes the routing and the middleware answer on their own, by what an endpoint takes.
EVERY_ENDPOINT = ("internal",)
WITH_INPUT = ("validation_failed",)  # a body or a query model
WITH_BODY = ("json_required", "malformed_json", "json_too_complex", "body_too_large")
FOR_STAFF = ("not_signed_in", "role_forbidden")
STATE_CHANGING = ("csrf_failed",)


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    handler: Handler
    roles: frozenset[str]
    summary: str
    tag: str
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    errors: tuple[str, ...] = ()
    dev_only: bool = False
    # The handler refuses text no database can store itself (sign-in counts it as a failed attempt).
    refuses_unstorable_itself: bool = False
    # The media type of a binary success answer (a PDF, a certificate) instead of a JSON `response`.
    produces: str | None = None

    @property
    def public(self) -> bool:
        return self.roles == PUBLIC

    @property
    def error_codes(self) -> tuple[str, ...]:
        """Every code this endpoint may answer: the routing's own, by what it takes, then its `errors`."""
        codes = list(EVERY_ENDPOINT)
        if self.body is not None or self.query is not None:
            codes += WITH_INPUT
        if self.body is not None:
            codes += WITH_BODY
        if not self.public:
            codes += FOR_STAFF
        if self.method not in SAFE_METHODS:
            codes += STATE_CHANGING
        return tuple(dict.fromkeys(codes + list(self.errors)))


@dataclass
class Routes:
    """A group of endpoints, filled by decorators in a routes module and added by the app factory."""

    tag: str
    endpoints: list[Endpoint] = field(default_factory=list)

    def route(
        self,
        method: str,
        path: str,
        *,
        roles: frozenset[str],
        summary: str,
        body: type[BaseModel] | None = None,
        query: type[BaseModel] | None = None,
        response: type[BaseModel] | None = None,
        status: int = 200,
        errors: tuple[str, ...] = (),
        dev_only: bool = False,
        refuses_unstorable_itself: bool = False,
        produces: str | None = None,
    ) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.endpoints.append(
                Endpoint(
                    method,
                    path,
                    handler,
                    roles,
                    summary,
                    self.tag,
                    body,
                    query,
                    response,
                    status,
                    errors,
                    dev_only,
                    refuses_unstorable_itself,
                    produces,
                )
            )
            return handler

        return register

    def get(self, path: str, **kwargs: Any) -> Callable[[Handler], Handler]:
        return self.route("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Callable[[Handler], Handler]:
        return self.route("POST", path, **kwargs)


def current_role(request: web.Request) -> str | None:
    staff = request.get(CURRENT_STAFF)
    return None if staff is None else str(staff.role)


def signed_in_staff(request: web.Request) -> Staff:
    """The staff member behind this request; only for endpoints whose role set excludes the public."""
    staff: Staff | None = request.get(CURRENT_STAFF)
    if staff is None:
        raise Unauthorized("not_signed_in")
    return staff


def check_roles(endpoint: Endpoint, request: web.Request) -> None:
    if endpoint.public:
        return
    role = current_role(request)
    if role is None:
        raise Unauthorized("not_signed_in")
    if role not in endpoint.roles:
        raise Forbidden("role_forbidden")


def validation_fields(error: ValidationError) -> dict[str, str]:
    """Field name -> message key (error.field.<pydantic type>), translated by the error middleware."""
    fields: dict[str, str] = {}
    for item in error.errors():
        name = ".".join(str(part) for part in item["loc"]) or "_body"
        kind = item["type"]
        # Our own validators raise ValueError("field.xyz"): use that key directly.
        if kind == "value_error":
            message = str(item.get("ctx", {}).get("error", ""))
            fields.setdefault(name, message if message.startswith("field.") else "field.invalid")
        else:
            key = f"field.{kind}"
            fields.setdefault(name, key if key in catalog(DEFAULT) else "field.invalid")
    return fields


async def read_json(request: web.Request) -> Any:
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise TooLarge("body_too_large")
    if request.content_type != "application/json":
        raise BadRequest("json_required")
    raw = await request.content.read(MAX_BODY_BYTES + 1)
    if len(raw) > MAX_BODY_BYTES:
        raise TooLarge("body_too_large")
    return parse_json(raw)


def unstorable_fields(data: Any, path: tuple[str, ...] = ()) -> dict[str, str]:
    """Where the input holds text no database can store, by field name as validation names them."""
    found: dict[str, str] = {}
    if isinstance(data, str):
        if not storable(data):
            found[".".join(path) or "_body"] = "field.nul"
    elif isinstance(data, dict):
        for key, value in data.items():
            found.update(unstorable_fields(key, (*path, str(key))))
            found.update(unstorable_fields(value, (*path, str(key))))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found.update(unstorable_fields(value, (*path, str(index))))
    return found


def parse_model(model: type[BaseModel], data: Any, *, screen: bool = True) -> BaseModel:
    """The body or query as `model`; text with NUL or lone surrogates is refused whatever the field
    (unless `screen` is off: then the handler refuses it itself, as sign-in does to count it)."""
    unstorable = unstorable_fields(data) if screen else {}  # bounded: read_json caps depth and size
    try:
        parsed = model.model_validate(data)
    except ValidationError as exc:
        raise Invalid("validation_failed", fields={**unstorable, **validation_fields(exc)}) from None
    if unstorable:
        raise Invalid("validation_failed", fields=unstorable)
    return parsed


def to_response(endpoint: Endpoint, result: Any) -> web.StreamResponse:
    if isinstance(result, web.StreamResponse):
        return result
    if result is None:
        return web.Response(status=204)
    if isinstance(result, BaseModel):
        return web.json_response(text=result.model_dump_json(), status=endpoint.status)
    return web.json_response(result, status=endpoint.status)


def wrap(endpoint: Endpoint) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handle(request: web.Request) -> web.StreamResponse:
        check_roles(endpoint, request)
        kwargs: dict[str, Any] = {}
        if endpoint.query is not None:
            kwargs["query"] = parse_model(endpoint.query, dict(request.query))
        if endpoint.body is not None:
            kwargs["body"] = parse_model(
                endpoint.body, await read_json(request), screen=not endpoint.refuses_unstorable_itself
            )
        return to_response(endpoint, await endpoint.handler(request, **kwargs))

    handle.__name__ = endpoint.handler.__name__
    return handle


def add_routes(app: web.Application, groups: list[Routes], *, development: bool) -> list[Endpoint]:
    endpoints: list[Endpoint] = []
    routed = app.setdefault(ROUTE_ENDPOINTS, {})
    for group in groups:
        for endpoint in group.endpoints:
            if not endpoint.roles:
                raise ValueError(f"{endpoint.method} {endpoint.path} declares no roles")
            unknown = [code for code in endpoint.errors if code not in CODES or not CODES[code].http]
            if unknown:
                raise ValueError(f"{endpoint.method} {endpoint.path} declares unknown HTTP error codes {unknown}")
            if endpoint.dev_only and not development:
                continue  # development helpers do not exist at all in production
            routed[app.router.add_route(endpoint.method, endpoint.path, wrap(endpoint))] = endpoint
            endpoints.append(endpoint)
    return endpoints
