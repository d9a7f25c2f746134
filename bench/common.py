"""Shared benchmark helpers: a bounded load loop, percentiles, tables, servers as subprocesses.

Also the bare baseline server (`python -m bench.common baseline`): aiohttp with two handlers and
nothing of ViBü's stack, on the same database URL and engine settings, so a ratio against it
shows what ViBü's HTTP, validation and domain layers cost on top of aiohttp and SQLAlchemy.
And the bare Socket.IO relay (`python -m bench.common relay`): python-socketio on aiohttp with no
auth, no validation and no database, the yardstick for bench/signaling.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import platform
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import socketio
import sqlalchemy
from aiohttp import web
from sqlalchemy import Column, Integer, MetaData, Table, Text, insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from vibue.core.db import make_engine
from vibue.core.references import new_manage_token, new_reference, token_hash
from vibue.models import Appointment, CallParticipant, Concern, Location, ServiceUnit
from vibue.video import join_tokens

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
# The same local server the tests use; benchmarks never talk to anything but 127.0.0.1.
PG_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/test"
PG_URL_BASE = "postgresql+asyncpg://postgres@127.0.0.1:5432"
REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=30)
OK = "ok"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def machine() -> str:
    return (
        f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"aiohttp {aiohttp.__version__}, SQLAlchemy {sqlalchemy.__version__}"
    )


# --- figures ---------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) with linear interpolation between ranks; NaN when empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass
class Load:
    """What one bounded load run saw: latencies of successful requests and every outcome counted."""

    latencies: list[float] = field(default_factory=list)  # seconds, successful requests only
    outcomes: Counter[str] = field(default_factory=Counter)
    elapsed: float = 0.0

    @property
    def ok(self) -> int:
        return self.outcomes[OK]

    @property
    def p50_ms(self) -> float:
        return percentile(self.latencies, 50) * 1000

    @property
    def p99_ms(self) -> float:
        return percentile(self.latencies, 99) * 1000

    @property
    def rate(self) -> float:
        """Successful requests per second of wall-clock time."""
        return self.ok / self.elapsed if self.elapsed > 0 else math.nan

    def failures(self) -> str:
        others = {k: v for k, v in sorted(self.outcomes.items()) if k != OK}
        return ", ".join(f"{v} × {k}" for k, v in others.items()) or "none"


Request = Callable[[aiohttp.ClientSession, int], Awaitable[str]]
Prepare = Callable[[aiohttp.ClientSession], Awaitable[None]]


async def run_load(
    base_url: str,
    request: Request,
    *,
    total: int,
    clients: int,
    seconds: float,
    prepare: Prepare | None = None,
) -> Load:
    """Send up to `total` requests from `clients` concurrent clients, stopping after `seconds`.

    Each client has its own session (one keep-alive connection, its own cookie jar); `request`
    gets the session and a run-wide index and returns OK or a label for the outcome. Requests
    are numbered from one shared counter, so every index is used at most once.
    """
    load = Load()
    counter = iter(range(total))
    sessions = [
        aiohttp.ClientSession(
            base_url=base_url,
            timeout=REQUEST_TIMEOUT,
            connector=aiohttp.TCPConnector(limit=1),
            cookie_jar=aiohttp.CookieJar(unsafe=True),  # cookies for a bare IP address
        )
        for _ in range(clients)
    ]
    try:
        if prepare is not None:
            for session in sessions:
                await prepare(session)
        started = time.perf_counter()
        deadline = started + seconds

        async def client(session: aiohttp.ClientSession) -> None:
            for index in counter:
                if time.perf_counter() >= deadline:
                    return
                before = time.perf_counter()
                try:
                    outcome = await request(session, index)
                except (aiohttp.ClientError, TimeoutError) as exc:
                    outcome = f"client error {type(exc).__name__}"
                if outcome == OK:
                    load.latencies.append(time.perf_counter() - before)
                load.outcomes[outcome] += 1

        await asyncio.gather(*(client(s) for s in sessions))
        load.elapsed = time.perf_counter() - started
    finally:
        for session in sessions:
            await session.close()
    return load


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], *, text_columns: int = 1) -> str:
    """A plain text table: the first `text_columns` columns left-aligned, the others (figures) right-aligned."""
    widths = [max(len(str(row[i])) for row in [headers, *rows]) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        parts = [
            str(c).ljust(w) if i < text_columns else str(c).rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return " | ".join(parts)

    rule = "-+-".join("-" * w for w in widths)
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])


# --- servers as subprocesses -------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def child_env(extra: dict[str, str]) -> dict[str, str]:
    """The environment for a server: ours without any VIBUE_* leaking in, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIBUE_")}
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra)
    return env


