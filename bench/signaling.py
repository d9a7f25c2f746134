"""Signaling benchmark: relay latency and messages per second through ViBü, next to a bare relay.

Run with `make bench`. It starts the real app (`python run.py`, SQLite in a temp dir), puts
ROOMS video appointments with checked-in citizens and an admin session straight into the
database, connects a citizen (join token) and an admin (room.join + admit) per room, and lets
each pair play ping-pong with `signal` events. Then it stops the app, starts a bare
python-socketio relay (bench.common.relay_app) and drives it with the same client loop, counts,
payloads and pacing, and prints both side by side with their ratio.

(Run as a script, this file is `__main__` and bench/ is first on sys.path: `import signaling`
here would import this file, so nothing in the benchmark process imports the signaling package.)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import secrets
import signal
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import socketio
from sqlalchemy import select

from bench.common import (
    OK,
    Load,
    ServerFailed,
    add_checked_in_citizens,
    child_env,
    cpu_seconds,
    free_port,
    machine,
    serving_process,
    table,
)
from vibue.core.db import make_engine, make_sessionmaker
from vibue.models import Staff
from vibue.staff import sessions as staff_sessions

ROOMS = 20
WARMUP_ROUNDS = 5  # per pair, unmeasured, at the paced rate
PACED_RATE = 2.5  # round trips per second per pair: well below what ViBü manages on 2 cores
PACED_ROUNDS = 20
PACED_SECONDS = 12.0
# Flat out, but each connection sends at most FULL_RATE events per second: below the server's
# per-connection limit of 100 events in 2 s (docs/signaling.md), so nothing is refused for rate.
FULL_RATE = 40.0
FULL_ROUNDS = 400
FULL_SECONDS = 12.0  # the phase stops after this even when rounds are left
FULL_REPEATS = 3  # flat-out runs per side, taking turns with the other side
REPLY_TIMEOUT = 5.0  # a round trip not back by then counts as lost and the pair goes on
LIMIT_WINDOW = 2.5  # pause between phases: the rate limiter's 2 s window empties
SDP_EVERY = 10  # every 10th round trip is an offer/answer, the others ICE candidates
SETUP_TIMEOUT = 30.0
ADMIN = "a.schmidt"  # a demo admin: serves every room


# --- payloads ------------------------------------------------------------------------------------
# Valid per signaling/payloads.py. The sender's time.perf_counter_ns() rides in the candidate's
# foundation and in the SDP's o= session id, the round number in `generation` and the o= version;
# sender and receiver live in this one process, so the receiver subtracts that from its own clock.

UFRAG = "Xk3p"
CANDIDATE = (
    "candidate:{ts} 1 udp 1686052607 203.0.113.7 {port} typ srflx raddr 192.168.178.23 rport {port} "
    "generation {seq} ufrag " + UFRAG + " network-id 1 network-cost 10"
)


def _codecs(first_pt: int, lines: Sequence[tuple[str, str]]) -> str:
    out = []
    for offset, (codec, fmtp) in enumerate(lines):
        pt, rtx = first_pt + 2 * offset, first_pt + 2 * offset + 1
        out += [
            f"a=rtpmap:{pt} {codec}/90000",
            f"a=rtcp-fb:{pt} goog-remb",
            f"a=rtcp-fb:{pt} transport-cc",
            f"a=rtcp-fb:{pt} ccm fir",
            f"a=rtcp-fb:{pt} nack",
            f"a=rtcp-fb:{pt} nack pli",
            *([f"a=fmtp:{pt} {fmtp}"] if fmtp else []),
            f"a=rtpmap:{rtx} rtx/90000",
            f"a=fmtp:{rtx} apt={pt}",
        ]
    return "\r\n".join(out)


_FINGERPRINT = ":".join(f"{b:02X}" for b in bytes(range(7, 7 + 32 * 5, 5)))
_VIDEO = _codecs(
    96,
    [
        ("VP8", ""),
        ("VP9", "profile-id=0"),
        ("H264", "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"),
        ("H264", "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=4d001f"),
        ("AV1", "level-idx=5;profile=0;tier=0"),
    ],
)
# A browser's audio + video offer, shaped like Chromium's (~4 KB); {ts} and {seq} in the o= line.
SDP = "\r\n".join(
    [
        "v=0",
        "o=- {ts} {seq} IN IP4 127.0.0.1",
        "s=-",
        "t=0 0",
        "a=group:BUNDLE 0 1",
        "a=extmap-allow-mixed",
        "a=msid-semantic: WMS vibue-bench",
        "m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126",
        "c=IN IP4 0.0.0.0",
        "a=rtcp:9 IN IP4 0.0.0.0",
        f"a=ice-ufrag:{UFRAG}",
        "a=ice-pwd:9Jd0a1Cq3vYw8XbM2kLpQz7T",
        "a=ice-options:trickle",
        f"a=fingerprint:sha-256 {_FINGERPRINT}",
        "a=setup:{setup}",
        "a=mid:0",
        "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level",
        "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",
        "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01",
        "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid",
        "a=sendrecv",
        "a=msid:vibue-bench 6f1c2a7e-audio",
        "a=rtcp-mux",
        "a=rtcp-rsize",
        "a=rtpmap:111 opus/48000/2",
        "a=rtcp-fb:111 transport-cc",
        "a=fmtp:111 minptime=10;useinbandfec=1",
        "a=rtpmap:63 red/48000/2",
        "a=fmtp:63 111/111",
        "a=rtpmap:9 G722/8000",
        "a=rtpmap:0 PCMU/8000",
        "a=rtpmap:8 PCMA/8000",
        "a=rtpmap:13 CN/8000",
        "a=rtpmap:110 telephone-event/48000",
        "a=rtpmap:126 telephone-event/8000",
        "a=ssrc:3735928559 cname:vN3d8sKq1xZ0aB7e",
        "a=ssrc:3735928559 msid:vibue-bench 6f1c2a7e-audio",
        "m=video 9 UDP/TLS/RTP/SAVPF 96 97 98 99 100 101 102 103 104 105",
        "c=IN IP4 0.0.0.0",
        "a=rtcp:9 IN IP4 0.0.0.0",
        f"a=ice-ufrag:{UFRAG}",
        "a=ice-pwd:9Jd0a1Cq3vYw8XbM2kLpQz7T",
        "a=ice-options:trickle",
        f"a=fingerprint:sha-256 {_FINGERPRINT}",
        "a=setup:{setup}",
        "a=mid:1",
        "a=extmap:14 urn:ietf:params:rtp-hdrext:toffset",
        "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",
        "a=extmap:13 urn:3gpp:video-orientation",
        "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01",
        "a=extmap:5 http://www.webrtc.org/experiments/rtp-hdrext/playout-delay",
        "a=extmap:6 http://www.webrtc.org/experiments/rtp-hdrext/video-content-type",
        "a=extmap:7 http://www.webrtc.org/experiments/rtp-hdrext/video-timing",
        "a=extmap:8 http://www.webrtc.org/experiments/rtp-hdrext/color-space",
        "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid",
        "a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id",
        "a=extmap:11 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id",
        "a=sendrecv",
        "a=msid:vibue-bench 0b9e4f21-video",
        "a=rtcp-mux",
        "a=rtcp-rsize",
        _VIDEO.replace("{", "{{").replace("}", "}}"),
        "a=ssrc-group:FID 2882400001 2882400002",
        "a=ssrc:2882400001 cname:vN3d8sKq1xZ0aB7e",
        "a=ssrc:2882400001 msid:vibue-bench 0b9e4f21-video",
        "a=ssrc:2882400002 cname:vN3d8sKq1xZ0aB7e",
        "a=ssrc:2882400002 msid:vibue-bench 0b9e4f21-video",
        "",
    ]
)


def message(to: int, kind: str, seq: int) -> dict[str, Any]:
    """A `signal` payload of `kind` (offer, answer or candidate), stamped with the time of sending."""
    ts = time.perf_counter_ns()
    if kind == "candidate":
        text = CANDIDATE.format(ts=ts, seq=seq, port=50000 + seq % 10000)
        candidate = {"candidate": text, "sdpMid": "0", "sdpMLineIndex": 0, "usernameFragment": UFRAG}
        return {"to": to, "candidate": candidate}
    setup = "actpass" if kind == "offer" else "active"
    return {"to": to, "description": {"type": kind, "sdp": SDP.format(ts=ts, seq=seq, setup=setup)}}


def stamp(data: Any) -> tuple[str, int, int] | None:
    """(kind, round, ns sent) of a relayed `signal`, or None when it is not one of ours."""
    try:
        if "candidate" in data:
            fields = data["candidate"]["candidate"].split()
            return "candidate", int(fields[fields.index("generation") + 1]), int(fields[0].split(":")[1])
        description = data["description"]
        origin = next(line for line in description["sdp"].split("\r\n") if line.startswith("o="))
        _, ts, seq = origin.split()[:3]
        return str(description["type"]), int(seq), int(ts)
    except (KeyError, TypeError, ValueError, IndexError, StopIteration, AttributeError):
        return None


def size(kind: str) -> int:
    """Bytes of the JSON payload a client sends for `kind`."""
    return len(json.dumps(message(2**31 - 1, kind, 999), separators=(",", ":")))


# --- the clients ------------------------------------------------------------------------------------


class Endpoint:
    """One Socket.IO client; `signal` events go to the pair, `error` events are counted."""

    def __init__(self) -> None:
        # Our own HTTP session, so it is closed even when the connection is refused.
        self.http = aiohttp.ClientSession()
        self.client = socketio.AsyncClient(reconnection=False, http_session=self.http)

    def expect(self, event: str) -> asyncio.Future[Any]:
        """A future for the next `event` (register it before the server can send it)."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

        async def arrived(data: Any = None) -> None:
            if not future.done():
                future.set_result(data)

        self.client.on(event, arrived)
        return future

    async def connect(self, base_url: str, *, auth: dict[str, str], headers: dict[str, str]) -> None:
        await self.client.connect(
            base_url,
            transports=["websocket"],
            socketio_path="socket.io",
            auth=auth,
            headers=headers,
            wait_timeout=10,
        )

    async def call(self, event: str, data: Any) -> Any:
        return await self.client.call(event, data, timeout=10)

    async def close(self) -> None:
        with contextlib.suppress(Exception):  # best effort: the server may be gone already
            if self.client.connected:
                await self.client.disconnect()
        await self.http.close()


