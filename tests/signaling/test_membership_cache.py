"""This process's copies of room membership and staff sessions (signaling/membership_cache.py,
decision #16): the relay reads no database while nothing changed, a change made here counts at
once, one made on another process as soon as the Redis message arrives and never later than
STALE_SECONDS after it.

Here in one test process, with Redis: the second "process" is a second app on the same database
and Redis channel. The copies' clock (`cache.monotonic`) is set by hand, so the bound is shown
without waiting. tests/signaling/test_scale_out.py shows the same on two real processes.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event, select, update

import signaling
from signaling.membership_cache import STALE_SECONDS
from tests.calls import Peer, http
from tests.helpers import post_json
from tests.signaling.test_scale_out import REDIS_URL, redis_available
from tests.signaling.test_signaling import Call, admitted, appointment_id, call, served  # noqa: F401 (fixtures)
from vibue.app import create_app
from vibue.core.clock import ManualClock
from vibue.core.settings import Settings
from vibue.models import CallParticipant, Staff
from vibue.staff import sessions as staff_sessions
from vibue.web.appkeys import ENGINE, SESSIONS

CANDIDATE = {"candidate": "candidate:1 1 udp 1 127.0.0.1 9 typ host", "sdpMid": "0", "sdpMLineIndex": 0}


@pytest.fixture
async def settings(settings: Settings, redis_prefix: str) -> Settings:
    if not await redis_available():
        pytest.fail(f"Redis at {REDIS_URL} is required and did not answer")
    # A channel and key prefix of this test's own: rate limits live in Redis too.
    channel = f"vibue-test-{uuid.uuid4().hex[:8]}"
    return settings.replace(
        reconnect_grace_seconds=1.0,
        min_lead_minutes=0,
        redis_url=REDIS_URL,
        redis_channel=channel,
        redis_prefix=redis_prefix,
    )


class Hands:
    """A clock for a cache's copies that moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def hands(call: Call) -> Hands:  # noqa: F811
    hands = Hands()
    cache = call.app[signaling.SIGNALING].cache
    cache.monotonic = hands
    cache.refreshing = False  # copies are read again only when a test calls refresh()
    return hands


BACKGROUND_JOBS = {
    "mail-worker",
    "vibue-retention",
    "vibue-late-notices",
    "vibue-liveness",
    "vibue-liveness-heartbeat",  # the liveness loop's own two tasks: their statements came through
    "vibue-liveness-sweep",  # as anonymous gather tasks and failed the count under load
    "vibue-lobby-refresh",
    "vibue-cache-refresh",  # off in the tests with `hands`; counted by hand where it is called
}


@pytest.fixture
def statements(call: Call) -> Iterator[list[str]]:  # noqa: F811
    """Every SQL statement the app runs from now on, outside its timed background jobs."""
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        # The mail worker's poll, the liveness beat and the like run on their own timers and
        # may land in any window under load; they are not the signaling path this measures.
        task = asyncio.current_task()
        if task is None or task.get_name() not in BACKGROUND_JOBS:
            seen.append(statement)

    engine = call.app[ENGINE].sync_engine
    event.listen(engine, "before_cursor_execute", count)
    yield seen
    event.remove(engine, "before_cursor_execute", count)


async def signal(peer: Peer, to: int) -> Any:
    return await peer.call("signal", {"to": to, "candidate": CANDIDATE})


async def test_relayed_signals_read_no_database_while_nothing_changed(
    call: Call,  # noqa: F811
    hands: Hands,
    statements: list[str],
) -> None:
    citizen_id, clerk_id = await admitted(call)
    assert (await signal(call.citizen, clerk_id))["ok"]
    assert (await signal(call.clerk, citizen_id))["ok"]  # the copies of the room and the session are read
    statements.clear()
    for n in range(10):
        assert (await signal(call.citizen, clerk_id))["ok"]
        assert (await signal(call.clerk, citizen_id))["ok"]
        assert len((await call.citizen.next("signal", count=n + 2))["candidate"]) > 0
    assert statements == []
    hands.now += STALE_SECONDS  # copies are read again after the bound, once
    assert (await signal(call.clerk, citizen_id))["ok"]
    assert len(statements) == 2, statements


