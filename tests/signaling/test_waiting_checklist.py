"""The waiting room's checklist follows the one language-fallback rule (vibue.core.i18n.localized):
an English-language appointment whose concern has no English checklist shows the German one."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

import signaling
from tests.calls import Peer, booked_video, http, verified_citizen
from tests.smtp import MailCatcher
from vibue.app import create_app
from vibue.core.clock import ManualClock
from vibue.core.settings import Settings
from vibue.models import Appointment
from vibue.web.appkeys import SESSIONS

START = "2026-11-30T08:00:00+01:00"  # s.berger serves the virtual office on Mondays
EMAIL = "erika@example.org"


async def test_an_english_appointment_without_english_checklist_waits_with_the_german_one(
    aiohttp_server: Any, settings: Settings, clock: ManualClock, mail_catcher: MailCatcher, unused_tcp_port: int
) -> None:
    base_url = f"http://127.0.0.1:{unused_tcp_port}"
    settings = settings.replace(base_url=base_url, port=unused_tcp_port, min_lead_minutes=0)
    server = await aiohttp_server(create_app(settings, clock=clock, setups=[signaling.setup]), port=unused_tcp_port)
    citizen = Peer()
    async with http(base_url) as session:
        token = await booked_video(session, mail_catcher, start=START, email=EMAIL)
        clock.advance(minutes=61)  # 08:01: the room of 08:00 is open
        join_token = await verified_citizen(session, mail_catcher, token=token, email=EMAIL)
        async with server.app[SESSIONS].begin() as db:
            query = select(Appointment).options(selectinload(Appointment.concern))
            appointment = await db.scalar(query.where(Appointment.citizen_email == EMAIL))
            assert appointment is not None
            appointment.lang = "en"
            appointment.concern.checklist_en = []
            german = list(appointment.concern.checklist_de)
        try:
            await citizen.connect(base_url, join_token=join_token)
            waiting = await citizen.next("waiting")
        finally:
            await citizen.close()
    assert "Personalausweis oder Reisepass" in german
    assert waiting["checklist"] == german
