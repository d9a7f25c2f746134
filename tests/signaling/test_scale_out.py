"""Two server processes share PostgreSQL and Redis: the citizen on one, the clerk on the other,
and a real WebRTC call (two aiortc peers) connects over the relayed signaling."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import redis.asyncio
from aiortc import RTCPeerConnection, RTCSessionDescription, VideoStreamTrack
from sqlalchemy import select

from bench.common import add_checked_in_citizens
from signaling.membership_cache import STALE_SECONDS
from tests import databases
from tests.calls import Peer
from tests.helpers import post_json, with_development_pki
from vibue.core.db import make_engine, make_sessionmaker
from vibue.core.paths import ROOT
from vibue.core.settings import Settings
from vibue.models import Staff
from vibue.staff import sessions as staff_sessions

SECRET = "scale-out-test-secret-that-is-long-enough"
CANDIDATE = {"candidate": "candidate:1 1 udp 1 127.0.0.1 9 typ host", "sdpMid": "0", "sdpMLineIndex": 0}
REDIS_URL = os.environ.get("VIBUE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


async def redis_available() -> bool:
    client = redis.asyncio.from_url(REDIS_URL)
    try:
        return bool(await asyncio.wait_for(client.ping(), 5))
    except (OSError, redis.RedisError, TimeoutError):
        return False
    finally:
        await client.aclose()


@pytest.fixture
def pg_url(pg_template: bool) -> Iterator[str]:
    name, url = asyncio.run(databases.clone_pg())
    try:
        yield url
    finally:
        asyncio.run(databases.drop_pg(name))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def spawn(
    pg_url: str, data_dir: Path, channel: str, pki: Path, **env_extra: str
) -> tuple[asyncio.subprocess.Process, str]:
    """One server process (`run.py`) on the shared database and Redis channel, once healthy.

    With the session's development PKI (the `development_pki` fixture) and its documents sealed in
    threads: a new PKI and two spawned seal workers cost each start seconds of CPU that these
    tests, which issue no document, would only wait for."""
    with_development_pki(Settings(data_dir=str(data_dir)), pki)
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "VIBUE_PORT": str(port),
        "VIBUE_DATABASE_URL": pg_url,
        "VIBUE_DATA_DIR": str(data_dir),
        "VIBUE_REDIS_URL": REDIS_URL,
        "VIBUE_REDIS_CHANNEL": channel,
        # Rate limits and lockouts live in Redis too: keys of this test's own (they expire).
        "VIBUE_REDIS_PREFIX": channel,
        "VIBUE_SECRET_KEY": SECRET,
        "VIBUE_RETENTION_INTERVAL_HOURS": "0",
        "VIBUE_LOG_LEVEL": "WARNING",
        "VIBUE_SEAL_WORKERS": "0",
        **env_extra,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "run.py", cwd=ROOT, env=env, stdout=asyncio.subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    await wait_healthy(url, process)
    return process, url


async def stop(processes: list[asyncio.subprocess.Process]) -> None:
    """SIGTERM each process still running; each must stop within 20 s."""
    running = [p for p in processes if p.returncode is None]
    for process in running:
        process.terminate()
    for process in running:
        try:
            await asyncio.wait_for(process.wait(), 20)
        except TimeoutError:
            process.kill()
            await process.wait()
            raise AssertionError("a server process did not stop within 20 s of SIGTERM") from None


async def require_redis() -> None:
    if not await redis_available():
        if databases.in_ci():
            pytest.fail(f"Redis at {REDIS_URL} is required in CI and did not answer")
        pytest.skip("Redis not running (outside CI only)")


@pytest.fixture
async def two_servers(pg_url: str, tmp_path: Path, development_pki: Path) -> AsyncIterator[list[str]]:
    await require_redis()
    channel = f"vibue-test-{uuid.uuid4().hex[:8]}"
    processes, urls = [], []
    for n in range(2):  # one after the other: the first migrates and seeds
        process, url = await spawn(pg_url, tmp_path / f"var{n}", channel, development_pki)
        processes.append(process)
        urls.append(url)
    try:
        yield urls
    finally:
        await stop(processes)


async def wait_healthy(url: str, process: asyncio.subprocess.Process) -> None:
    import aiohttp

    async with aiohttp.ClientSession() as session:
        for _ in range(300):
            assert process.returncode is None, "a server process exited"
            try:
                async with session.get(f"{url}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError(f"{url} did not become healthy")


async def checked_in_citizen(pg_url: str) -> tuple[int, str, str]:
    """An appointment starting in five minutes whose citizen verified the code; returns
    (appointment id, the citizen's join token, an admin's session cookie)."""
    now = datetime.now(UTC)
    engine = make_engine(pg_url)
    try:
        async with make_sessionmaker(engine).begin() as session:
            admin = await session.scalar(select(Staff).where(Staff.username == "a.schmidt"))
            assert admin is not None
            [checked_in] = await add_checked_in_citizens(
                session, count=1, now=now, expires=now + timedelta(hours=1), secret=SECRET
            )
            cookie = await staff_sessions.open_session(session=session, staff=admin, now=now, hours=1)
            return checked_in.appointment_id, checked_in.join_token, cookie
    finally:
        await engine.dispose()


async def relay(peer: Peer, pc: RTCPeerConnection, to: int) -> None:
    """Non-trickle: the description carries the candidates; send it once gathered."""
    description = pc.localDescription
    answer = await peer.call("signal", {"to": to, "description": {"type": description.type, "sdp": description.sdp}})
    assert answer["ok"], answer


async def test_a_call_across_two_processes(two_servers: list[str], pg_url: str) -> None:
    appointment_id, join_token, cookie = await checked_in_citizen(pg_url)
    citizen, clerk = Peer(), Peer()
    citizen_pc, clerk_pc = RTCPeerConnection(), RTCPeerConnection()
    received: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    readers: set[asyncio.Task[None]] = set()

    @clerk_pc.on("track")
    def _track(track: Any) -> None:
        async def first_frame() -> None:
            frame = await track.recv()
            if not received.done():
                received.set_result(frame)

        readers.add(asyncio.create_task(first_frame()))

    try:
        await clerk.connect(two_servers[1], cookie=cookie)
        assert (await clerk.call("lobby.watch"))["waiting"] == []
        await citizen.connect(two_servers[0], join_token=join_token)
        await citizen.next("waiting")
        # The citizen arrived on process 1; the clerk watching on process 2 is told at once.
        waiting = (await clerk.next("lobby.updated"))["changed"]
        assert [w["appointment_id"] for w in waiting] == [appointment_id]
        room = (await clerk.call("room.join", {"appointment_id": appointment_id}))["room"]
        assert (await clerk.call("admit", {"appointment_id": appointment_id}))["ok"]
        admitted = (await citizen.next("admitted"))["room"]  # crossed from process 2 to process 1 via Redis
        citizen_id, clerk_id = admitted["me"], room["me"]

        citizen_pc.addTrack(VideoStreamTrack())  # aiortc's synthetic camera
        await citizen_pc.setLocalDescription(await citizen_pc.createOffer())
        await relay(citizen, citizen_pc, clerk_id)
        offer = (await clerk.next("signal"))["description"]
        await clerk_pc.setRemoteDescription(RTCSessionDescription(sdp=offer["sdp"], type=offer["type"]))
        await clerk_pc.setLocalDescription(await clerk_pc.createAnswer())
        await relay(clerk, clerk_pc, citizen_id)
        answer = (await citizen.next("signal"))["description"]
        await citizen_pc.setRemoteDescription(RTCSessionDescription(sdp=answer["sdp"], type=answer["type"]))

        frame = await asyncio.wait_for(received, 30)
        assert frame.width > 0 and frame.height > 0
        assert clerk_pc.connectionState == "connected"
    finally:
        for pc in (citizen_pc, clerk_pc):
            await pc.close()
        for peer in (citizen, clerk):
            await peer.close()


async def refused_within_the_bound(peer: Peer, to: int, code: str, *, changed_at: float) -> None:
    """Signal until refused with `code`; a signal sent later than STALE_SECONDS after the change
    (which committed before `changed_at`) and still relayed breaks decision #16's bound."""
    while True:
        sent_at = time.monotonic()
        answer = await peer.call("signal", {"to": to, "candidate": CANDIDATE})
        if not answer["ok"]:
            assert answer["error"]["code"] == code, answer
            return
        assert sent_at - changed_at < STALE_SECONDS, "still relayed after the bound"
        await asyncio.sleep(0.05)


