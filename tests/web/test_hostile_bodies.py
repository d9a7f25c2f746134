"""Hostile bodies get a 4xx in the one error shape, never a 500: deep nesting, huge numbers, NULs."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.booking_flow import offer, reservation
from tests.helpers import csrf_headers, post_json
from tests.web.test_bad_input import assert_error_shape

MONDAY_8 = "2026-11-30T08:00:00+01:00"


async def post_raw(client: TestClient[Any, Any], path: str, data: bytes) -> Any:
    headers = {**(await csrf_headers(client)), "Content-Type": "application/json"}
    return await client.post(path, data=data, headers=headers)


@pytest.mark.parametrize(
    "data",
    [
        b"[" * 1100 + b"]" * 1100,
        b'{"a":' * 1100 + b"1" + b"}" * 1100,
        b'{"name": ' + b"[" * 100_00 + b"]" * 100_00 + b"}",
    ],
    ids=["list", "object", "in-a-field"],
)
async def test_deep_nesting_is_refused_before_sign_in(client: TestClient[Any, Any], data: bytes) -> None:
    # A staff endpoint: the body is refused as too complex, never parsed into a RecursionError.
    for path in ("/api/reservations", "/api/staff/login"):
        response = await post_raw(client, path, data)
        assert response.status == 400, await response.text()
        assert_error_shape(await response.json(), "json_too_complex")


@pytest.mark.parametrize("number", [b"9" * 5000, b"-" + b"1" * 5000, b"1" * 5000 + b".5", b"1e99999"])
async def test_huge_numbers_are_refused(client: TestClient[Any, Any], number: bytes) -> None:
    response = await post_raw(client, "/api/reservations", b'{"unit_id": ' + number + b"}")
    assert response.status == 400, await response.text()
    assert_error_shape(await response.json(), "json_too_complex")


async def test_non_json_constants_are_malformed(client: TestClient[Any, Any]) -> None:
    for constant in (b"NaN", b"Infinity", b"-Infinity"):
        response = await post_raw(client, "/api/reservations", b'{"unit_id": ' + constant + b"}")
        assert response.status == 400, await response.text()
        assert_error_shape(await response.json(), "malformed_json")


async def test_nesting_within_the_limit_is_parsed(client: TestClient[Any, Any]) -> None:
    response = await post_raw(client, "/api/reservations", b'{"name": ' + b"[" * 20 + b"]" * 20 + b"}")
    assert response.status == 422
    assert_error_shape(await response.json(), "validation_failed")


@pytest.mark.parametrize("field", ["name", "email", "phone", "start", "lang"])
async def test_nul_bytes_in_any_field_are_refused(client: TestClient[Any, Any], field: str) -> None:
    o = await offer(client)
    body = reservation(o, MONDAY_8)
    body[field] = str(body[field])[:3] + "\x00" + str(body[field])[3:]
    response = await post_json(client, "/api/reservations", body)
    assert response.status == 422, await response.text()
    assert_error_shape(await response.json(), "validation_failed")


@pytest.mark.parametrize("text", ["ab\x00cd", "ab\ud800cd", "\udfff"], ids=["nul", "lone-high", "lone-low"])
@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/staff/enrol", {"token": "TEXT", "code": "123456"}, "token"),
        ("/api/staff/enrol", {"token": "x" * 20, "code": "TEXT"}, "code"),
        ("/api/bookings/AAAAAAAAAAAAAAAAAAAAAAAA/reschedule", {"start": "TEXT"}, "start"),
        ("/api/interpreter/AAAAAAAAAAAAAAAAAAAAAAAA/join", {"name": "TEXT", "language": "de"}, "name"),
        ("/api/reservations", {"TEXT": 1}, "TEXT"),
    ],
)
async def test_text_no_database_can_store_is_refused(
    client: TestClient[Any, Any], text: str, path: str, body: dict[str, Any], field: str
) -> None:
    """PostgreSQL refuses NUL in text and nothing encodes a lone surrogate: refused in any field."""
    data = {key.replace("TEXT", text): (text if value == "TEXT" else value) for key, value in body.items()}
    response = await post_json(client, path, data)
    assert response.status == 422, await response.text()
    body = await response.json()
    assert_error_shape(body, "validation_failed")
    assert field.replace("TEXT", text) in body["error"]["fields"]
