"""`document.ready` and `document.revoked` reach the call's room over a real Socket.IO connection."""

from __future__ import annotations

from typing import Any

from aiohttp import web

import signaling
from tests.calls import Peer, booked_video, http, staff_cookie, verified_citizen
from tests.helpers import post_json
from tests.issued.conftest import START
from tests.issued.factory import PlainFactory
from tests.signaling.test_signaling import appointment_of
from tests.smtp import MailCatcher
from vibue.app import create_app
from vibue.core.clock import ManualClock
from vibue.core.settings import Settings
from vibue.issued.ports import DOCUMENT_FACTORY


async def test_the_room_hears_of_issued_and_revoked_documents(
    aiohttp_server: Any,
    settings: Settings,
    clock: ManualClock,
    unused_tcp_port: int,
    mail_catcher: MailCatcher,
    factory: PlainFactory,
) -> None:
    settings = settings.replace(base_url=f"http://127.0.0.1:{unused_tcp_port}", port=unused_tcp_port)

    def plug(app: web.Application) -> None:
        app[DOCUMENT_FACTORY] = factory

    served = await aiohttp_server(
        create_app(settings, clock=clock, setups=[signaling.setup, plug]), port=unused_tcp_port
    )
    base_url = f"http://127.0.0.1:{served.port}"
    citizen, clerk = Peer(), Peer()
    try:
        async with http(base_url) as session:
            token = await booked_video(session, mail_catcher, start=START, email="erika@example.org")
            clock.advance(minutes=50)
            join_token = await verified_citizen(session, mail_catcher, token=token, email="erika@example.org")
            cookie = await staff_cookie(served.app, session, "s.berger")
            await citizen.connect(base_url, join_token=join_token)
            await clerk.connect(base_url, cookie=cookie)
            appointment_id = await appointment_of(served.app, "erika@example.org")
            assert (await clerk.call("room.join", {"appointment_id": appointment_id}))["ok"]
            assert (await clerk.call("admit", {"appointment_id": appointment_id}))["ok"]
            await citizen.next("admitted")  # the call runs: the appointment is in_call

            body = {
                "template_id": "familienpass",
                "fields": {"name": "Erika Mustermann", "children": "Ida, 4"},
                "idempotency_key": "push-test-key-0001",
            }
            issued = await post_json(session, f"/api/clerk/appointments/{appointment_id}/documents", body)
            assert issued.status == 201, await issued.text()
            doc = (await issued.json())["document"]
            ready = await citizen.next("document.ready")
            assert ready == {
                "document": {
                    "id": doc["id"],
                    "title": "Landesfamilienpass",
                    "issued_at": ready["document"]["issued_at"],
                    "level": "B-B",
                }
            }
            assert (await clerk.next("document.ready"))["document"]["id"] == doc["id"]
            # The same request again announces nothing new.
            again = await post_json(session, f"/api/clerk/appointments/{appointment_id}/documents", body)
            assert again.status == 200

            revoked = await post_json(session, f"/api/clerk/documents/{doc['id']}/revoke", {"reason": "falsches Kind"})
            assert revoked.status == 200
            notice = await citizen.next("document.revoked")
            assert notice["document_id"] == doc["id"]
            assert notice["revoked_at"] is not None
            assert len(citizen.events["document.ready"]) == 1
    finally:
        await citizen.close()
        await clerk.close()