async def test_leaving_and_signing_out_count_on_the_other_process_within_the_bound(
    two_servers: list[str], pg_url: str
) -> None:
    appointment_id, join_token, cookie = await checked_in_citizen(pg_url)
    second_cookie = await another_session(pg_url)
    citizen, clerk, here = Peer(), Peer(), Peer()  # citizen and `here` on process 1, clerk on process 2
    try:
        await citizen.connect(two_servers[0], join_token=join_token)
        await citizen.next("waiting")
        await clerk.connect(two_servers[1], cookie=cookie)
        clerk_id = (await clerk.call("room.join", {"appointment_id": appointment_id}))["room"]["me"]
        assert (await clerk.call("admit", {"appointment_id": appointment_id}))["ok"]
        citizen_id = (await citizen.next("admitted"))["room"]["me"]
        await here.connect(two_servers[0], cookie=second_cookie)  # the same admin, signed in twice
        assert (await here.call("room.join", {"appointment_id": appointment_id}))["ok"]
        for sender, to in ((citizen, clerk_id), (clerk, citizen_id), (here, citizen_id)):  # copies on both
            assert (await sender.call("signal", {"to": to, "candidate": CANDIDATE}))["ok"]

        async with aiohttp.ClientSession(two_servers[1], cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            http.cookie_jar.update_cookies({"vibue_staff": second_cookie})
            assert (await post_json(http, "/api/staff/logout")).status == 204  # on process 2
        await refused_within_the_bound(here, citizen_id, "not_signed_in", changed_at=time.monotonic())

        assert (await clerk.call("call.end", {"outcome": "completed"}))["ok"]  # on process 2
        await refused_within_the_bound(citizen, clerk_id, "not_admitted", changed_at=time.monotonic())
    finally:
        for peer in (citizen, clerk, here):
            await peer.close()


async def another_session(pg_url: str) -> str:
    engine = make_engine(pg_url)
    try:
        async with make_sessionmaker(engine).begin() as session:
            admin = await session.scalar(select(Staff).where(Staff.username == "a.schmidt"))
            assert admin is not None
            return await staff_sessions.open_session(session=session, staff=admin, now=datetime.now(UTC), hours=1)
    finally:
        await engine.dispose()
