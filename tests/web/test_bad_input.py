"""Bad input gets a clear 4xx in the one error shape, never a 500; floods are rate-limited."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.booking_flow import offer, reservation
from tests.helpers import csrf_headers, post_json
from vibue.core.clock import ManualClock
from vibue.core.settings import Settings

MONDAY_8 = "2026-11-30T08:00:00+01:00"


def assert_error_shape(body: Any, code: str) -> None:
    """The pinned shape: exactly {"error": {"code", "message", "fields"}} with strings inside."""
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"code", "message", "fields"}
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["fields"], dict)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in error["fields"].items())


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (
            {"email": "not-an-address"},
            "email",
            "Bitte geben Sie eine gültige E-Mail-Adresse an, z. B. name@beispiel.de.",
        ),
        ({"name": ""}, "name", "Bitte geben Sie Ihren Namen an (höchstens 120 Zeichen)."),
        ({"name": "x" * 121}, "name", "Bitte geben Sie Ihren Namen an (höchstens 120 Zeichen)."),
        ({"name": "Eve\u0000"}, "name", "Bitte geben Sie Ihren Namen an (höchstens 120 Zeichen)."),
        # An encoded word a mail reader would decode into a line break and a Bcc header.
        ({"name": "=?utf-8?q?a=0D=0ABcc:x@y?="}, "name", "Bitte geben Sie Ihren Namen an (höchstens 120 Zeichen)."),
        ({"phone": "call me"}, "phone", "Bitte geben Sie eine Telefonnummer aus Ziffern an, z. B. 06221 58-0."),
        (
            {"privacy_consent": False},
            "privacy_consent",
            "Bitte bestätigen Sie, dass Sie die Datenschutzhinweise gelesen haben.",
        ),
        ({"start": "2026-11-30T08:00:00"}, "start", "Bitte geben Sie die Uhrzeit mit Zeitzone an."),
        ({"start": "tomorrow"}, "start", "Datum und Uhrzeit sind nicht lesbar."),
        ({"unit_id": "one"}, "unit_id", "Bitte geben Sie eine ganze Zahl ein."),
        ({"unit_id": 0}, "unit_id", "Der Wert ist zu klein."),
        ({"lang": "fr"}, "lang", "Bitte wählen Sie einen der erlaubten Werte."),
        ({"admin": True}, "admin", "Dieses Feld ist hier nicht vorgesehen."),
    ],
)
async def test_reservation_fields_are_validated(
    client: TestClient[Any, Any], change: dict[str, Any], field: str, message: str
) -> None:
    o = await offer(client)
    response = await post_json(client, "/api/reservations", {**reservation(o, MONDAY_8), **change})
    assert response.status == 422
    body = await response.json()
    assert_error_shape(body, "validation_failed")
    assert body["error"]["fields"][field] == message


async def test_missing_fields_are_listed(client: TestClient[Any, Any]) -> None:
    response = await post_json(client, "/api/reservations", {})
    body = await response.json()
    assert_error_shape(body, "validation_failed")
    assert set(body["error"]["fields"]) >= {"unit_id", "start", "name", "email", "privacy_consent"}
    assert body["error"]["fields"]["email"] == "Bitte füllen Sie dieses Feld aus."


async def test_english_messages_on_request(client: TestClient[Any, Any]) -> None:
    headers = {**(await csrf_headers(client)), "Accept-Language": "en-GB,en;q=0.9"}
    response = await client.post("/api/reservations", json={}, headers=headers)
    body = await response.json()
    assert body["error"]["message"] == "Please check the marked fields."


async def test_malformed_bodies(client: TestClient[Any, Any]) -> None:
    headers = await csrf_headers(client)
    cases = [
        (b"{not json", "application/json", 400, "malformed_json"),
        (b"\xff\xfe", "application/json", 400, "malformed_json"),
        (b"[1, 2]", "application/json", 422, "validation_failed"),
        (b"name=x", "application/x-www-form-urlencoded", 400, "json_required"),
        (b"{" + b'"a": "' + b"x" * 70_000 + b'"}', "application/json", 413, "body_too_large"),
    ]
    for data, content_type, status, code in cases:
        response = await client.post("/api/reservations", data=data, headers={**headers, "Content-Type": content_type})
        assert response.status == status, (code, await response.text())
        assert_error_shape(await response.json(), code)


async def test_unknown_things_are_404_in_the_same_shape(client: TestClient[Any, Any]) -> None:
    cases = [
        ("/api/units/999/concerns", "unit_not_found"),
        ("/api/units/abc/concerns", "unit_not_found"),
        ("/api/units/1/concerns/999/locations", "concern_not_found"),
        ("/api/slots?unit=1&concern=1&location=999", "location_not_found"),
        ("/api/bookings/AAAAAAAAAAAAAAAAAAAAAAAA", "booking_not_found"),
        ("/api/nothing-here", "not_found"),
    ]
    for path, code in cases:
        response = await client.get(path)
        assert response.status == 404, path
        assert_error_shape(await response.json(), code)


async def test_bad_query_parameters(client: TestClient[Any, Any]) -> None:
    for query in (
        "unit=1",
        "unit=x&concern=1&location=1",
        "unit=1&concern=1&location=1&days=400",
        "unit=1&concern=1&location=1&from=30.11.2026",
    ):
        response = await client.get(f"/api/slots?{query}")
        assert response.status == 422, query
        assert_error_shape(await response.json(), "validation_failed")


async def test_wrong_method_and_missing_csrf(client: TestClient[Any, Any]) -> None:
    response = await client.delete("/api/units")
    assert response.status == 405
    assert_error_shape(await response.json(), "method_not_allowed")
    response = await client.post("/api/reservations", json={})
    assert response.status == 403
    assert_error_shape(await response.json(), "csrf_failed")
    response = await client.post("/api/reservations", json={}, headers={"X-CSRF-Token": "forged"})
    assert response.status == 403


async def test_pages_show_a_readable_german_error(client: TestClient[Any, Any]) -> None:
    response = await client.get("/termin/short")
    assert response.status == 404
    page = await response.text()
    assert "Das hat leider nicht geklappt" in page and "Traceback" not in page


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.replace(rate_limit_reservations=3)


async def test_reservations_are_rate_limited(client: TestClient[Any, Any], clock: ManualClock) -> None:
    o = await offer(client)
    statuses = []
    for n in range(4):
        response = await post_json(client, "/api/reservations", reservation(o, MONDAY_8, email=f"p{n}@example.org"))
        statuses.append(response.status)
        if response.status == 429:
            assert_error_shape(await response.json(), "rate_limited")
            assert int(response.headers["Retry-After"]) > 0
    assert statuses == [201, 409, 409, 429]


@pytest.mark.parametrize(
    "email",
    [
        "x,attacker@example.net",
        "Erika <erika@example.org>",
        '"a b"@example.org',
        "a@b",
        "erika@example.org\nBcc: x@y.de",
    ],
)
async def test_addresses_that_could_add_recipients_or_headers_are_refused(
    client: TestClient[Any, Any], email: str
) -> None:
    o = await offer(client)
    response = await post_json(client, "/api/reservations", reservation(o, MONDAY_8, email=email))
    assert response.status == 422
    assert "email" in (await response.json())["error"]["fields"]


@pytest.mark.parametrize(
    "start", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "1999-12-31T08:00:00+01:00"]
)
async def test_dates_far_outside_any_calendar_are_refused_not_crashed_on(
    client: TestClient[Any, Any], start: str
) -> None:
    o = await offer(client)
    response = await post_json(client, "/api/reservations", reservation(o, start))
    assert response.status == 422
    body = await response.json()
    assert_error_shape(body, "validation_failed")
    assert body["error"]["fields"]["start"] == "Dieses Datum liegt außerhalb des möglichen Zeitraums."
    response = await client.get(
        f"/api/slots?unit={o.unit_id}&concern={o.concern_id}&location={o.location_id}&from=9999-12-31"
    )
    assert response.status == 422
    assert_error_shape(await response.json(), "validation_failed")


async def test_unexpected_validation_kinds_get_a_readable_message(client: TestClient[Any, Any]) -> None:
    o = await offer(client)
    response = await post_json(client, "/api/reservations", reservation(o, MONDAY_8, unit_id=1.5))
    message = (await response.json())["error"]["fields"]["unit_id"]
    assert not message.startswith("field."), message


async def test_clerk_day_refuses_dates_outside_the_calendar(client: TestClient[Any, Any]) -> None:
    from tests.helpers import sign_in_demo

    await sign_in_demo(client, "clerk")
    response = await client.get("/api/clerk/day?date=9999-12-31")
    assert response.status == 422
    assert_error_shape(await response.json(), "validation_failed")
