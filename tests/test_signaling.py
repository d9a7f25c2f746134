"""Signaling over real Socket.IO connections: waiting room, admission, relay, chat, identity check,
outcome, resume within the grace period, and everything a client may not do."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import select

import signaling
from tests.calls import Peer, booked_video, http, refused, staff_cookie, verified_citizen
from tests.helpers import post_json
from tests.smtp import MailCatcher
from vibue.app import create_app
from vibue.appkeys import SESSIONS
from vibue.clock import ManualClock
from vibue.models import Appointment
from vibue.settings import Settings

START = "2026-11-30T08:00:00+01:00"  # s.berger serves the virtual office on Mondays
OTHER = "2026-11-30T08:15:00+01:00"


@dataclass
class Call:
    base_url: str
    app: web.Application
    http: aiohttp.ClientSession
    booking_token: str
    join_token: str
    citizen: Peer
    clerk: Peer
    clerk_cookie: str


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # Rooms open 15 minutes before; tests book late, so no lead time.
    return settings.replace(reconnect_grace_seconds=1.0, min_lead_minutes=0)


@pytest.fixture
async def served(aiohttp_server: Any, settings: Settings, clock: ManualClock, unused_tcp_port: int) -> Any:
    settings = settings.replace(base_url=f"http://127.0.0.1:{unused_tcp_port}", port=unused_tcp_port)
    app = create_app(settings, clock=clock, setups=[signaling.setup])
    return await aiohttp_server(app, port=unused_tcp_port)


@pytest.fixture
async def call(served: Any, mail_catcher: MailCatcher, clock: ManualClock) -> AsyncIterator[Call]:
    base_url = f"http://127.0.0.1:{served.port}"
    citizen, clerk = Peer(), Peer()
    async with http(base_url) as session:
        booking_token = await booked_video(session, mail_catcher, start=START, email="erika@example.org")
        clock.advance(minutes=61)  # 08:01: the rooms of 08:00 and 08:15 are open
        join_token = await verified_citizen(session, mail_catcher, token=booking_token, email="erika@example.org")
        cookie = await staff_cookie(served.app, session, "s.berger")
        await citizen.connect(base_url, join_token=join_token)
        await clerk.connect(base_url, cookie=cookie)
        yield Call(base_url, served.app, session, booking_token, join_token, citizen, clerk, cookie)
        for peer in (citizen, clerk):
            await peer.close()


async def admitted(call: Call) -> tuple[int, int]:
    """The clerk joins and admits; returns (citizen participant id, clerk participant id)."""
    joined = await call.clerk.call("room.join", {"appointment_id": await appointment_id(call)})
    assert joined["ok"], joined
    assert (await call.clerk.call("admit", {"appointment_id": await appointment_id(call)}))["ok"]
    room = (await call.citizen.next("admitted"))["room"]
    return room["me"], joined["room"]["me"]


async def appointment_id(call: Call) -> int:
    return await appointment_of(call.app, "erika@example.org")


async def appointment_of(app: web.Application, email: str) -> int:
    async with app[SESSIONS]() as session:
        found = await session.scalar(select(Appointment.id).where(Appointment.citizen_email == email))
    assert found is not None
    return found


async def booking_status(call: Call) -> str:
    async with call.http.get(f"/api/bookings/{call.booking_token}") as response:
        return str((await response.json())["status"])


async def test_waiting_room_admission_relay_chat_identity_and_outcome(call: Call) -> None:
    waiting = await call.citizen.next("waiting")
    assert waiting["clerk_late"] is False
    assert "Personalausweis oder Reisepass" in waiting["checklist"]

    lobby = await call.clerk.call("lobby.watch")
    assert [w["citizen_name"] for w in lobby["waiting"]] == ["Erika Mustermann"]
    assert lobby["waiting"][0]["code_verified_at"]

    citizen_id, clerk_id = await admitted(call)
    room = (await call.citizen.next("admitted"))["room"]
    polite = {p["role"]: p["polite"] for p in room["participants"]}
    assert polite == {"citizen": True, "clerk": False}
    assert await booking_status(call) == "in_call"

    offer = {"to": clerk_id, "description": {"type": "offer", "sdp": "v=0 offer"}}
    assert (await call.citizen.call("signal", offer))["ok"]
    relayed = await call.clerk.next("signal")
    assert relayed == {"to": clerk_id, "description": {"type": "offer", "sdp": "v=0 offer"}, "from": citizen_id}
    candidate = {"candidate": "candidate:1 1 udp 1 127.0.0.1 9 typ host", "sdpMid": "0", "sdpMLineIndex": 0}
    assert (await call.clerk.call("signal", {"to": citizen_id, "candidate": candidate}))["ok"]
    assert (await call.citizen.next("signal"))["candidate"]["candidate"] == candidate["candidate"]
    assert (await call.clerk.call("signal", {"to": citizen_id, "restart": True}))["ok"]
    assert (await call.citizen.next("signal", count=2))["restart"] is True

    assert (await call.citizen.call("chat.send", {"text": "Guten Morgen!"}))["ok"]
    message = await call.clerk.next("chat")
    assert (message["text"], message["role"]) == ("Guten Morgen!", "citizen")

    assert (await call.clerk.call("identity.confirm", {"document": "personalausweis"}))["ok"]
    assert (await call.clerk.call("call.end", {"outcome": "completed"}))["ok"]
    assert (await call.citizen.next("call.ended"))["outcome"] == "completed"
    assert await booking_status(call) == "completed"


async def test_a_dropped_citizen_resumes_without_a_new_admission(call: Call) -> None:
    citizen_id, _ = await admitted(call)
    await call.citizen.close()
    assert (await call.clerk.next("peer.reconnecting"))["participant_id"] == citizen_id
    again = Peer()
    await again.connect(call.base_url, join_token=call.join_token)
    resumed = await again.next("admitted")
    assert resumed["resumed"] is True
    assert resumed["room"]["me"] == citizen_id
    assert "waiting" not in again.events
    await again.close()


async def test_after_the_grace_period_the_peer_has_left(call: Call) -> None:
    citizen_id, _ = await admitted(call)
    await call.citizen.close()
    assert (await call.clerk.next("peer.left", seconds=5))["participant_id"] == citizen_id
    await refused(call.base_url, join_token=call.join_token)


async def test_refused_connections(call: Call, served: Any) -> None:
    await refused(call.base_url)
    await refused(call.base_url, join_token="forged.token")
    await refused(call.base_url, join_token=call.join_token + "x")
    await refused(call.base_url, cookie=await staff_cookie(served.app, call.http, "j.weber"))  # support staff
    await refused(call.base_url, join_token=call.join_token, headers={"Origin": "https://evil.example"})


async def test_what_a_citizen_may_not_do(call: Call) -> None:
    await call.citizen.next("waiting")
    appointment = await appointment_id(call)
    answer = await call.citizen.call("admit", {"appointment_id": appointment})
    assert answer["error"]["code"] == "forbidden_role"
    assert (await call.citizen.next("error"))["event"] == "admit"
    before_admission = await call.citizen.call("signal", {"to": 1, "restart": True})
    assert before_admission["error"]["code"] == "not_admitted"
    assert (await call.citizen.call("chat.send", {"text": "hallo"}))["error"]["code"] == "not_admitted"
    assert (await call.citizen.call("call.end", {"outcome": "completed"}))["error"]["code"] == "forbidden_role"


@pytest.mark.parametrize(
    ("event", "payload", "code"),
    [
        ("signal", {"to": 1}, "invalid_payload"),
        ("signal", {"to": 1, "restart": True, "candidate": {"candidate": "x"}}, "invalid_payload"),
        ("signal", {"to": "clerk", "restart": True}, "invalid_payload"),
        ("signal", {"to": 1, "description": {"type": "offer", "sdp": "x" * 70_000}}, "too_large"),
        ("signal", ["not", "an", "object"], "invalid_payload"),
        ("chat.send", {"text": ""}, "invalid_payload"),
        ("chat.send", {"text": "x" * 1001}, "invalid_payload"),
        ("identity.confirm", {"document": "passport-number-123"}, "invalid_payload"),
        ("call.end", {"outcome": "whatever"}, "invalid_payload"),
        ("no.such.event", {}, "unknown_event"),
    ],
)
async def test_malformed_events_get_errors_and_the_call_goes_on(
    call: Call, event: str, payload: Any, code: str
) -> None:
    citizen_id, clerk_id = await admitted(call)
    answer = await call.clerk.call(event, payload)
    assert answer["ok"] is False
    assert answer["error"]["code"] == code
    assert answer["error"]["message"]
    assert "signal" not in call.citizen.events, "nothing was relayed"
    assert (await call.clerk.call("signal", {"to": citizen_id, "restart": True}))["ok"]
    assert (await call.citizen.next("signal"))["from"] == clerk_id


async def test_signals_never_cross_rooms(call: Call, served: Any, mail_catcher: MailCatcher) -> None:
    citizen_id, _ = await admitted(call)
    other_session = http(call.base_url)
    other_token = await booked_video(other_session, mail_catcher, start=OTHER, email="max@example.org")
    other_join = await verified_citizen(other_session, mail_catcher, token=other_token, email="max@example.org")
    intruder = Peer()
    await intruder.connect(call.base_url, join_token=other_join)
    await intruder.next("waiting")
    answer = await intruder.call("signal", {"to": citizen_id, "description": {"type": "offer", "sdp": "x"}})
    assert answer["error"]["code"] == "not_admitted"
    # A clerk in another room cannot reach this room's citizen either.
    other_clerk = Peer()
    await other_clerk.connect(call.base_url, cookie=await staff_cookie(served.app, other_session, "a.schmidt"))
    other_room = await other_clerk.call(
        "room.join", {"appointment_id": await appointment_of(served.app, "max@example.org")}
    )
    assert other_room["ok"], other_room
    crossing = await other_clerk.call("signal", {"to": citizen_id, "restart": True})
    assert crossing["error"]["code"] == "wrong_room"
    assert "signal" not in call.citizen.events
    for peer in (intruder, other_clerk):
        await peer.close()
    await other_session.close()


def test_turn_credentials_follow_coturns_shared_secret_scheme() -> None:
    import base64
    import hashlib
    import hmac
    from datetime import UTC, datetime

    from signaling.turn import ice_servers

    now = datetime(2026, 11, 30, 7, tzinfo=UTC)
    settings = Settings(
        stun_urls="stun:stun.example.org:3478",
        turn_urls="turn:turn.example.org:3478",
        turn_secret="s3cret",
        turn_ttl_seconds=600,
    )
    waiting = ice_servers(settings, participant_id=None, now=now)
    assert waiting == [{"urls": ["stun:stun.example.org:3478"]}], "no TURN before admission"
    admitted_servers = ice_servers(settings, participant_id=7, now=now)
    turn = admitted_servers[1]
    assert turn["username"] == f"{int(now.timestamp()) + 600}:p7"
    expected = base64.b64encode(hmac.new(b"s3cret", turn["username"].encode(), hashlib.sha1).digest()).decode()
    assert turn["credential"] == expected


async def test_admitted_members_can_refresh_ice_servers(call: Call) -> None:
    assert (await call.citizen.call("ice.refresh"))["error"]["code"] == "not_admitted"
    await admitted(call)
    refreshed = await call.citizen.call("ice.refresh")
    assert refreshed["ok"] is True
    assert refreshed["ice_servers"] == []  # no STUN/TURN configured in tests: host candidates only


async def test_an_interpreter_joins_by_a_one_time_link_as_third_participant(call: Call) -> None:
    citizen_id, clerk_id = await admitted(call)
    assert (await call.citizen.call("interpreter.invite"))["error"]["code"] == "forbidden_role"
    stale = (await call.clerk.call("interpreter.invite"))["url"]
    invited = await call.clerk.call("interpreter.invite")
    assert invited["ok"] and invited["url"].startswith(f"{call.base_url}/dolmetschen/")
    secret, stale_secret = invited["url"].rsplit("/", 1)[1], stale.rsplit("/", 1)[1]
    async with call.http.get(f"/api/interpreter/{stale_secret}") as response:
        assert (await response.json())["status"] == "expired", "a newer invitation voids the older one"
    async with call.http.get(f"/api/interpreter/{secret}") as response:
        page = await response.json()
    assert (page["status"], page["concern"]) == ("open", "An- und Ummeldung innerhalb Heidelbergs")
    assert "citizen" not in str(page).lower() and "Erika" not in str(page)

    body = {"name": "Amira Haddad", "language": "Arabisch"}
    joined = await post_json(call.http, f"/api/interpreter/{secret}/join", body)
    assert joined.status == 200, await joined.text()
    again = await post_json(call.http, f"/api/interpreter/{secret}/join", body)
    assert (again.status, (await again.json())["error"]["code"]) == (409, "invitation_used")

    interpreter = Peer()
    await interpreter.connect(call.base_url, join_token=(await joined.json())["join_token"])
    room = (await interpreter.next("admitted"))["room"]
    assert "waiting" not in interpreter.events, "invited interpreters do not wait"
    me = next(p for p in room["participants"] if p["id"] == room["me"])
    assert (me["role"], me["name"], me["language"], me["polite"]) == ("interpreter", "Amira Haddad", "Arabisch", True)
    assert {p["role"] for p in room["participants"]} == {"citizen", "clerk", "interpreter"}

    for target, peer in ((citizen_id, call.citizen), (clerk_id, call.clerk)):
        offer = {"to": target, "description": {"type": "offer", "sdp": "v=0 interpreter"}}
        assert (await interpreter.call("signal", offer))["ok"]
        assert (await peer.next("signal"))["from"] == room["me"]
    await interpreter.close()


async def test_invitation_links_are_checked(call: Call) -> None:
    async with call.http.get("/api/interpreter/AAAAAAAAAAAAAAAAAAAAAAAA") as response:
        assert (response.status, (await response.json())["error"]["code"]) == (404, "invitation_not_found")
    await admitted(call)
    secret = (await call.clerk.call("interpreter.invite"))["url"].rsplit("/", 1)[1]
    bad = await post_json(call.http, f"/api/interpreter/{secret}/join", {"name": "", "language": "x" * 61})
    assert set((await bad.json())["error"]["fields"]) == {"name", "language"}


async def test_waiting_citizens_hear_when_the_clerk_runs_late(call: Call, clock: ManualClock) -> None:
    first = await call.citizen.next("waiting")
    assert first["clerk_late"] is False  # 08:01, the appointment started a minute ago
    server = call.app[signaling.SIGNALING]
    assert await server.tell_late() == 0
    clock.advance(minutes=5)  # 08:06: five minutes past the start and nobody came
    assert await server.tell_late() == 1
    assert (await call.citizen.next("waiting", count=2))["clerk_late"] is True
    assert await server.tell_late() == 0, "told once"


async def test_the_dev_demo_call_can_be_joined_at_once(served: Any, mail_catcher: MailCatcher) -> None:
    """make run's /dev page: a video appointment starting in ten minutes, outside office hours too."""
    base_url = f"http://127.0.0.1:{served.port}"
    async with http(base_url) as session:
        created = await post_json(session, "/api/dev/demo-call")
        assert created.status == 201, await created.text()
        demo = await created.json()
        token = demo["video_url"].rsplit("/", 1)[1]
        async with session.get(f"/api/video/{token}") as response:
            page = await response.json()
        assert (page["open"], page["status"]) == (True, "confirmed")
        join_token = await verified_citizen(
            session, mail_catcher, token=token, email="demo.buergerin@example.org", mails_before=1
        )
        citizen = Peer()
        await citizen.connect(base_url, join_token=join_token)
        assert (await citizen.next("waiting"))["clerk_late"] is False
        await citizen.close()
