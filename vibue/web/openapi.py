"""GET /api/openapi.json: an OpenAPI 3.1 document generated from the endpoint table itself."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from vibue.core.error_codes import status_of
from vibue.core.fields import MAX_ID
from vibue.web.appkeys import ENDPOINTS, SETTINGS
from vibue.web.routing import PUBLIC, SAFE_METHODS, Endpoint, Routes

routes = Routes("system")

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "fields"],
            "properties": {
                "code": {"type": "string", "description": "Stable machine-readable code."},
                "message": {"type": "string", "description": "Human-readable text in the caller's language."},
                "fields": {"type": "object", "additionalProperties": {"type": "string"}},
            },
        }
    },
}
# The codes whose answers always carry Retry-After (RateLimited, LimitsUnavailable, SealUnavailable).
WITH_RETRY_AFTER = {"rate_limited", "limits_unavailable", "seal_unavailable"}
RETRY_AFTER = {
    "description": "Seconds until the client may try again.",
    "required": True,
    "schema": {"type": "integer", "minimum": 0},
}
ERROR_CONTENT = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}


def openapi_path(path: str) -> str:
    """aiohttp's "/x/{token:[a-z]{16}}" as OpenAPI's "/x/{token}" (the regex may hold braces itself)."""
    out, depth, skipping = [], 0, False
    for ch in path:
        if ch == "{":
            depth += 1
            if depth == 1:
                out.append(ch)
                continue
        elif ch == "}":
            depth -= 1
            if depth == 0:
                skipping = False
                out.append(ch)
                continue
        elif ch == ":" and depth == 1:
            skipping = True
        if not skipping:
            out.append(ch)
    return "".join(out)


def path_parameters(path: str) -> list[str]:
    return re.findall(r"\{(\w+)\}", openapi_path(path))


def path_patterns(path: str) -> dict[str, str]:
    """The regex aiohttp matches each path parameter with ("/x/{token:[a-z]{16}}" -> {"token": "[a-z]{16}"})."""
    patterns: dict[str, str] = {}
    for match in re.finditer(r"\{(\w+):((?:[^{}]|\{[^{}]*\})+)\}", path):
        patterns[match.group(1)] = match.group(2)
    return patterns


def _path_schema(name: str, pattern: str | None) -> dict[str, Any]:
    # A pattern says what the route matches (a document id is a random string, not a row number).
    if pattern is not None:
        return {"type": "string", "pattern": f"^{pattern}$"}
    if name.endswith("_id"):
        return {"type": "integer", "minimum": 1, "maximum": MAX_ID}
    return {"type": "string"}


# The routing refuses NUL in any text it is given (PostgreSQL cannot store it): said once for
# every request string that has no pattern of its own.
NO_NUL = r"^[^\u0000]*$"


def _forbid_nul(schema: Any) -> None:
    if isinstance(schema, list):
        for item in schema:
            _forbid_nul(item)
        return
    if not isinstance(schema, dict):
        return
    if schema.get("type") == "string" and not {"pattern", "format", "enum", "const"} & schema.keys():
        schema["pattern"] = NO_NUL
    for key in ("properties", "patternProperties", "additionalProperties", "anyOf", "oneOf", "allOf", "items"):
        value = schema.get(key)
        by_name = key in {"properties", "patternProperties"}
        _forbid_nul(list(value.values()) if isinstance(value, dict) and by_name else value)


def _query_parameters(model: type[BaseModel], schemas: dict[str, Any]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    _forbid_nul(schema)
    required = set(schema.get("required", []))
    return [
        {"name": name, "in": "query", "required": name in required, "schema": prop}
        for name, prop in schema.get("properties", {}).items()
    ]


def _operation(endpoint: Endpoint, refs: dict[Any, Any]) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": endpoint.summary,
        "tags": [endpoint.tag],
        "operationId": endpoint.handler.__name__,
        "x-roles": sorted(endpoint.roles),
    }
    # Every listed scheme is needed together: the staff cookie, and for a state change the
    # vibue_csrf cookie echoed in the X-CSRF-Token header (vibue.web.middleware.csrf).
    requirement: dict[str, list[str]] = {} if endpoint.public else {"staffSession": []}
    if endpoint.method not in SAFE_METHODS:
        requirement |= {"csrfCookie": [], "csrfHeader": []}
    if requirement:
        op["security"] = [requirement]
    patterns = path_patterns(endpoint.path)
    params = [
        {"name": name, "in": "path", "required": True, "schema": _path_schema(name, patterns.get(name))}
        for name in path_parameters(endpoint.path)
    ]
    if endpoint.query is not None:
        params += _query_parameters(endpoint.query, refs)
    if params:
        op["parameters"] = params
    if endpoint.body is not None:
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": refs[(endpoint.body, "validation")]}},
        }
    success: dict[str, Any] = {"description": "Success"}
    if endpoint.response is not None:
        success["content"] = {"application/json": {"schema": refs[(endpoint.response, "serialization")]}}
    elif endpoint.produces is not None:
        success["content"] = {endpoint.produces: {"schema": {"type": "string", "format": "binary"}}}
    responses: dict[str, Any] = {str(endpoint.status): success}
    by_status: dict[int, list[str]] = {}
    for code in endpoint.error_codes:
        by_status.setdefault(status_of(code), []).append(code)
    for status, codes in sorted(by_status.items()):
        responses[str(status)] = _error_response(codes)
        if set(codes) <= WITH_RETRY_AFTER:
            responses[str(status)]["headers"] = {"Retry-After": RETRY_AFTER}
    # Anything else the router answers by itself (not_found for an unknown path, method_not_allowed).
    responses["4XX"] = {"description": "Other client errors", "content": ERROR_CONTENT}
    op["responses"] = responses
    op["x-error-codes"] = list(endpoint.error_codes)
    return op


def _error_response(codes: list[str]) -> dict[str, Any]:
    """One status's error answer: the shared shape, its `code` narrowed to the codes given."""
    narrowed = {"properties": {"error": {"properties": {"code": {"enum": codes}}}}}
    return {
        "description": "Error: " + ", ".join(codes),
        "content": {"application/json": {"schema": {"allOf": [{"$ref": "#/components/schemas/Error"}, narrowed]}}},
    }