def tail(path: Path, lines: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def stop(process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """Terminate (SIGTERM), then kill when it does not exit in time; always reaps the child."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=timeout)


def spawn(argv: Sequence[str], env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    """Start a child in the project root with its output in `log_path` (Popen returns at once)."""
    with log_path.open("wb") as log:
        return subprocess.Popen(list(argv), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


class ServerFailed(RuntimeError):
    """A benchmarked server did not come up."""


@dataclass(frozen=True)
class Served:
    """A server started by `serving_process`: where it answers and its process (to read its CPU time)."""

    base_url: str
    process: subprocess.Popen[bytes]


def cpu_seconds(process: subprocess.Popen[bytes]) -> float:
    """CPU time (user + system, all threads) the running process has used so far; NaN off Linux."""
    try:
        fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return math.nan
    # Fields 14 and 15 of proc_pid_stat(5), counted from the state (field 3) after the command name.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.asynccontextmanager
async def serving(
    argv: Sequence[str], env: dict[str, str], port: int, log_path: Path, *, ready_timeout: float = 60.0
) -> AsyncIterator[str]:
    """Start a server as a subprocess, wait until GET /healthz answers 200, yield its base URL, stop it."""
    async with serving_process(argv, env, port, log_path, ready_timeout=ready_timeout) as served:
        yield served.base_url


@contextlib.asynccontextmanager
async def serving_process(
    argv: Sequence[str], env: dict[str, str], port: int, log_path: Path, *, ready_timeout: float = 60.0
) -> AsyncIterator[Served]:
    """`serving`, yielding the process too."""
    base_url = f"http://{HOST}:{port}"
    process = spawn(argv, env, log_path)
    try:
        deadline = time.monotonic() + ready_timeout
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
            while True:
                if process.poll() is not None:
                    raise ServerFailed(f"{argv[-1]} exited with {process.returncode}:\n{tail(log_path)}")
                if time.monotonic() > deadline:
                    raise ServerFailed(f"{argv[-1]} not ready after {ready_timeout:.0f} s:\n{tail(log_path)}")
                try:
                    async with session.get(f"{base_url}/healthz") as response:
                        if response.status == 200:
                            break
                except (aiohttp.ClientError, TimeoutError):
                    pass
                await asyncio.sleep(0.1)
        try:
            yield Served(base_url, process)
        except (aiohttp.ClientError, TimeoutError) as exc:
            if process.poll() is not None:
                raise ServerFailed(f"{argv[-1]} exited with {process.returncode} mid-run:\n{tail(log_path)}") from exc
            raise
        if process.poll() is not None:  # figures taken against a dead server are worthless
            raise ServerFailed(f"{argv[-1]} exited with {process.returncode} mid-run:\n{tail(log_path)}")
    finally:
        stop(process)


# --- PostgreSQL scratch databases -----------------------------------------------------------------


async def pg_unreachable() -> str | None:
    """None when the local PostgreSQL answers, else why not."""
    try:
        connection = await asyncpg.connect(PG_ADMIN_DSN, timeout=5)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        return f"{type(exc).__name__}: {exc}"
    await connection.close()
    return None


async def pg_admin(sql: str) -> None:
    connection = await asyncpg.connect(PG_ADMIN_DSN, timeout=10)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@contextlib.asynccontextmanager
async def pg_database(name: str) -> AsyncIterator[str]:
    """Create an empty database, yield its SQLAlchemy URL, drop it (even with clients still connected)."""
    await pg_admin(f'CREATE DATABASE "{name}"')
    try:
        yield f"{PG_URL_BASE}/{name}"
    finally:
        await pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- the bare baseline server -------------------------------------------------------------------

BASELINE_TABLE = Table(
    "bench_baseline",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("email", Text),
    Column("start", Text),
)
BASELINE_ENGINE = web.AppKey("baseline_engine", AsyncEngine)


async def _baseline_read(request: web.Request) -> web.Response:
    async with request.app[BASELINE_ENGINE].connect() as connection:
        await connection.execute(text("SELECT 1"))
    return web.json_response({"status": "ok"})


async def _baseline_write(request: web.Request) -> web.Response:
    body: dict[str, Any] = await request.json()
    async with request.app[BASELINE_ENGINE].begin() as connection:
        await connection.execute(insert(BASELINE_TABLE).values(email=body.get("email"), start=body.get("start")))
    return web.json_response({"status": "inserted"}, status=201)


def baseline_app(database_url: str) -> web.Application:
    """Two handlers, no middleware: GET /read (SELECT 1), POST /write (one INSERT); /healthz = /read."""

    async def database(app: web.Application) -> AsyncIterator[None]:
        # vibue.core.db.make_engine: the same pool and SQLite pragmas as ViBü, so both sides share the database setup.
        engine = make_engine(database_url)
        async with engine.begin() as connection:
            await connection.run_sync(BASELINE_TABLE.metadata.create_all)
        app[BASELINE_ENGINE] = engine
        yield
        await engine.dispose()

    app = web.Application()
    app.cleanup_ctx.append(database)
    app.router.add_get("/healthz", _baseline_read)
    app.router.add_get("/read", _baseline_read)
    app.router.add_post("/write", _baseline_write)
    return app


# --- the bare Socket.IO relay ---------------------------------------------------------------------

# The transport settings of signaling/server.py (WebSocket only, 256 KB frames); not imported from
# there because `python bench/signaling.py` puts bench/ first on sys.path, where `signaling` is that script.
RELAY_FRAME_LIMIT = 256 * 1024


async def _relay_health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def relay_app() -> web.Application:
    """python-socketio on aiohttp, nothing else: `join` {"room"} puts a client in a room (acknowledged),
    `signal` is relayed as it came, plus "from", to the other members of the sender's room."""
    sio = socketio.AsyncServer(
        async_mode="aiohttp",
        transports=["websocket"],
        max_http_buffer_size=RELAY_FRAME_LIMIT,
        logger=False,
        engineio_logger=False,
    )
    app = web.Application()
    sio.attach(app, socketio_path="socket.io")
    app.router.add_get("/healthz", _relay_health)
    joined: dict[str, str] = {}

    async def join(sid: str, data: Any) -> dict[str, bool]:
        joined[sid] = str(data["room"])
        await sio.enter_room(sid, joined[sid])
        return {"ok": True}

    async def signal(sid: str, data: Any) -> None:
        room = joined.get(sid)
        if room is not None:
            await sio.emit("signal", {**data, "from": sid}, room=room, skip_sid=sid)

    async def disconnect(sid: str) -> None:
        joined.pop(sid, None)

    sio.on("join", join)
    sio.on("signal", signal)
    sio.on("disconnect", disconnect)
    return app


def baseline_main(argv: list[str]) -> int:
    if argv == ["relay"]:
        web.run_app(relay_app(), host=HOST, port=int(os.environ["BENCH_PORT"]), print=None, access_log=None)
        return 0
    if argv != ["baseline"]:
        print(
            "usage: python -m bench.common baseline  (env BENCH_DATABASE_URL, BENCH_PORT)\n"
            "       python -m bench.common relay     (env BENCH_PORT)",
            file=sys.stderr,
        )
        return 2
    app = baseline_app(os.environ["BENCH_DATABASE_URL"])
    web.run_app(app, host=HOST, port=int(os.environ["BENCH_PORT"]), print=None, access_log=None)
    return 0


if __name__ == "__main__":
    sys.exit(baseline_main(sys.argv[1:]))


@dataclass(frozen=True)
class CheckedIn:
    """A video appointment in the database with a citizen who verified the code."""

    appointment_id: int
    manage_token: str
    join_token: str


async def add_checked_in_citizens(
    session: AsyncSession, *, count: int, now: datetime, expires: datetime, secret: str
) -> list[CheckedIn]:
    """`count` appointments of the demo's virtual office starting in five minutes (their rooms
    are open), each with a citizen who verified the code: for benchmarks and multi-process tests."""
    unit = await session.scalar(select(ServiceUnit.id).where(ServiceUnit.slug == "buergeramt-virtuell"))
    concern = await session.scalar(select(Concern.id).where(Concern.slug == "an-ummeldung"))
    location = await session.scalar(select(Location.id).where(Location.slug == "bv-video"))
    if not (unit and concern and location):
        raise RuntimeError("the demo catalog is missing")
    return [
        await _add_checked_in_citizen(
            session,
            unit_id=unit,
            concern_id=concern,
            location_id=location,
            index=index,
            now=now,
            expires=expires,
            secret=secret,
        )
        for index in range(count)
    ]


async def _add_checked_in_citizen(
    session: AsyncSession,
    *,
    unit_id: int,
    concern_id: int,
    location_id: int,
    index: int,
    now: datetime,
    expires: datetime,
    secret: str,
) -> CheckedIn:
    manage_token = new_manage_token()
    appointment = Appointment(
        reference=new_reference(),
        manage_token_hash=token_hash(manage_token),
        unit_id=unit_id,
        concern_id=concern_id,
        location_id=location_id,
        channel="video",
        status="checked_in",
        start_at=now + timedelta(minutes=5),
        end_at=now + timedelta(minutes=20),
        citizen_name=f"Bench Citizen {index}",
        citizen_email=f"bench-{index}@example.org",
        created_at=now,
        updated_at=now,
    )
    session.add(appointment)
    await session.flush()
    citizen = CallParticipant(appointment_id=appointment.id, role="citizen", state="waiting", code_verified_at=now)
    session.add(citizen)
    await session.flush()
    claims = join_tokens.JoinClaims(appointment.id, citizen.id, "citizen", expires)
    return CheckedIn(appointment.id, manage_token, join_tokens.issue(secret, claims))
