"""The app with a document factory plugged in, and an appointment whose call is running.

`make_factory` is the one place that picks the factory: the integrator switches it to
documents.factory once render and seal have landed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import update

import signaling
from tests.booking_flow import confirmed_booking, identity_code_from_mail, offer
from tests.helpers import post_json
from tests.issued.factory import PlainFactory
from tests.smtp import MailCatcher
from vibue.app import create_app
from vibue.booking import service as booking
from vibue.core.clock import ManualClock
from vibue.core.settings import Settings
from vibue.issued.ports import DOCUMENT_FACTORY
from vibue.models import Appointment
from vibue.web.appkeys import SESSIONS

START = "2026-11-30T08:00:00+01:00"  # the clock says 07:00; the room opens at 07:45


def make_factory() -> PlainFactory:
    return PlainFactory()


@pytest.fixture
def factory() -> PlainFactory:
    return make_factory()


@pytest.fixture
async def client(
    aiohttp_client: Any, settings: Settings, clock: ManualClock, factory: PlainFactory
) -> TestClient[Any, Any]:
    def plug(app: web.Application) -> None:
        app[DOCUMENT_FACTORY] = factory

    app = create_app(settings, clock=clock, setups=[signaling.setup, plug])
    test_client: TestClient[Any, Any] = await aiohttp_client(app)
    return test_client


@dataclass(frozen=True)
class Call:
    token: str  # the booking link's secret
    appointment_id: int


async def booked(
    client: TestClient[Any, Any], catcher: MailCatcher, email: str = "erika@example.org", start: str = START
) -> Call:
    """A confirmed video appointment, at 08:00 unless told (the clock must be an hour before it)."""
    token = await confirmed_booking(client, catcher, await offer(client), start, email)
    async with client.app[SESSIONS]() as session:
        appointment = await booking.find(session=session, token=token)
    return Call(token, appointment.id)


async def verify_citizen(
    client: TestClient[Any, Any], catcher: MailCatcher, call: Call, email: str, count: int
) -> None:
    sent = await post_json(client, f"/api/video/{call.token}/code")
    assert sent.status == 202, await sent.text()
    code = await identity_code_from_mail(catcher, email, count=count)
    verified = await post_json(client, f"/api/video/{call.token}/verify", {"code": code})
    assert verified.status == 200, await verified.text()


async def set_status(client: TestClient[Any, Any], call: Call, status: str) -> None:
    """The call's state as admission leaves it (tests/signaling drive admission itself)."""
    async with client.app[SESSIONS].begin() as session:
        await session.execute(update(Appointment).where(Appointment.id == call.appointment_id).values(status=status))