async def test_copies_in_use_are_read_again_together_and_unused_ones_dropped(
    call: Call,  # noqa: F811
    hands: Hands,
    statements: list[str],
) -> None:
    cache = call.app[signaling.SIGNALING].cache
    citizen_id, clerk_id = await admitted(call)
    assert (await signal(call.clerk, citizen_id))["ok"]  # the room's and the session's copies are read
    statements.clear()
    hands.now += STALE_SECONDS - 0.5
    await cache.refresh()
    assert len(statements) == 2, statements  # one for the rooms in use, one for the sessions
    assert "IN (" in statements[0].upper() and "IN (" in statements[1].upper(), statements
    statements.clear()
    hands.now += 1.0  # past the first read's bound, within the refresh's
    assert (await signal(call.clerk, citizen_id))["ok"]
    assert (await signal(call.citizen, clerk_id))["ok"]
    assert statements == [], "the relay path waited for no read"

    # What a refresh reads is the truth, told or not.
    async with call.app[SESSIONS].begin() as session:
        await session.execute(update(CallParticipant).where(CallParticipant.id == citizen_id).values(state="left"))
    await cache.refresh()
    assert (await signal(call.citizen, clerk_id))["error"]["code"] == "not_admitted"

    await cache.refresh()  # nothing used since the last one: ...
    statements.clear()
    await cache.refresh()  # ... so its copies were dropped, and nothing is left to read
    assert statements == []
    assert (await signal(call.clerk, citizen_id))["error"]["code"] == "wrong_room"
    assert len(statements) == 2, "the dropped copies are read again when they are needed"


async def test_events_that_find_a_copy_stale_wait_for_one_read(
    call: Call,  # noqa: F811
    hands: Hands,
    statements: list[str],
) -> None:
    citizen_id, _ = await admitted(call)
    assert (await signal(call.clerk, citizen_id))["ok"]
    statements.clear()
    hands.now += STALE_SECONDS
    answers = await asyncio.gather(*(signal(call.clerk, citizen_id) for _ in range(10)))
    assert all(answer["ok"] for answer in answers)
    assert len(statements) == 2, statements  # the session once and the room once, not ten times


async def test_a_member_who_hung_up_or_whose_call_ended_loses_relay_rights_at_once(call: Call, hands: Hands) -> None:  # noqa: F811
    citizen_id, clerk_id = await admitted(call)
    assert (await signal(call.clerk, citizen_id))["ok"]
    assert (await call.citizen.call("hangup"))["ok"]
    assert (await signal(call.clerk, citizen_id))["error"]["code"] == "wrong_room"

    call.citizen = Peer()  # back to the waiting room, admitted again
    await call.citizen.connect(call.base_url, join_token=call.join_token)
    await call.citizen.next("waiting")
    assert (await call.clerk.call("admit", {"appointment_id": await appointment_id(call)}))["ok"]
    await call.citizen.next("admitted")
    assert (await signal(call.citizen, clerk_id))["ok"]
    assert (await call.clerk.call("call.end", {"outcome": "completed"}))["ok"]
    assert (await signal(call.citizen, clerk_id))["error"]["code"] == "not_admitted"
    assert (await call.citizen.call("ice.refresh"))["error"]["code"] == "not_admitted"


async def test_sign_out_and_expiry_end_a_staff_socket_at_once_despite_the_copy(
    call: Call,  # noqa: F811
    hands: Hands,
    clock: ManualClock,
) -> None:
    citizen_id, _ = await admitted(call)
    assert (await signal(call.clerk, citizen_id))["ok"]
    assert (await post_json(call.http, "/api/staff/logout")).status == 204
    assert (await signal(call.clerk, citizen_id))["error"]["code"] == "not_signed_in"

    clerk = Peer()  # a second sign-in, whose session then runs out
    try:
        await clerk.connect(call.base_url, cookie=await admin_cookie(call, clock))
        assert (await clerk.call("room.join", {"appointment_id": await appointment_id(call)}))["ok"]
        assert (await signal(clerk, citizen_id))["ok"]
        clock.advance(hours=1)  # past the session's end; the copy is still fresh
        assert (await signal(clerk, citizen_id))["error"]["code"] == "not_signed_in"
    finally:
        await clerk.close()