@dataclass
class Pair:
    """Two members of one room: the caller sends each round, the callee answers on receipt."""

    caller: Endpoint
    callee: Endpoint
    caller_to: int  # whom the caller addresses (the callee's participant id on ViBü)
    callee_to: int
    sink: Load = field(default_factory=Load)
    reply: asyncio.Future[None] | None = None
    expected: int = -1
    sends: int = 0  # the caller's sends in this phase
    held: int = 0  # of them, how many the pacing held back (the answer was in before 1/rate s had passed)

    def __post_init__(self) -> None:
        self.caller.client.on("signal", self._at_caller)
        self.callee.client.on("signal", self._at_callee)
        for end in (self.caller, self.callee):
            end.client.on("error", self._error)

    def _received(self, data: Any) -> tuple[str, int] | None:
        now = time.perf_counter_ns()
        got = stamp(data)
        if got is None:
            self.sink.outcomes["unexpected payload"] += 1
            return None
        kind, seq, sent = got
        self.sink.latencies.append((now - sent) / 1e9)
        self.sink.outcomes[OK] += 1
        return kind, seq

    async def _at_caller(self, data: Any = None) -> None:
        got = self._received(data)
        if got is not None and got[1] == self.expected and self.reply is not None and not self.reply.done():
            self.reply.set_result(None)

    async def _at_callee(self, data: Any = None) -> None:
        got = self._received(data)
        if got is not None:
            kind, seq = got
            answer = message(self.callee_to, "answer" if kind == "offer" else "candidate", seq)
            await self.callee.client.emit("signal", answer)

    async def _error(self, data: Any = None) -> None:
        code = data.get("code") if isinstance(data, dict) else data
        self.sink.outcomes[f"error {code}"] += 1

    async def play(self, rounds: int, rate: float, first: float, deadline: float) -> None:
        """Up to `rounds` round trips, one at a time, at least 1/rate s between the caller's sends,
        the first not before `first`."""
        last_send = first - 1 / rate
        for seq in range(rounds):
            pause = last_send + 1 / rate - time.perf_counter()
            if pause > 0:
                self.held += seq > 0
                await asyncio.sleep(pause)
            if time.perf_counter() >= deadline:
                return
            self.sends += 1
            self.expected = seq
            self.reply = asyncio.get_running_loop().create_future()
            last_send = time.perf_counter()
            kind = "offer" if seq % SDP_EVERY == 0 else "candidate"
            await self.caller.client.emit("signal", message(self.caller_to, kind, seq))
            try:
                await asyncio.wait_for(self.reply, REPLY_TIMEOUT)
            except TimeoutError:
                self.sink.outcomes["round trip lost (no answer in 5 s)"] += 1


