"""GET /api/openapi.json: an OpenAPI 3.1 document generated from the endpoint table itself."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from vibue.core.error_codes import status_of
from vibue.web.appkeys import ENDPOINTS, SETTINGS
from vibue.web.routing import PUBLIC, Endpoint, Routes

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


def _query_parameters(model: type[BaseModel], schemas: dict[str, Any]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
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
    if not endpoint.public:
        op["security"] = [{"staffSession": []}]
    params = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "integer", "minimum": 1} if name.endswith("_id") else {"type": "string"},
        }
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
    responses: dict[str, Any] = {str(endpoint.status): success}
    by_status: dict[int, list[str]] = {}
    for code in endpoint.error_codes:
        by_status.setdefault(status_of(code), []).append(code)
    for status, codes in sorted(by_status.items()):
        responses[str(status)] = _error_response(codes)
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
            "securitySchemes": {"staffSession": {"type": "apiKey", "in": "cookie", "name": "vibue_staff"}},
        },
    }


@routes.get("/api/openapi.json", roles=PUBLIC, summary="This API description (OpenAPI 3.1)")
async def openapi(request: web.Request) -> dict[str, Any]:
    return build_openapi(request.app[ENDPOINTS], base_url=request.app[SETTINGS].base_url)
