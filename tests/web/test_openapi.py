"""GET /api/openapi.json describes every JSON endpoint the app serves."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from vibue.web.appkeys import ENDPOINTS
from vibue.web.openapi import openapi_path


async def test_openapi_lists_every_route(client: TestClient[Any, Any]) -> None:
    response = await client.get("/api/openapi.json")
    assert response.status == 200
    document = await response.json()
    assert document["openapi"] == "3.1.0"
    described = {(path, method.upper()) for path, ops in document["paths"].items() for method in ops}
    # Every JSON route registered on the router, not only those in the endpoint table.
    served = {
        (openapi_path(route.resource.canonical), route.method)
        for route in client.app.router.routes()
        if route.resource is not None
        and (route.resource.canonical.startswith("/api/") or route.resource.canonical == "/healthz")
        and route.method != "HEAD"
    }
    assert served == described
    assert len(client.app[ENDPOINTS]) == len(described)


async def test_operations_declare_roles_bodies_and_the_error_shape(client: TestClient[Any, Any]) -> None:
    document = await (await client.get("/api/openapi.json")).json()
    reservations = document["paths"]["/api/reservations"]["post"]
    assert reservations["x-roles"] == ["public"]
    body = reservations["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = document["components"]["schemas"][body.rsplit("/", 1)[1]]
    assert {"start", "email", "privacy_consent"} <= set(schema["required"])
    assert document["components"]["schemas"]["Error"]["properties"]["error"]["required"] == [
        "code",
        "message",
        "fields",
    ]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            assert operation["summary"], (method, path)
            assert "4XX" in operation["responses"], (method, path)
            for ref in _refs(operation):
                assert ref.rsplit("/", 1)[1] in document["components"]["schemas"], ref


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if "$ref" in node else []
        return found + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for item in node for ref in _refs(item)]
    return []


async def test_healthz(client: TestClient[Any, Any]) -> None:
    response = await client.get("/healthz")
    assert response.status == 200
    assert await response.json() == {"status": "ok"}
