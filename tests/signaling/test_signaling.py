"""Signaling over real Socket.IO connections: waiting room, admission, relay, chat, identity check,
outcome, resume within the grace period, and everything a client may not do."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import select

import signaling
from tests.booking_flow import identity_code_from_mail
from tests.calls import Peer, booked_video, http, refused, staff_cookie, verified_citizen
from tests.helpers import post_json
from tests.smtp import MailCatcher
from vibue.app import create_app
from vibue.core.clock import ManualClock
from vibue.core.ratelimit import RateLimiter
from vibue.core.settings import Settings
from vibue.models import Appointment, AuditEntry, CallParticipant, Staff
from vibue.staff import sessions as staff_sessions
from vibue.web.appkeys import CLOCK, SESSIONS, SETTINGS

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
        call = Call(base_url, served.app, session, booking_token, join_token, citizen, clerk, cookie)
        yield call
        for peer in {citizen, clerk, call.citizen}:  # a test may have connected the citizen anew
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


async def appointment_row(call: Call) -> Appointment:
    async with call.app[SESSIONS]() as session:
        found = await session.get(Appointment, await appointment_id(call))
    assert found is not None
    return found


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


async def test_the_identity_check_shows_in_the_room_with_the_document_type_only(call: Call) -> None:
    await admitted(call)
    assert (await call.clerk.call("identity.confirm", {"document": "reisepass"}))["ok"]
    await call.citizen.call("ice.refresh")  # answered after the room.updated sent before it
    identity = call.citizen.events["room.updated"][-1]["identity"]
    assert identity == {"checked_at": call.app[CLOCK].now().isoformat(), "document": "reisepass"}
    row = await appointment_row(call)
    assert (row.identity_document, row.identity_checked_at) == ("reisepass", call.app[CLOCK].now())


@pytest.mark.parametrize(
    ("outcome", "status"), [("completed", "completed"), ("no_show", "no_show"), ("on_site_needed", "completed")]
)
async def test_the_call_ends_with_its_outcome(call: Call, outcome: str, status: str) -> None:
    await admitted(call)
    assert (await call.clerk.call("call.end", {"outcome": outcome}))["ok"]
    for peer in (call.citizen, call.clerk):
        assert await peer.next("call.ended") == {"outcome": outcome}
    row = await appointment_row(call)
    assert (row.status, row.outcome) == (status, outcome)
    assert await refusal_codes(call, join_token=call.join_token) == ["call_over"]


async def test_one_call_leaves_an_audit_trail_without_personal_data(call: Call, mail_catcher: MailCatcher) -> None:
    assert (await post_json(call.http, f"/api/video/{call.booking_token}/code")).status == 202
    code = await identity_code_from_mail(mail_catcher, "erika@example.org", count=4)
    wrong = "000000" if code != "000000" else "111111"
    assert (await post_json(call.http, f"/api/video/{call.booking_token}/verify", {"code": wrong})).status == 422
    assert (await post_json(call.http, f"/api/video/{call.booking_token}/verify", {"code": code})).status == 200
    await admitted(call)
    assert (await call.clerk.call("identity.confirm", {"document": "personalausweis"}))["ok"]
    assert (await call.clerk.call("call.end", {"outcome": "on_site_needed"}))["ok"]

    async with call.app[SESSIONS]() as session:
        entries = list(await session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
    subject = f"appointment:{await appointment_id(call)}"
    ours = [e for e in entries if e.subject == subject and e.action.startswith(("identity_code.", "call."))]
    trail = [(e.action, e.details) for e in ours]
    assert trail == [
        ("identity_code.sent", {}),
        ("identity_code.verified", {}),
        ("identity_code.sent", {}),
        ("identity_code.failed", {"left": 4}),
        ("identity_code.verified", {}),
        ("call.joined", {}),
        ("call.admitted", {}),
        ("call.identity_checked", {"document": "personalausweis"}),
        ("call.ended", {"outcome": "on_site_needed"}),
    ]
    for entry in entries:
        for secret in ("erika@example.org", "Erika", "Mustermann", code):
            assert secret not in f"{entry.actor} {entry.details}", entry.action


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


async def test_after_the_grace_period_the_peer_has_left_and_comes_back_to_the_waiting_room(
    call: Call, clock: ManualClock
) -> None:
    citizen_id, _ = await admitted(call)
    await call.citizen.close()
    await call.clerk.next("peer.reconnecting")
    clock.advance(seconds=2)  # past the grace period (1 s here): the next sweep of any process ends it
    await call.app[signaling.SIGNALING].sweep()
    assert (await call.clerk.next("peer.left"))["participant_id"] == citizen_id
    # Too late to resume: back in the waiting room, and the clerk admits anew.
    again = await back_in_waiting_room(call)
    assert (await call.clerk.call("admit", {"appointment_id": await appointment_id(call)}))["ok"]
    assert (await again.next("admitted"))["room"]["me"] == citizen_id


async def back_in_waiting_room(call: Call) -> Peer:
    again = Peer()
    await again.connect(call.base_url, join_token=call.join_token)
    await again.next("waiting")
    assert "admitted" not in again.events
    waiting = (await call.clerk.call("lobby.watch"))["waiting"]
    assert [w["appointment_id"] for w in waiting] == [await appointment_id(call)]
    call.citizen = again  # closed by the fixture
    return again


async def test_a_citizen_who_hung_up_may_wait_again(call: Call) -> None:
    citizen_id, _ = await admitted(call)
    assert (await call.citizen.call("hangup"))["ok"]
    assert (await call.clerk.next("peer.left"))["participant_id"] == citizen_id
    await call.citizen.close()
    again = await back_in_waiting_room(call)
    # Out of the call, out of its broadcasts: the clerk's chat does not reach the waiting room.
    assert (await call.clerk.call("chat.send", {"text": "Nur für den Raum"}))["ok"]
    assert (await again.call("chat.send", {"text": "hallo"}))["error"]["code"] == "not_admitted"
    assert "chat" not in again.events
    assert (await call.clerk.call("admit", {"appointment_id": await appointment_id(call)}))["ok"]
    await again.next("admitted")
    assert (await call.clerk.call("chat.send", {"text": "Willkommen zurück"}))["ok"]
    assert (await again.next("chat"))["text"] == "Willkommen zurück"


async def test_a_citizen_sent_away_as_too_early_may_come_back(call: Call) -> None:
    await call.citizen.next("waiting")
    deny = {"appointment_id": await appointment_id(call), "reason": "too_early"}
    assert (await call.clerk.call("deny", deny))["ok"]
    assert await call.citizen.next("denied") == {"reason": "too_early"}
    await call.citizen.next("disconnect")  # the server closes the connection
    await call.citizen.close()
    await back_in_waiting_room(call)


async def refusal_codes(call: Call, **connect: Any) -> list[str]:
    """The codes as the browser reads them: connect_error's err.data.code (web/js/protocol.js)."""
    return [error["data"]["code"] for error in await refused(call.base_url, **connect)]


