"""The waiting-room push (lobby.updated) carries what changed, not the whole list: its bytes per
change stay those of one entry however many citizens wait (one clerk got 37 MB while 500 joined)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import select

import signaling
from tests.signaling import test_signaling
from tests.signaling.test_signaling import Call
from vibue.models import Appointment, CallParticipant
from vibue.web.appkeys import CLOCK, SESSIONS

# The fixtures of the signaling tests: the app with signaling, a citizen waiting, a clerk connected.
settings = test_signaling.settings
served = test_signaling.served
call = test_signaling.call

CROWD = 40


async def another_citizen_waits(call: Call, n: int) -> int:
    """A citizen waiting in the same room's unit and location, as booking and connect leave the rows."""
    now: datetime = call.app[CLOCK].now()
    async with call.app[SESSIONS].begin() as session:
        model = await session.get(Appointment, await test_signaling.appointment_id(call))
        assert model is not None
        appointment = Appointment(
            reference=f"VB-LOBBY{n:04d}",
            unit_id=model.unit_id,
            concern_id=model.concern_id,
            location_id=model.location_id,
            channel="video",
            status="confirmed",
            start_at=model.start_at,
            end_at=model.end_at,
            citizen_name=f"Person Nummer {n}",
            citizen_email=f"person{n}@example.org",
            created_at=now,
            updated_at=now,
        )
        session.add(appointment)
        await session.flush()
        session.add(
            CallParticipant(
                appointment_id=appointment.id, role="citizen", state="waiting", waiting_since=now, code_verified_at=now
            )
        )
        return appointment.id


async def pushed(call: Call, count: int) -> Any:
    await call.app[signaling.SIGNALING].lobby.changed()
    return await call.clerk.next("lobby.updated", count=count)


async def test_a_push_carries_the_change_not_the_whole_list(call: Call) -> None:
    await call.citizen.next("waiting")
    for n in range(CROWD):
        await another_citizen_waits(call, n)
    watched = (await call.clerk.call("lobby.watch"))["waiting"]
    assert len(watched) == CROWD + 1
    entry_bytes = max(len(json.dumps(entry)) for entry in watched)

    sizes = []
    for n in range(3):
        added = await another_citizen_waits(call, CROWD + n)
        update = await pushed(call, n + 1)
        assert [w["appointment_id"] for w in update["changed"]] == [added] and update["removed"] == []
        sizes.append(len(json.dumps(update)))
    assert max(sizes) < entry_bytes + 100, (sizes, entry_bytes)

    # One leaves: only their id travels.
    async with call.app[SESSIONS].begin() as session:
        row = await session.scalar(select(CallParticipant).where(CallParticipant.appointment_id == added))
        assert row is not None
        row.state = "left"
    assert await pushed(call, 4) == {"changed": [], "removed": [added]}


async def test_no_push_when_a_watchers_list_did_not_change(call: Call) -> None:
    await call.citizen.next("waiting")
    assert len((await call.clerk.call("lobby.watch"))["waiting"]) == 1
    server = call.app[signaling.SIGNALING]
    await server.lobby.changed()  # nothing changed: nothing is sent
    await server.lobby.changed()
    added = await another_citizen_waits(call, 0)
    first = await pushed(call, 1)
    assert [w["appointment_id"] for w in first["changed"]] == [added]