def build_openapi(endpoints: list[Endpoint], *, base_url: str) -> dict[str, Any]:
    models: list[tuple[type[BaseModel], Any]] = []
    for endpoint in endpoints:
        if endpoint.body is not None:
            models.append((endpoint.body, "validation"))
        if endpoint.response is not None:
            models.append((endpoint.response, "serialization"))
    refs, definitions = models_json_schema(models, ref_template="#/components/schemas/{model}")
    schemas = dict(definitions.get("$defs", {}))
    for endpoint in endpoints:
        if endpoint.body is not None:
            _forbid_nul(schemas[refs[(endpoint.body, "validation")]["$ref"].rpartition("/")[2]])
    schemas["Error"] = ERROR_SCHEMA
    paths: dict[str, dict[str, Any]] = {}
    for endpoint in endpoints:
        paths.setdefault(openapi_path(endpoint.path), {})[endpoint.method.lower()] = _operation(endpoint, refs)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "ViBü – Bürgeramt Virtuell",
            "version": "0.1.0",
            "description": "JSON API of the virtual citizen office. State-changing requests need the "
            "X-CSRF-Token header echoing the vibue_csrf cookie. Errors share one shape (schema Error).",
        },
        "servers": [{"url": base_url}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "staffSession": {"type": "apiKey", "in": "cookie", "name": "vibue_staff"},
                "csrfCookie": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": "vibue_csrf",
                    "description": "Handed out with every answer that finds none.",
                },
                "csrfHeader": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-CSRF-Token",
                    "description": "The vibue_csrf cookie's value, echoed on every state-changing request.",
                },
            },
        },
    }


@routes.get("/api/openapi.json", roles=PUBLIC, summary="This API description (OpenAPI 3.1)")
async def openapi(request: web.Request) -> dict[str, Any]:
    return build_openapi(request.app[ENDPOINTS], base_url=request.app[SETTINGS].base_url)