async def test_refused_connections(call: Call, served: Any) -> None:
    await refused(call.base_url)
    await refused(call.base_url, join_token="forged.token")
    await refused(call.base_url, join_token=call.join_token + "x")
    await refused(call.base_url, cookie=await staff_cookie(served.app, call.http, "j.weber"))  # support staff
    await refused(call.base_url, join_token=call.join_token, headers={"Origin": "https://evil.example"})


async def test_a_refused_connection_says_why_in_data_code(call: Call, served: Any) -> None:
    assert await refusal_codes(call, join_token="forged.token") == ["unauthorized"]
    assert await refusal_codes(call, join_token="forged.tökén") == ["unauthorized"]  # not a TypeError
    assert await refusal_codes(call, cookie=await staff_cookie(served.app, call.http, "j.weber")) == ["forbidden"]
    [error] = await refused(call.base_url)
    assert error["data"] == {"code": "unauthorized", "message": error["message"]}
    assert error["message"] == "Die Verbindung wurde abgelehnt: Bitte bestätigen Sie sich erneut mit einem Code."


async def test_over_https_staff_connect_only_with_the_host_prefixed_cookie(
    aiohttp_server: Any, settings: Settings, clock: ManualClock, unused_tcp_port: int
) -> None:
    """The session cookie is __Host-vibue_staff there; a planted `vibue_staff` opens nothing."""
    base_url = f"http://127.0.0.1:{unused_tcp_port}"
    secure = settings.replace(secure_cookies=True, base_url=base_url, port=unused_tcp_port)
    server = await aiohttp_server(create_app(secure, clock=clock, setups=[signaling.setup]), port=unused_tcp_port)
    async with server.app[SESSIONS].begin() as db:
        clerk = await db.scalar(select(Staff).where(Staff.username == "s.berger"))
        assert clerk is not None
        token = await staff_sessions.open_session(session=db, staff=clerk, now=clock.now(), hours=1)
    [error] = await refused(base_url, cookie=token)
    assert error["data"]["code"] == "unauthorized"
    peer = Peer()
    try:
        await peer.connect(base_url, headers={"Cookie": f"__Host-vibue_staff={token}"})
        assert peer.client.connected
    finally:
        await peer.close()


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