@dataclass(frozen=True)
class Phase:
    load: Load
    # CPU seconds per wall-clock second: share of one core of the server and of this (client) process
    server_cpu: float
    client_cpu: float
    held: float  # share of the sends (after each room's first) that the pacing held back

    @property
    def server_ms_per_message(self) -> float:
        """Server CPU per relayed message: less sensitive to other load on the machine than latency."""
        return self.server_cpu * 1000 / self.load.rate if self.load.rate > 0 else math.nan

    @property
    def pacing_bound(self) -> bool:
        """The pacing, not the server, was the limit: it held back most sends."""
        return self.held >= 0.5


async def exchange(
    pairs: Sequence[Pair], server_cpu: Callable[[], float], *, rounds: int, rate: float, seconds: float
) -> Phase:
    """All pairs play at once; one Load for the whole phase (every relayed message is one sample)."""
    load = Load()
    for pair in pairs:
        pair.sink, pair.sends, pair.held = load, 0, 0
    server_before, client_before = server_cpu(), time.process_time()
    started = time.perf_counter()
    # The rooms' first sends are spread over one period, so the paced load is smooth, not a burst per period.
    stagger = 1 / rate / len(pairs)
    await asyncio.gather(
        *(pair.play(rounds, rate, started + i * stagger, started + seconds) for i, pair in enumerate(pairs))
    )
    load.elapsed = time.perf_counter() - started
    server, client = server_cpu() - server_before, time.process_time() - client_before
    await asyncio.sleep(0.2)  # stragglers land in this phase's sink, not the next one's
    later_sends = sum(max(pair.sends - 1, 0) for pair in pairs)
    held = sum(pair.held for pair in pairs) / later_sends if later_sends else math.nan
    return Phase(load, server / load.elapsed, client / load.elapsed, held)


