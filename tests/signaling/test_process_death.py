"""A server process dies (`kill -9`) while holding a call participant: the room state is in the
database, so the processes still alive notice (liveness heartbeats), tell the other side, keep
the grace period and end it, and a second connection elsewhere takes over the first."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

from sqlalchemy import select

from tests.calls import Peer
from tests.signaling import test_scale_out
from tests.signaling.test_scale_out import checked_in_citizen, require_redis, spawn, stop
from vibue.core.db import make_engine, make_sessionmaker
from vibue.models import CallParticipant

pg_url = test_scale_out.pg_url  # the fixture: a fresh PostgreSQL database for the processes
GRACE = "10"  # seconds, instead of 60: the test waits for it to pass once


async def citizen_state(pg_url: str, participant_id: int) -> str:
    engine = make_engine(pg_url)
    try:
        async with make_sessionmaker(engine)() as session:
            state = await session.scalar(select(CallParticipant.state).where(CallParticipant.id == participant_id))
    finally:
        await engine.dispose()
    assert state is not None
    return state


async def test_a_killed_process_is_noticed_its_participant_resumes_elsewhere_or_waits_again(
    pg_url: str,
    tmp_path: Path,
    development_pki: Path,
) -> None:
    await require_redis()
    channel = f"vibue-test-{uuid.uuid4().hex[:8]}"
    grace = {"VIBUE_RECONNECT_GRACE_SECONDS": GRACE}
    doomed, doomed_url = await spawn(pg_url, tmp_path / "var0", channel, development_pki, **grace)
    survivor, survivor_url = await spawn(pg_url, tmp_path / "var1", channel, development_pki, **grace)
    processes = [doomed, survivor]
    appointment_id, join_token, cookie = await checked_in_citizen(pg_url)
    clerk, citizen, back, third = Peer(), Peer(), Peer(), Peer()
    try:
        await clerk.connect(survivor_url, cookie=cookie)
        await citizen.connect(doomed_url, join_token=join_token)
        await citizen.next("waiting")
        clerk_id = (await clerk.call("room.join", {"appointment_id": appointment_id}))["room"]["me"]
        assert (await clerk.call("admit", {"appointment_id": appointment_id}))["ok"]
        citizen_id = (await citizen.next("admitted"))["room"]["me"]
        assert (await clerk.call("signal", {"to": citizen_id, "restart": True}))["ok"]
        await citizen.next("signal")

        # kill -9 of the citizen's process: it can tell nobody; the survivor notices it went silent.
        doomed.kill()
        await doomed.wait()
        killed = time.monotonic()
        assert (await clerk.next("peer.reconnecting", seconds=5))["participant_id"] == citizen_id
        print(f"peer.reconnecting {time.monotonic() - killed:.1f} s after kill -9")
        unreachable = await clerk.call("signal", {"to": citizen_id, "restart": True})
        assert unreachable["error"]["code"] == "peer_not_connected"

        # Back within the grace period, on the other process: resumed, no new admission.
        await back.connect(survivor_url, join_token=join_token)
        resumed = await back.next("admitted")
        assert (resumed["resumed"], resumed["room"]["me"]) == (True, citizen_id)
        assert "waiting" not in back.events
        assert (await clerk.call("signal", {"to": citizen_id, "restart": True}))["ok"]
        assert (await back.next("signal", seconds=5))["from"] == clerk_id
        assert (await back.call("signal", {"to": clerk_id, "restart": True}))["ok"]
        assert (await clerk.next("signal", seconds=5))["from"] == citizen_id

        # A third connection on a new process takes over: the survivor closes the second one.
        doomed, doomed_url = await spawn(pg_url, tmp_path / "var2", channel, development_pki, **grace)
        processes.append(doomed)
        await third.connect(doomed_url, join_token=join_token)
        assert (await third.next("admitted"))["resumed"] is True
        await back.next("disconnect")
        assert (await clerk.call("signal", {"to": citizen_id, "restart": True}))["ok"]
        assert (await third.next("signal"))["from"] == clerk_id

        # Killed again, and nobody comes back in time: gone, and back in the waiting room after.
        doomed.kill()
        await doomed.wait()
        await clerk.next("peer.reconnecting", count=2, seconds=5)
        assert (await clerk.next("peer.left", seconds=float(GRACE) + 10))["participant_id"] == citizen_id
        assert await citizen_state(pg_url, citizen_id) == "left"
        late = Peer()
        try:
            await late.connect(survivor_url, join_token=join_token)
            await late.next("waiting")
            assert "admitted" not in late.events
        finally:
            await late.close()
    finally:
        for peer in (clerk, citizen, back, third):
            await peer.close()
        await stop(processes)
        await asyncio.sleep(0)