async def test_a_denied_citizen_hears_why_and_cannot_come_back(call: Call) -> None:
    await call.citizen.next("waiting")
    appointment = await appointment_id(call)
    deny = {"appointment_id": appointment, "reason": "wrong_person"}
    assert (await call.citizen.call("deny", deny))["error"]["code"] == "forbidden_role"
    assert (await call.clerk.call("deny", deny))["ok"]
    assert await call.citizen.next("denied") == {"reason": "wrong_person"}
    await call.citizen.next("disconnect")  # the server closes the connection
    assert await refusal_codes(call, join_token=call.join_token) == ["call_over"]
    assert (await call.clerk.call("admit", {"appointment_id": appointment}))["error"]["code"] == "not_waiting"
    async with call.app[SESSIONS]() as session:
        denied = list(await session.scalars(select(AuditEntry).where(AuditEntry.action == "call.denied")))
    assert [(e.subject, e.details) for e in denied] == [(f"appointment:{appointment}", {"reason": "wrong_person"})]


async def test_a_waiting_citizen_receives_no_signals(call: Call) -> None:
    await call.citizen.next("waiting")
    appointment = await appointment_id(call)
    room = (await call.clerk.call("room.join", {"appointment_id": appointment}))["room"]
    citizen_id = next(p["id"] for p in room["participants"] if p["role"] == "citizen")
    early = {"to": citizen_id, "description": {"type": "offer", "sdp": "v=0 too early"}}
    assert (await call.clerk.call("signal", early))["error"]["code"] == "wrong_room"
    assert (await call.clerk.call("admit", {"appointment_id": appointment}))["ok"]
    assert (await call.clerk.call("signal", {"to": citizen_id, "restart": True}))["ok"]
    await call.citizen.next("signal")
    assert call.citizen.events["signal"] == [{"to": citizen_id, "restart": True, "from": room["me"]}]


async def test_chat_beyond_twenty_a_minute_is_refused_and_not_relayed(call: Call) -> None:
    await admitted(call)
    for n in range(20):
        assert (await call.citizen.call("chat.send", {"text": f"Nachricht {n}"}))["ok"]
    answer = await call.citizen.call("chat.send", {"text": "eine zu viel"})
    assert answer["error"]["code"] == "rate_limited"
    assert (await call.citizen.next("error"))["event"] == "chat.send"
    assert (await call.clerk.call("chat.send", {"text": "Bitte langsamer"}))["ok"], "the limit is per connection"
    await call.clerk.next("chat", count=21)
    assert [m["text"] for m in call.clerk.events["chat"]] == [f"Nachricht {n}" for n in range(20)] + ["Bitte langsamer"]