@dataclass(frozen=True)
class Figures:
    paced: Phase
    full: Phase  # the median of the flat-out runs
    full_runs: Sequence[Phase]


@dataclass(frozen=True)
class Side:
    """One server under test with its connected pairs."""

    name: str
    pairs: Sequence[Pair]
    server_cpu: Callable[[], float]

    async def phase(self, *, rounds: int, rate: float, seconds: float) -> Phase:
        phase = await exchange(self.pairs, self.server_cpu, rounds=rounds, rate=rate, seconds=seconds)
        await asyncio.sleep(LIMIT_WINDOW)  # the limiter's window empties before the next phase
        return phase


async def measure(vibue: Side, bare: Side) -> tuple[Figures, Figures]:
    """Both servers run side by side; their phases take turns (V R, R V, V R …), so a slow spell
    of the machine (other guests on the host, a CPU's clock) falls on both about equally, and each
    side's flat-out figure is the median of FULL_REPEATS runs."""
    for side in (vibue, bare):
        await side.phase(rounds=WARMUP_ROUNDS, rate=PACED_RATE, seconds=PACED_SECONDS)
    paced = {
        side.name: await side.phase(rounds=PACED_ROUNDS, rate=PACED_RATE, seconds=PACED_SECONDS)
        for side in (vibue, bare)
    }
    full: dict[str, list[Phase]] = {vibue.name: [], bare.name: []}
    for repeat in range(FULL_REPEATS):
        for side in (vibue, bare) if repeat % 2 == 0 else (bare, vibue):
            full[side.name].append(await side.phase(rounds=FULL_ROUNDS, rate=FULL_RATE, seconds=FULL_SECONDS))

    def figures(side: Side) -> Figures:
        return Figures(paced[side.name], median_phase(full[side.name]), full[side.name])

    return figures(vibue), figures(bare)