async def test_a_change_nobody_told_counts_after_the_bound_at_the_latest(call: Call, hands: Hands) -> None:  # noqa: F811
    citizen_id, clerk_id = await admitted(call)
    assert (await signal(call.citizen, clerk_id))["ok"]
    # As a process without Redis, or whose message was lost, would leave it: changed, not told.
    async with call.app[SESSIONS].begin() as session:
        await session.execute(update(CallParticipant).where(CallParticipant.id == citizen_id).values(state="left"))
    hands.now += STALE_SECONDS - 0.1
    assert (await signal(call.citizen, clerk_id))["ok"], "within the bound the copy may be used"
    hands.now += 0.1
    assert (await signal(call.citizen, clerk_id))["error"]["code"] == "not_admitted"


async def test_changes_on_another_process_reach_this_one_over_redis(
    call: Call,  # noqa: F811
    hands: Hands,
    aiohttp_server: Any,
    settings: Settings,
    clock: ManualClock,
    unused_tcp_port_factory: Any,
) -> None:
    port = unused_tcp_port_factory()
    other_settings = settings.replace(base_url=f"http://127.0.0.1:{port}", port=port, seed_demo=False)
    other = await aiohttp_server(create_app(other_settings, clock=clock, setups=[signaling.setup]))
    other.app[signaling.SIGNALING].cache.monotonic = hands  # the copies never go stale by time here
    other_url = f"http://127.0.0.1:{other.port}"
    admin = Peer()
    try:
        await admin.connect(other_url, cookie=await admin_cookie(call, clock))  # on the other process
        aid = await appointment_id(call)
        assert (await admin.call("room.join", {"appointment_id": aid}))["ok"]
        assert (await admin.call("admit", {"appointment_id": aid}))["ok"]
        room = (await call.citizen.next("admitted"))["room"]
        citizen_id, admin_id = room["me"], next(p["id"] for p in room["participants"] if p["role"] == "clerk")
        assert (await call.clerk.call("room.join", {"appointment_id": aid}))["ok"]  # s.berger, this process
        assert (await signal(call.citizen, admin_id))["ok"]
        assert (await signal(call.clerk, citizen_id))["ok"]
        assert (await signal(admin, citizen_id))["ok"]

        async with http(other_url) as session:  # s.berger signs out through the other process
            session.cookie_jar.update_cookies({"vibue_staff": call.clerk_cookie})
            assert (await post_json(session, "/api/staff/logout")).status == 204
        await until_refused(call.clerk, citizen_id, "not_signed_in")

        assert (await admin.call("call.end", {"outcome": "completed"}))["ok"]
        await until_refused(call.citizen, admin_id, "not_admitted")
    finally:
        await admin.close()


async def admin_cookie(call: Call, clock: ManualClock, hours: int = 1) -> str:  # noqa: F811
    """A sign-in session of the demo admin (serves every room), straight into the database."""
    async with call.app[SESSIONS].begin() as session:
        admin = await session.scalar(select(Staff).where(Staff.username == "a.schmidt"))
        assert admin is not None
        return await staff_sessions.open_session(session=session, staff=admin, now=clock.now(), hours=hours)


async def until_refused(peer: Peer, to: int, code: str) -> None:
    """Signal until refused (the copies' clock stands still: only the Redis message can help)."""
    for _ in range(200):
        answer = await signal(peer, to)
        if not answer["ok"]:
            assert answer["error"]["code"] == code, answer
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"still relayed after 10 s: no {code}")


async def test_the_socketio_redis_connections_are_closed_when_the_app_stops(call: Call, served: Any) -> None:  # noqa: F811
    """When the app stops, none of python-socketio's Redis connections stays open (it closes
    none itself; signaling/redis_manager.py). Whether a late emit reopens one depends on when the
    server sees the sockets go; the whole suite's gc check catches that case."""
    await admitted(call)
    manager = call.app[signaling.SIGNALING].sio.manager
    pools = {client.connection_pool for client in (manager.redis, manager.pubsub)}
    assert any(conn.is_connected for pool in pools for conn in pool._available_connections)  # in use till now
    for peer in (call.citizen, call.clerk):
        await peer.close()
    await served.close()
    connections = [conn for pool in pools for conn in [*pool._available_connections, *pool._in_use_connections]]
    assert connections and not [conn for conn in connections if conn.is_connected]