async def test_more_than_a_hundred_events_in_two_seconds_are_refused_and_not_relayed(call: Call) -> None:
    citizen_id, clerk_id = await admitted(call)
    # Time stands still for the limiter: the window never clears, however slow the machine.
    call.app[signaling.SIGNALING].limiter = RateLimiter(call.app[SETTINGS].secret_key, monotonic=lambda: 0.0)
    for _ in range(100):
        assert (await call.citizen.call("signal", {"to": clerk_id}))["error"]["code"] == "invalid_payload"
    flooded = await call.citizen.call("signal", {"to": clerk_id, "restart": True})
    assert flooded["error"]["code"] == "rate_limited"
    assert (await call.clerk.call("signal", {"to": citizen_id, "restart": True}))["ok"], "the limit is per connection"
    assert (await call.citizen.next("signal"))["from"] == clerk_id
    await call.clerk.call("ice.refresh")  # answered after anything relayed to the clerk before it
    assert "signal" not in call.clerk.events


MALFORMED: list[tuple[str, Any, str]] = [
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
]


@pytest.mark.parametrize(("event", "payload", "code"), MALFORMED)
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


async def test_malformed_events_in_one_room_leave_other_rooms_serving(
    call: Call, served: Any, mail_catcher: MailCatcher
) -> None:
    await admitted(call)
    other_session = http(call.base_url)
    other_token = await booked_video(other_session, mail_catcher, start=OTHER, email="max@example.org")
    other_join = await verified_citizen(other_session, mail_catcher, token=other_token, email="max@example.org")
    other_citizen, other_clerk = Peer(), Peer()
    await other_citizen.connect(call.base_url, join_token=other_join)
    await other_clerk.connect(call.base_url, cookie=await staff_cookie(served.app, other_session, "a.schmidt"))
    other_appointment = await appointment_of(served.app, "max@example.org")
    clerk_id = (await other_clerk.call("room.join", {"appointment_id": other_appointment}))["room"]["me"]
    assert (await other_clerk.call("admit", {"appointment_id": other_appointment}))["ok"]
    citizen_id = (await other_citizen.next("admitted"))["room"]["me"]

    for event, payload, code in MALFORMED:
        for peer in (call.clerk, call.citizen):
            assert (await peer.call(event, payload))["error"]["code"] == code
    offer = {"to": clerk_id, "description": {"type": "offer", "sdp": "v=0 other room"}}
    assert (await other_citizen.call("signal", offer))["ok"]
    assert (await other_clerk.next("signal"))["from"] == citizen_id
    for peer in (other_citizen, other_clerk):
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


async def test_a_second_tab_of_a_waiting_citizen_takes_over_and_gets_no_turn_credentials(call: Call) -> None:
    """The second tab's connection replaces the first, which the server closes."""
    await call.citizen.next("waiting")
    second = Peer()
    await second.connect(call.base_url, join_token=call.join_token)
    await second.next("waiting")
    await call.citizen.next("disconnect")
    assert (await second.call("ice.refresh"))["error"]["code"] == "not_admitted"
    async with call.app[SESSIONS]() as db:
        dropped = await db.scalar(select(CallParticipant.disconnected_at).where(CallParticipant.role == "citizen"))
    assert dropped is None, "the replaced connection's drop started no grace period"
    call.citizen = second  # closed by the fixture


async def test_events_named_like_reserved_ones_are_not_taken_for_them(call: Call) -> None:
    """python-socketio hands a client's own "disconnect"/"connect" events to those handlers."""
    citizen_id, _ = await admitted(call)
    await call.citizen.client.eio.send('2["disconnect"]')
    await call.citizen.client.eio.send('2["connect",{"aiohttp.request":"x"},{}]')
    await call.citizen.call("chat.send", {"text": "noch da"})  # answered after the two above
    assert (await call.clerk.next("chat"))["text"] == "noch da"
    assert "peer.reconnecting" not in call.clerk.events, "a fake disconnect started a grace period"
    room = await call.clerk.call("room.join", {"appointment_id": await appointment_id(call)})
    assert {p["id"]: p["state"] for p in room["room"]["participants"]}[citizen_id] == "admitted"


async def test_binary_attachments_are_refused_and_nothing_is_held(call: Call) -> None:
    """A packet announcing attachments made python-socketio keep every binary frame that followed."""
    await admitted(call)
    await call.citizen.client.eio.send('5999-["chat.send",{"_placeholder":true,"num":0}]')
    for _ in range(5):
        await call.citizen.client.eio.send(b"x" * 200_000)
    await call.citizen.call("chat.send", {"text": "weiter"})
    assert (await call.clerk.next("chat"))["text"] == "weiter"
    assert [m["text"] for m in call.clerk.events["chat"]] == ["weiter"]
    assert call.app[signaling.SIGNALING].sio._binary_packet == {}