def median_phase(runs: Sequence[Phase]) -> Phase:
    """The run with the median server CPU per message (its other figures come with it)."""
    return sorted(runs, key=lambda phase: phase.server_ms_per_message)[len(runs) // 2]


@contextlib.asynccontextmanager
async def endpoints(count: int) -> AsyncIterator[list[Endpoint]]:
    ends = [Endpoint() for _ in range(count)]
    try:
        yield ends
    finally:
        await asyncio.gather(*(end.close() for end in ends))


# --- ViBü -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rooms:
    appointment_ids: list[int]
    join_tokens: list[str]
    admin_cookie: str


async def create_rooms(database_url: str, secret: str, count: int) -> Rooms:
    """Video appointments starting in five minutes, each with a checked-in citizen who verified the
    code (as tests/signaling/test_scale_out.py does it), and one admin session: straight into the database."""
    now = datetime.now(UTC)
    engine = make_engine(database_url)
    try:
        async with make_sessionmaker(engine).begin() as session:
            admin = await session.scalar(select(Staff).where(Staff.username == ADMIN))
            if admin is None:
                raise RuntimeError("the demo admin is missing")
            seats = await add_checked_in_citizens(
                session, count=count, now=now, expires=now + timedelta(hours=1), secret=secret
            )
            ids = [seat.appointment_id for seat in seats]
            tokens = [seat.join_token for seat in seats]
            cookie = await staff_sessions.open_session(session=session, staff=admin, now=now, hours=1)
        return Rooms(ids, tokens, cookie)
    finally:
        await engine.dispose()


async def vibue_pair(base_url: str, rooms: Rooms, index: int, clerk: Endpoint, citizen: Endpoint) -> Pair:
    """The citizen connects and waits; an admin connection joins the room and admits them."""
    appointment_id = rooms.appointment_ids[index]
    waiting, admitted = citizen.expect("waiting"), citizen.expect("admitted")
    await citizen.connect(base_url, auth={"join_token": rooms.join_tokens[index]}, headers={})
    await asyncio.wait_for(waiting, SETUP_TIMEOUT)
    await clerk.connect(base_url, auth={}, headers={"Cookie": f"{staff_sessions.COOKIE}={rooms.admin_cookie}"})
    joined = await clerk.call("room.join", {"appointment_id": appointment_id})
    if not joined.get("ok"):
        raise RuntimeError(f"room.join refused: {joined}")
    let_in = await clerk.call("admit", {"appointment_id": appointment_id})
    if not let_in.get("ok"):
        raise RuntimeError(f"admit refused: {let_in}")
    room = (await asyncio.wait_for(admitted, SETUP_TIMEOUT))["room"]
    return Pair(caller=clerk, callee=citizen, caller_to=int(room["me"]), callee_to=int(joined["room"]["me"]))


@contextlib.asynccontextmanager
async def vibue_side(workdir: Path) -> AsyncIterator[Side]:
    port = free_port()
    secret = secrets.token_urlsafe(48)
    database_url = f"sqlite+aiosqlite:///{workdir / 'vibue.sqlite3'}"
    env = child_env(
        {
            "VIBUE_DATA_DIR": str(workdir / "vibue-data"),
            "VIBUE_DATABASE_URL": database_url,
            "VIBUE_PORT": str(port),
            "VIBUE_HOST": "127.0.0.1",
            "VIBUE_SECRET_KEY": secret,
            "VIBUE_RETENTION_INTERVAL_HOURS": "0",
            "VIBUE_MAIL_TRANSPORT": "file",
            "VIBUE_LOG_LEVEL": "WARNING",
            "VIBUE_SEED_DEMO": "true",
        }
    )
    async with serving_process([sys.executable, "run.py"], env, port, workdir / "vibue.log") as served:
        rooms = await create_rooms(database_url, secret, ROOMS)  # after the first start migrated and seeded
        async with endpoints(2 * ROOMS) as ends:
            pairs = await asyncio.gather(
                *(vibue_pair(served.base_url, rooms, i, ends[2 * i], ends[2 * i + 1]) for i in range(ROOMS))
            )
            yield Side("ViBü", pairs, lambda: cpu_seconds(served.process))


# --- the bare relay ---------------------------------------------------------------------------------


async def relay_pair(base_url: str, index: int, caller: Endpoint, callee: Endpoint) -> Pair:
    for end in (caller, callee):
        await end.connect(base_url, auth={}, headers={})
        answer = await end.call("join", {"room": f"room-{index}"})
        if not answer.get("ok"):
            raise RuntimeError(f"join refused: {answer}")
    # The relay ignores "to"; the payloads stay byte for byte the shape ViBü gets.
    return Pair(caller=caller, callee=callee, caller_to=2 * index + 2, callee_to=2 * index + 1)


@contextlib.asynccontextmanager
async def relay_side(workdir: Path) -> AsyncIterator[Side]:
    port = free_port()
    env = child_env({"BENCH_PORT": str(port)})
    argv = [sys.executable, "-m", "bench.common", "relay"]
    async with serving_process(argv, env, port, workdir / "relay.log") as served, endpoints(2 * ROOMS) as ends:
        pairs = await asyncio.gather(
            *(relay_pair(served.base_url, i, ends[2 * i], ends[2 * i + 1]) for i in range(ROOMS))
        )
        yield Side("relay", pairs, lambda: cpu_seconds(served.process))


# --- report -----------------------------------------------------------------------------------------

BASELINE_TEXT = """\
  bare relay      python-socketio AsyncServer on aiohttp as a subprocess (python -m bench.common relay),
                  same transport settings, no auth, no validation, no database: `join` {"room"} puts a
                  client in a room, `signal` goes to the room's other member as it came, plus "from\""""

HEADER = f"""\
ViBü signaling benchmark ({machine()})

What is measured:
  ViBü            the real app, `python run.py` as a subprocess on SQLite in a temp dir: {ROOMS} video
                  appointments starting in 5 minutes with checked-in citizens and one admin session put
                  into the database; per room the citizen connects with a join token and waits, an admin
                  connection (session cookie) sends room.join and admit. Every `signal` then passes ViBü's
                  gate (rate limit, size, pydantic schema, staff session and membership from the
                  process's copies, signaling/membership_cache.py) before it is relayed to the
                  addressed participant
{BASELINE_TEXT}
  load            {ROOMS} rooms × 2 Socket.IO clients (WebSocket) in this one process. In each room the
                  admin/first client sends a `signal`, the citizen/second client answers it on receipt:
                  one round trip = 2 relayed messages, one at a time per room, all rooms at once. Every
                  {SDP_EVERY}th round trip is an SDP offer/answer ({size("offer")} bytes of JSON), the others ICE
                  candidates ({size("candidate")} bytes); all valid per signaling/payloads.py
  paced           {PACED_ROUNDS} round trips per room, a send at most every {1000 / PACED_RATE:.0f} ms per connection
                  ({2 * PACED_RATE * ROOMS:.0f} messages/s offered in all): latency under a light load
  flat out        up to {FULL_ROUNDS} round trips per room or {FULL_SECONDS:.0f} s, the next send as soon as the answer
                  is in, but at most {FULL_RATE:.0f} sends/s per connection, since ViBü allows 100 events per 2 s
                  per connection: {2 * FULL_RATE * ROOMS:.0f} messages/s offered at most
Both servers run side by side and take turns: each first plays {WARMUP_ROUNDS} unmeasured round trips per
room, then its paced phase, then {FULL_REPEATS} flat-out runs each, alternating (ViBü, relay, relay, ViBü,
…) so that a slow spell of the machine falls on both; the flat-out figures are each side's run with
the median server CPU per message. Every phase is followed by a {LIMIT_WINDOW} s pause (the limiter's
window empties). latency = one-way, from just before the sender's emit to the
receiver's handler, both in this process (time.perf_counter_ns carried in the candidate's
foundation and the SDP's o= line); msgs/s = relayed messages received per second of the phase;
server CPU ms/msg = the server process's CPU time (user + system, /proc) over the phase ÷ messages.
ratio = ViBü's cost in units of the bare relay's: latency ViBü ÷ relay, throughput relay ÷ ViBü;
so 3.0× means a message takes three times as long through ViBü. * = the pacing held back most
sends (the answer was in before the next send was due), so the pacing, not the server, set the
pace: when only the relay shows *, its msgs/s and the throughput ratio are floors (≥).
"""


def fmt(value: float, digits: int = 1) -> str:
    return "n/a" if math.isnan(value) else f"{value:.{digits}f}"


def ratio(cost: float, baseline_cost: float, *, floor: bool = False) -> str:
    if math.isnan(cost) or math.isnan(baseline_cost) or baseline_cost <= 0:
        return "n/a"
    return f"{'≥ ' if floor else ''}{cost / baseline_cost:.1f}×"


def report(vibue: Figures, bare: Figures) -> str:
    rows: list[list[str]] = []
    groups = [("paced", vibue.paced, bare.paced), ("flat out", vibue.full, bare.full)]
    for name, ours, theirs in groups:
        o, t = ours.load, theirs.load
        rows.append([f"{name}: relay latency p50 ms", fmt(o.p50_ms, 2), fmt(t.p50_ms, 2), ratio(o.p50_ms, t.p50_ms)])
        rows.append([f"{name}: relay latency p99 ms", fmt(o.p99_ms, 2), fmt(t.p99_ms, 2), ratio(o.p99_ms, t.p99_ms)])
        floor = theirs.pacing_bound and not ours.pacing_bound
        rows.append(
            [
                f"{name}: msgs/s",
                fmt(o.rate) + (" *" if ours.pacing_bound else "  "),
                fmt(t.rate) + (" *" if theirs.pacing_bound else "  "),
                ratio(t.rate, o.rate, floor=floor),
            ]
        )
        rows.append(
            [
                f"{name}: server CPU ms/msg",
                fmt(ours.server_ms_per_message, 3),
                fmt(theirs.server_ms_per_message, 3),
                ratio(ours.server_ms_per_message, theirs.server_ms_per_message),
            ]
        )
    lines = [table(["measure", "ViBü", "bare relay", "ratio (ViBü cost ÷ relay)"], rows)]
    lines += goals(vibue, bare)
    for side, figures in (("ViBü", vibue), ("relay", bare)):
        runs = ", ".join(fmt(run.server_ms_per_message, 3) for run in figures.full_runs)
        lines.append(f"  flat out, {side}: server CPU ms/msg of each run in turn: {runs}")
    for name, ours, theirs in groups:
        for side, phase in (("ViBü", ours), ("relay", theirs)):  # flat out: the median run
            load = phase.load
            lines.append(
                f"  {name}, {side}: {load.ok} messages in {load.elapsed:.1f} s, other outcomes: {load.failures()}; "
                f"held back by the pacing: {phase.held:.0%} of the sends; "
                f"CPU: server {phase.server_cpu:.0%}, clients {phase.client_cpu:.0%} of a core"
            )
    return "\n".join(lines)


# Goals of issue 8, flat out: server CPU per message at most 1.5× the bare relay's, throughput at
# least 0.8× the bare relay's (both measured in this run).
CPU_GOAL = 1.5
THROUGHPUT_GOAL = 0.8


def goals(vibue: Figures, bare: Figures) -> list[str]:
    """The goal lines: each figure, its ratio to the bare relay and whether the goal is met."""
    cpu = _quotient(vibue.full.server_ms_per_message, bare.full.server_ms_per_message)
    rate = _quotient(vibue.full.load.rate, bare.full.load.rate)
    floor = " (the relay was held back by the pacing: ≥ what it shows)" if bare.full.pacing_bound else ""

    def verdict(met: bool) -> str:
        return "met" if met else "NOT met"

    return [
        f"goal, flat out: server CPU ms/msg ViBü {fmt(vibue.full.server_ms_per_message, 3)} ÷ relay "
        f"{fmt(bare.full.server_ms_per_message, 3)} = {fmt(cpu, 2)}× (goal ≤ {CPU_GOAL}×: {verdict(cpu <= CPU_GOAL)})",
        f"goal, flat out: msgs/s ViBü {fmt(vibue.full.load.rate)} ÷ relay {fmt(bare.full.load.rate)} = "
        f"{fmt(rate, 2)}× (goal ≥ {THROUGHPUT_GOAL}×: {verdict(rate >= THROUGHPUT_GOAL)}){floor}",
    ]


def _quotient(a: float, b: float) -> float:
    return a / b if b > 0 else math.nan


async def run() -> int:
    task = asyncio.current_task()
    if task is not None:  # SIGTERM cleans up like Ctrl-C does: the finally blocks stop servers, remove the temp dir
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    print(HEADER, flush=True)
    with tempfile.TemporaryDirectory(prefix="vibue-bench-signaling-") as tmp:
        workdir = Path(tmp)
        try:
            async with vibue_side(workdir) as ours, relay_side(workdir) as theirs:
                vibue, bare = await measure(ours, theirs)
        except (ServerFailed, RuntimeError, TimeoutError, socketio.exceptions.SocketIOError) as exc:
            print(f"FAILED: {type(exc).__name__}: {exc}", flush=True)
            return 1
    print(report(vibue, bare) + "\n", flush=True)
    if any(set(p.load.outcomes) - {OK} for f in (vibue, bare) for p in (f.paced, f.full)):
        # The load is valid and paced below every limit: anything but a relayed message is a fault.
        print("FAILED: not every message was relayed (see the other outcomes above)", flush=True)
        return 1
    return 0


def main() -> int:
    try:
        return asyncio.run(run())
    except KeyboardInterrupt:
        print("interrupted; servers stopped, temp dir removed", file=sys.stderr)
        return 130
    except asyncio.CancelledError:  # SIGTERM, see run()
        print("terminated; servers stopped, temp dir removed", file=sys.stderr)
        return 143


if __name__ == "__main__":
    sys.exit(main())
