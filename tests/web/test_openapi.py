"""GET /api/openapi.json describes every JSON endpoint the app serves."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from aiohttp import web
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


def _codes(operation: dict[str, Any]) -> dict[str, list[str]]:
    """Status -> the error codes the operation documents for it."""
    return {
        status: response["content"]["application/json"]["schema"]["allOf"][1]["properties"]["error"]["properties"][
            "code"
        ]["enum"]
        for status, response in operation["responses"].items()
        if status[0] in "45" and status != "4XX"
    }


async def test_operations_list_the_codes_they_can_answer(client: TestClient[Any, Any]) -> None:
    """The routing's own codes by what an endpoint takes, then its declared ones, under their statuses."""
    paths = (await (await client.get("/api/openapi.json")).json())["paths"]
    verify = paths["/api/video/{token}/verify"]["post"]
    assert _codes(verify) == {
        "400": ["json_required", "malformed_json", "json_too_complex"],
        "403": ["csrf_failed"],
        "404": ["booking_not_found"],
        "409": [
            "video_not_open",
            "not_a_video_appointment",
            "status_conflict",
            "identity_code_expired",
            "identity_code_voided",
            "identity_code_used",
        ],
        "413": ["body_too_large"],
        "422": ["validation_failed", "identity_code_missing", "identity_code_wrong"],
        "429": ["rate_limited"],
        "500": ["internal"],
        "503": ["limits_unavailable"],
    }
    assert set(verify["x-error-codes"]) == {code for codes in _codes(verify).values() for code in codes}
    # A GET without body or query, for everyone: no CSRF, no sign-in, no body codes.
    assert _codes(paths["/api/video/{token}"]["get"]) == {"404": ["booking_not_found"], "500": ["internal"]}
    # Staff only: the sign-in and role codes.
    me = _codes(paths["/api/staff/me"]["get"])
    assert me["401"] == ["not_signed_in"]
    assert me["403"] == ["role_forbidden"]
    assert _codes(paths["/healthz"]["get"])["503"] == ["database_unavailable"]


async def test_an_undeclared_code_is_reported(
    aiohttp_client: Any, settings: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """An endpoint answering a code it does not declare warns (an error in the test suite) and logs,
    once however often a client repeats the request."""
    import vibue.web.middleware
    from vibue.app import create_app
    from vibue.core.errors import Conflict
    from vibue.web.middleware import UndeclaredErrorCode
    from vibue.web.routing import PUBLIC, Routes, add_routes

    extra = Routes("test")

    @extra.get(
        "/api/test/undeclared", roles=PUBLIC, summary="raises a code it does not declare", errors=("slot_taken",)
    )
    async def undeclared(request: web.Request) -> None:
        raise Conflict(request.query.get("code", "slot_taken"))

    def setup(app: web.Application) -> None:
        app[ENDPOINTS].extend(add_routes(app, [extra], development=False))

    client = await aiohttp_client(create_app(settings, setups=(setup,)))
    declared = await client.get("/api/test/undeclared")
    assert declared.status == 409
    monkeypatch.setattr(vibue.web.middleware, "_reported", set())
    with caplog.at_level(logging.WARNING, logger="vibue.http"):
        for _ in range(3):
            with pytest.warns(UndeclaredErrorCode, match="answered 'open_booking_exists'"):
                response = await client.get("/api/test/undeclared?code=open_booking_exists")
    assert response.status == 409
    assert (await response.json())["error"]["code"] == "open_booking_exists"
    logged = [r for r in caplog.records if "undeclared error code open_booking_exists" in r.getMessage()]
    assert len(logged) == 1


async def test_operations_state_csrf_retry_after_and_what_they_enforce(client: TestClient[Any, Any]) -> None:
    """What the server enforces is in the document, so a generator of valid requests gets them accepted."""
    document = await (await client.get("/api/openapi.json")).json()
    paths, schemes = document["paths"], document["components"]["securitySchemes"]
    assert schemes["csrfHeader"] == {**schemes["csrfHeader"], "type": "apiKey", "in": "header", "name": "X-CSRF-Token"}
    assert paths["/api/reservations"]["post"]["security"] == [{"csrfCookie": [], "csrfHeader": []}]
    assert paths["/api/clerk/walk-ins"]["post"]["security"] == [
        {"staffSession": [], "csrfCookie": [], "csrfHeader": []}
    ]
    assert paths["/api/clerk/day"]["get"]["security"] == [{"staffSession": []}]
    assert "security" not in paths["/api/units"]["get"]
    retry = paths["/api/reservations"]["post"]["responses"]["429"]["headers"]["Retry-After"]
    assert retry["required"] is True and retry["schema"]["type"] == "integer"
    assert "503" in paths["/healthz"]["get"]["responses"]
    reservation = document["components"]["schemas"]["ReservationIn"]["properties"]
    assert reservation["privacy_consent"]["const"] is True
    assert reservation["name"]["maxLength"] == 120 and reservation["name"]["pattern"].startswith("^(?!.*=\\?)")
    assert reservation["start"]["pattern"] == "^20[0-9]{2}-" and reservation["start"]["format"] == "date-time"
    verify = document["components"]["schemas"]["VerifyIn"]["properties"]["code"]
    assert verify["pattern"] == "^ *(?:[0-9] *){6}$"
    login = document["components"]["schemas"]["LoginBody"]["properties"]
    assert login["username"]["pattern"] == "^[^\\u0000]*$"
    token = next(p for p in paths["/api/bookings/{token}"]["get"]["parameters"] if p["name"] == "token")
    assert token["schema"] == {"type": "string", "pattern": "^[A-Za-z0-9_-]{16,80}$"}