async def test_more_than_one_argument_and_unknown_floods_are_refused(call: Call) -> None:
    await admitted(call)
    answer = await call.citizen.client.call("chat.send", ({"text": "a"}, "b"), timeout=10)
    assert answer["error"]["code"] == "invalid_payload"
    call.app[signaling.SIGNALING].limiter = RateLimiter(call.app[SETTINGS].secret_key, monotonic=lambda: 0.0)
    codes = {(await call.citizen.call("no.such.event"))["error"]["code"] for _ in range(101)}
    assert codes == {"unknown_event", "rate_limited"}


async def test_a_signed_out_clerk_socket_loses_its_powers(call: Call) -> None:
    await call.citizen.next("waiting")
    assert (await call.clerk.call("lobby.watch"))["ok"]
    assert (await post_json(call.http, "/api/staff/logout")).status == 204
    aid = await appointment_id(call)
    events: tuple[tuple[str, dict[str, int]], ...] = (
        ("lobby.watch", {}),
        ("room.join", {"appointment_id": aid}),
        ("admit", {"appointment_id": aid}),
    )
    for event, payload in events:
        assert (await call.clerk.call(event, payload))["error"]["code"] == "not_signed_in", event
    assert "admitted" not in call.citizen.events


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


async def test_simultaneous_joins_with_one_link_let_one_interpreter_in(call: Call) -> None:
    await admitted(call)
    secret = (await call.clerk.call("interpreter.invite"))["url"].rsplit("/", 1)[1]
    body = {"name": "Amira Haddad", "language": "Arabisch"}
    answers = await asyncio.gather(*(post_json(call.http, f"/api/interpreter/{secret}/join", body) for _ in range(6)))
    codes = sorted([a.status if a.status == 200 else (await a.json())["error"]["code"] for a in answers], key=str)
    assert codes == [200] + ["invitation_used"] * 5
    async with call.app[SESSIONS]() as db:
        interpreters = await db.scalars(select(CallParticipant).where(CallParticipant.role == "interpreter"))
        assert len(list(interpreters)) == 1


async def test_interpreter_names_without_control_characters(call: Call) -> None:
    await admitted(call)
    secret = (await call.clerk.call("interpreter.invite"))["url"].rsplit("/", 1)[1]
    for body in ({"name": "Eve\u0000", "language": "Arabisch"}, {"name": "\u202eevE", "language": "Arabisch"}):
        answer = await post_json(call.http, f"/api/interpreter/{secret}/join", body)
        error = (await answer.json())["error"]
        assert (answer.status, error["code"], list(error["fields"])) == (422, "validation_failed", ["name"])


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


async def test_no_late_notice_for_a_citizen_admitted_on_another_process(
    call: Call, clock: ManualClock, aiohttp_server: Any, settings: Settings, unused_tcp_port_factory: Any
) -> None:
    await call.citizen.next("waiting")
    # A second server process on the same database (no Redis here: only the database is shared).
    port = unused_tcp_port_factory()
    other_settings = settings.replace(base_url=f"http://127.0.0.1:{port}", port=port, seed_demo=False)
    await aiohttp_server(create_app(other_settings, clock=clock, setups=[signaling.setup]), port=port)
    clerk = Peer()
    try:
        await clerk.connect(f"http://127.0.0.1:{port}", cookie=call.clerk_cookie)
        assert (await clerk.call("room.join", {"appointment_id": await appointment_id(call)}))["ok"]
        assert (await clerk.call("admit", {"appointment_id": await appointment_id(call)}))["ok"]
    finally:
        await clerk.close()
    clock.advance(minutes=10)  # long past the start: late, if they were still waiting
    server = call.app[signaling.SIGNALING]
    assert await server.tell_late() == 0
    assert server.waiting == {}, "the admitted citizen is forgotten by the process they are connected to"
    assert len(call.citizen.events["waiting"]) == 1


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
