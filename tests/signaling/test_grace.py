"""Room state kept as database facts: the grace deadline any process's sweep enforces, signals
to a peer who is away, a staff socket moving rooms, a second connection taking over, abandoned
calls and the room's window closing. (Process death itself: test_process_death.py.)"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from typing import Any

from sqlalchemy import select

import signaling
from signaling import liveness
from tests.calls import Peer, booked_video, http
from tests.signaling import test_signaling as base
from tests.signaling.test_signaling import Call, admitted, appointment_id, appointment_of, appointment_row
from tests.smtp import MailCatcher
from vibue.core.clock import ManualClock
from vibue.models import AuditEntry, CallParticipant, SignalingProcess
from vibue.web.appkeys import SESSIONS

OTHER = "2026-11-30T08:15:00+01:00"
# The call fixtures of test_signaling.py: a citizen waiting and a clerk, on one in-process server.
settings, served, call = base.settings, base.served, base.call


async def participant(call: Call, participant_id: int) -> CallParticipant:
    async with call.app[SESSIONS]() as session:
        row = await session.get(CallParticipant, participant_id)
    assert row is not None
    return row


async def away(call: Call) -> set[int]:
    """Participants whose grace period runs."""
    async with call.app[SESSIONS]() as session:
        return set(await session.scalars(select(CallParticipant.id).where(CallParticipant.grace_until.is_not(None))))


async def test_the_grace_deadline_is_a_database_fact_and_signals_to_the_away_peer_are_refused(
    call: Call, clock: ManualClock
) -> None:
    citizen_id, _ = await admitted(call)
    await call.citizen.close()
    assert (await call.clerk.next("peer.reconnecting"))["participant_id"] == citizen_id
    row = await participant(call, citizen_id)
    assert row.grace_until == clock.now() + timedelta(seconds=1)
    answer = await call.clerk.call("signal", {"to": citizen_id, "restart": True})
    assert answer["ok"] is False
    assert answer["error"] == {
        "code": "peer_not_connected",
        "message": "Die Verbindung der Gegenseite ist unterbrochen – sie wird wiederhergestellt.",
    }
    server = call.app[signaling.SIGNALING]
    await server.sweep()  # before the deadline: nothing ends
    assert (await participant(call, citizen_id)).state == "admitted"
    clock.advance(seconds=2)
    await server.sweep()
    assert (await call.clerk.next("peer.left"))["participant_id"] == citizen_id
    assert (await participant(call, citizen_id)).state == "left"


async def test_a_staff_socket_moving_to_another_room_leaves_the_first(
    call: Call, served: Any, mail_catcher: MailCatcher
) -> None:
    citizen_id, clerk_id = await admitted(call)
    first = await appointment_id(call)
    async with http(call.base_url) as other_session:
        await booked_video(other_session, mail_catcher, start=OTHER, email="max@example.org")
    moved = await call.clerk.call("room.join", {"appointment_id": await appointment_of(served.app, "max@example.org")})
    assert moved["ok"], moved
    assert (await call.citizen.next("peer.left"))["participant_id"] == clerk_id
    assert (await participant(call, clerk_id)).state == "left"
    updated = call.citizen.events["room.updated"][-1]
    assert (updated["appointment_id"], [p["id"] for p in updated["participants"]]) == (first, [citizen_id])
    # The socket is out of the first room: its broadcasts and signals no longer reach it.
    assert (await call.citizen.call("chat.send", {"text": "Hallo?"}))["ok"]
    assert (await call.citizen.call("signal", {"to": clerk_id, "restart": True}))["error"]["code"] == "wrong_room"
    await call.clerk.call("lobby.watch")  # answered after anything sent to the clerk before it
    assert "chat" not in call.clerk.events


async def test_a_second_connection_with_the_same_join_token_takes_over_and_closes_the_first(call: Call) -> None:
    citizen_id, clerk_id = await admitted(call)
    second = Peer()
    try:
        await second.connect(call.base_url, join_token=call.join_token)
        assert (await second.next("admitted"))["resumed"] is True
        await call.citizen.next("disconnect")
        assert not call.citizen.client.connected
        assert (await call.clerk.call("signal", {"to": citizen_id, "restart": True}))["ok"]
        assert (await second.next("signal"))["from"] == clerk_id
        assert "signal" not in call.citizen.events
        await call.clerk.call("lobby.watch")  # answered after anything sent to the clerk before it
        assert "peer.reconnecting" not in call.clerk.events, "the replaced connection started no grace period"
    finally:
        await second.close()


async def test_a_call_everyone_left_ends_as_abandoned(call: Call, clock: ManualClock) -> None:
    citizen_id, clerk_id = await admitted(call)
    await call.citizen.close()
    await call.clerk.next("peer.reconnecting")
    await call.clerk.close()
    server = call.app[signaling.SIGNALING]
    async with asyncio.timeout(10):  # until the server has taken both drops
        while await away(call) != {citizen_id, clerk_id}:  # noqa: ASYNC110 (polling the database)
            await asyncio.sleep(0.05)
    await server.sweep()
    assert (await appointment_row(call)).status == "in_call", "within the grace period the call goes on"
    clock.advance(seconds=2)
    await server.sweep()
    row = await appointment_row(call)
    assert (row.status, row.call_ended_at, row.outcome) == ("abandoned", clock.now(), None)
    async with call.app[SESSIONS]() as session:
        entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "call.abandoned"))
    assert entry is not None
    assert (entry.actor, entry.subject, entry.details) == (
        "system",
        f"appointment:{row.id}",
        {"reason": "everyone_left"},
    )


async def test_when_the_window_closes_waiting_citizens_leave_and_the_check_in_is_abandoned(
    call: Call, clock: ManualClock
) -> None:
    await call.citizen.next("waiting")
    row = await appointment_row(call)
    assert row.status == "checked_in"
    server = call.app[signaling.SIGNALING]
    clock.set(row.end_at + timedelta(minutes=29))
    await server.sweep()
    assert (await appointment_row(call)).status == "checked_in", "the room is still open"
    clock.set(row.end_at + timedelta(minutes=31))
    await server.sweep()
    await call.citizen.next("disconnect")  # the server closes the waiting connection
    assert (await appointment_row(call)).status == "abandoned"
    async with call.app[SESSIONS]() as session:
        citizen = await session.scalar(select(CallParticipant).where(CallParticipant.role == "citizen"))
        entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "call.abandoned"))
    assert citizen is not None and citizen.state == "left"
    assert entry is not None and entry.details == {"reason": "window_closed"}
    assert (await call.clerk.call("lobby.watch"))["waiting"] == []


async def test_a_process_only_taken_for_dead_takes_its_live_connections_back(call: Call) -> None:
    citizen_id, clerk_id = await admitted(call)
    server = call.app[signaling.SIGNALING]
    # The test beats and sweeps by hand: a background heartbeat between the sweep and the refused
    # signal below would take the connections back early (it did, now and then, under load).
    (beats,) = [task for task in asyncio.all_tasks() if task.get_name() == "vibue-liveness"]
    beats.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await beats
    async with call.app[SESSIONS].begin() as session:  # as if this process had not beaten for an hour
        process = await session.get(SignalingProcess, server.process_id)
        assert process is not None
        process.heartbeat_at -= timedelta(hours=1)
    await server.sweep()
    await call.clerk.next("peer.reconnecting", count=2)  # the clerk's own too: the room is told
    assert {e["participant_id"] for e in call.clerk.events["peer.reconnecting"]} == {citizen_id, clerk_id}
    assert (await call.clerk.call("signal", {"to": citizen_id, "restart": True}))["error"][
        "code"
    ] == "peer_not_connected"
    await call.clerk.next("room.updated", count=3)  # after the sweep: both reconnecting
    await liveness.heartbeat(server)  # it was only slow: both sockets are still here
    latest = await call.clerk.next("room.updated", count=5)  # one per connection taken back
    states = {p["id"]: p["state"] for p in latest["participants"]}
    assert states == {citizen_id: "admitted", clerk_id: "admitted"}
    assert (await call.clerk.call("signal", {"to": citizen_id, "restart": True}))["ok"]
    assert (await call.citizen.next("signal"))["from"] == clerk_id
