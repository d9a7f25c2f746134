"""What was acknowledged to a citizen survives a restart of the server."""

from __future__ import annotations

from typing import Any

from tests.booking_flow import get_json, offer, reserve, token_from_mail
from tests.smtp import MailCatcher
from vibue.app import create_app
from vibue.core.clock import ManualClock
from vibue.core.settings import Settings


async def test_acknowledged_booking_survives_restart(
    aiohttp_client: Any, settings: Settings, clock: ManualClock, mail_catcher: MailCatcher
) -> None:
    first = await aiohttp_client(create_app(settings, clock=clock))
    o = await offer(first)
    reserved = await reserve(first, o, "2026-11-30T09:00:00+01:00")
    token = await token_from_mail(mail_catcher, "erika@example.org")
    await first.close()  # runs the app's cleanup: engine disposed, workers stopped

    second = await aiohttp_client(create_app(settings, clock=clock))
    booking = await get_json(second, f"/api/bookings/{token}")
    assert (booking["reference"], booking["status"]) == (reserved["reference"], "reserved")
    assert booking["start"] == "2026-11-30T09:00:00+01:00"
    await second.close()
