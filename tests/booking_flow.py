"""Helpers that walk the booking API the way the booking pages do."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from tests.helpers import Client, post_json
from tests.smtp import MailCatcher, links, text_body

TOKEN = re.compile(r"/termin/([A-Za-z0-9_-]{16,80})")


@dataclass(frozen=True)
class Offer:
    unit_id: int
    concern_id: int
    location_id: int


async def get_json(client: Client, path: str, status: int = 200) -> Any:
    response = await client.get(path)
    assert response.status == status, await response.text()
    return await response.json()


async def offer(
    client: Client,
    unit: str = "buergeramt-virtuell",
    concern: str = "an-ummeldung",
    location: str = "bv-video",
) -> Offer:
    units = {u["slug"]: u["id"] for u in (await get_json(client, "/api/units"))["units"]}
    concerns = await get_json(client, f"/api/units/{units[unit]}/concerns")
    concern_id = {c["slug"]: c["id"] for c in concerns["concerns"]}[concern]
    locations = await get_json(client, f"/api/units/{units[unit]}/concerns/{concern_id}/locations")
    location_id = {loc["slug"]: loc["id"] for loc in locations["locations"]}[location]
    return Offer(units[unit], concern_id, location_id)


async def slots(client: Client, o: Offer, first_day: str | None = None, days: int = 7) -> Any:
    query = f"/api/slots?unit={o.unit_id}&concern={o.concern_id}&location={o.location_id}&days={days}"
    return await get_json(client, query + (f"&from={first_day}" if first_day else ""))


def free_starts(slot_answer: Any) -> set[str]:
    return {slot["start"] for day in slot_answer["days"] for slot in day["slots"]}


def reservation(o: Offer, start: str, email: str = "erika@example.org", **extra: Any) -> dict[str, Any]:
    return {
        "unit_id": o.unit_id,
        "concern_id": o.concern_id,
        "location_id": o.location_id,
        "start": start,
        "name": "Erika Mustermann",
        "email": email,
        "phone": "06221 58-0",
        "privacy_consent": True,
        "lang": "de",
        **extra,
    }


async def reserve(client: Client, o: Offer, start: str, email: str = "erika@example.org") -> Any:
    response = await post_json(client, "/api/reservations", reservation(o, start, email))
    assert response.status == 201, await response.text()
    return await response.json()


async def token_from_mail(catcher: MailCatcher, email: str, count: int = 1) -> str:
    message = (await catcher.receive(email, count=count))[count - 1]
    for link in links(message):
        match = TOKEN.search(link)
        if match:
            return match.group(1)
    raise AssertionError("no booking link in the mail")


async def confirmed_booking(
    client: Client, catcher: MailCatcher, o: Offer, start: str, email: str = "erika@example.org"
) -> str:
    """Reserve and confirm through the mail's link; returns the booking link's secret."""
    await reserve(client, o, start, email)
    token = await token_from_mail(catcher, email)
    response = await post_json(client, f"/api/bookings/{token}/confirm")
    assert response.status == 200, await response.text()
    return token


CODE = re.compile(r"^\s*(\d{6})\s*$", re.MULTILINE)


async def identity_code_from_mail(catcher: MailCatcher, email: str, count: int) -> str:
    message = (await catcher.receive(email, count=count))[count - 1]
    found = CODE.search(text_body(message))
    assert found, text_body(message)
    return found.group(1)
