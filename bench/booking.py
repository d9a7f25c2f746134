"""Booking benchmark: free-slot search latency and bookings per second, next to a bare baseline.

Run with `make bench`. For SQLite and PostgreSQL in turn it starts the real app (`python run.py`)
as a subprocess on a fresh database, drives it over HTTP on 127.0.0.1, stops it, then drives a
bare aiohttp + SQLAlchemy app (bench.common.baseline_app) on the same database with the same
client loop, counts and concurrency, and prints both side by side with their ratio.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import signal
import sys
import tempfile
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

from bench.common import (
    HOST,
    OK,
    Load,
    ServerFailed,
    child_env,
    free_port,
    in_ci,
    machine,
    pg_database,
    pg_unreachable,
    run_load,
    serving,
    table,
)

SEARCH_OFFER = ("buergeramt-virtuell", "an-ummeldung", "bv-video")
WARMUP = 20
SEQUENTIAL = 300  # slot searches, one client
SEQUENTIAL_SECONDS = 15.0
CLIENTS = 8
CONCURRENT = 400  # slot searches, CLIENTS clients
CONCURRENT_SECONDS = 15.0
BOOKINGS = 300  # reservations, CLIENTS clients
BOOKING_SECONDS = 20.0
# Slots this close to now could fall under the app's minimum lead time while the run lasts.
LEAD_MARGIN = timedelta(hours=2)
VERY_HIGH = "1000000"

# Plain (not formatted) on purpose: text mentioning SQL inside an f-string looks like an injection to ruff.
BASELINE_TEXT = """\
  bare baseline   aiohttp with two handlers and nothing else, as a subprocess on the same database
                  and engine settings: GET runs one `SELECT 1` through SQLAlchemy and returns fixed
                  JSON, POST inserts one row into a scratch table in a transaction"""

HEADER = f"""\
ViBü booking benchmark ({machine()})

What is measured, per database backend (SQLite in a temp dir, then a fresh PostgreSQL database):
  ViBü            the real app, `python run.py` as a subprocess: middleware, validation, ORM, domain
                  services and its mail queue (file outbox), demo catalog seeded, rate limits lifted
{BASELINE_TEXT}
  slot search     GET /api/slots for {SEARCH_OFFER[1]} at {SEARCH_OFFER[2]}, 7 days, on an empty schedule:
                  {SEQUENTIAL} requests from 1 client, then {CONCURRENT} from {CLIENTS} concurrent clients
                  (baseline: GET /read with the same query string)
  booking         POST /api/reservations from {CLIENTS} concurrent clients, each with a distinct email and a
                  distinct free slot spread over several concerns, locations and days; up to {BOOKINGS}
                  or {BOOKING_SECONDS:.0f} s (baseline: POST /write with the same JSON body)
Both sides first get {WARMUP} unmeasured searches from 1 client and {WARMUP * CLIENTS} from {CLIENTS}, then the same
aiohttp client loop (one keep-alive connection per client, time.perf_counter around each request
including its body). p50/p99 are over successful answers (200/201); req/s = successful answers per
second of wall-clock time. The baseline runs are short, so its p99 is the noisiest figure.
ratio = ViBü's cost in units of the baseline's: latency ViBü ÷ baseline, throughput baseline ÷ ViBü;
so 3.0× means ViBü needs three times as long per request as bare aiohttp + SQLAlchemy.
"""


@dataclass(frozen=True)
class Offer:
    unit_id: int
    concern_id: int
    location_id: int
    label: str

    def slot_query(self, first_day: date | None = None, days: int = 7) -> str:
        query = f"unit={self.unit_id}&concern={self.concern_id}&location={self.location_id}&days={days}"
        return query + (f"&from={first_day.isoformat()}" if first_day else "")


@dataclass(frozen=True)
class Booking:
    offer: Offer
    start: str


@dataclass(frozen=True)
class Side:
    """One server under test: where its two endpoints are."""

    slot_path: str
    post_path: str


@dataclass(frozen=True)
class Figures:
    sequential: Load
    concurrent: Load
    booking: Load


async def get_json(session: aiohttp.ClientSession, path: str) -> Any:
    async with session.get(path) as response:
        if response.status != 200:
            raise RuntimeError(f"GET {path}: {response.status} {await response.text()}")
        return await response.json()


async def discover(session: aiohttp.ClientSession) -> tuple[Offer, list[Offer]]:
    """The offer to search, and for booking one concern per (unit, location): capacity counts per pair,
    so the grid of one concern per pair never puts two bookings on the same clerk."""
    search: Offer | None = None
    by_pair: dict[tuple[int, int], Offer] = {}
    for unit in (await get_json(session, "/api/units"))["units"]:
        concerns = await get_json(session, f"/api/units/{unit['id']}/concerns")
        for concern in concerns["concerns"]:
            path = f"/api/units/{unit['id']}/concerns/{concern['id']}/locations"
            for location in (await get_json(session, path))["locations"]:
                offer = Offer(
                    unit["id"], concern["id"], location["id"], f"{unit['slug']}/{concern['slug']}@{location['slug']}"
                )
                by_pair.setdefault((unit["id"], location["id"]), offer)
                if (unit["slug"], concern["slug"], location["slug"]) == SEARCH_OFFER:
                    search = offer
    if search is None:
        raise RuntimeError(f"the demo catalog has no offer {'/'.join(SEARCH_OFFER)}")
    return search, list(by_pair.values())


async def bookable(session: aiohttp.ClientSession, offers: Sequence[Offer], want: int) -> list[Booking]:
    """Free slots over the whole horizon, taken round-robin across the offers (spreads the location locks)."""
    earliest = datetime.now(UTC) + LEAD_MARGIN
    per_offer: list[list[Booking]] = []
    for offer in offers:
        found: list[Booking] = []
        first_day: date | None = None
        while len(found) < want:
            answer = await get_json(session, f"/api/slots?{offer.slot_query(first_day, days=31)}")
            if not answer["days"]:
                break
            found += [
                Booking(offer, slot["start"])
                for day in answer["days"]
                for slot in day["slots"]
                if datetime.fromisoformat(slot["start"]) >= earliest
            ]
            first_day = date.fromisoformat(answer["days"][-1]["date"]) + timedelta(days=1)
        per_offer.append(found)
    spread = [b for group in itertools.zip_longest(*per_offer) for b in group if b is not None]
    return spread[:want]


def reservation_body(booking: Booking, index: int, backend: str) -> dict[str, Any]:
    return {
        "unit_id": booking.offer.unit_id,
        "concern_id": booking.offer.concern_id,
        "location_id": booking.offer.location_id,
        "start": booking.start,
        "name": "Erika Mustermann",
        "email": f"bench-{backend}-{index}@example.org",
        "phone": "06221 58-0",
        "privacy_consent": True,
        "lang": "de",
    }


async def fetch_csrf(session: aiohttp.ClientSession) -> None:
    """Any GET hands out the vibue_csrf cookie (the baseline hands out none; it needs none)."""
    async with session.get("/healthz") as response:
        await response.read()


def csrf_header(session: aiohttp.ClientSession) -> dict[str, str]:
    token = next((m.value for m in session.cookie_jar if m.key == "vibue_csrf"), "")
    return {"X-CSRF-Token": token}


async def outcome(response: aiohttp.ClientResponse, expected: int) -> str:
    body = await response.read()
    if response.status == expected:
        return OK
    try:
        code = (await response.json())["error"]["code"]
    except (ValueError, KeyError, TypeError, aiohttp.ContentTypeError):
        code = body[:60].decode(errors="replace")
    return f"{response.status} {code}"


async def measure(base_url: str, side: Side, bodies: Sequence[dict[str, Any]]) -> Figures:
    async def search(session: aiohttp.ClientSession, _index: int) -> str:
        async with session.get(side.slot_path) as response:
            return await outcome(response, 200)

    async def book(session: aiohttp.ClientSession, index: int) -> str:
        async with session.post(side.post_path, json=bodies[index], headers=csrf_header(session)) as response:
            return await outcome(response, 201)

    # Warm up with the clients of the concurrent run too, so both pools hold their connections before timing.
    await run_load(base_url, search, total=WARMUP, clients=1, seconds=10)
    await run_load(base_url, search, total=WARMUP * CLIENTS, clients=CLIENTS, seconds=10)
    sequential = await run_load(base_url, search, total=SEQUENTIAL, clients=1, seconds=SEQUENTIAL_SECONDS)
    concurrent = await run_load(base_url, search, total=CONCURRENT, clients=CLIENTS, seconds=CONCURRENT_SECONDS)
    booking = await run_load(
        base_url, book, total=len(bodies), clients=CLIENTS, seconds=BOOKING_SECONDS, prepare=fetch_csrf
    )
    return Figures(sequential, concurrent, booking)


def vibue_env(database_url: str, data_dir: Path, port: int) -> dict[str, str]:
    return child_env(
        {
            "VIBUE_DATA_DIR": str(data_dir),
            "VIBUE_DATABASE_URL": database_url,
            "VIBUE_PORT": str(port),
            "VIBUE_HOST": HOST,
            "VIBUE_RATE_LIMIT_RESERVATIONS": VERY_HIGH,
            "VIBUE_RATE_LIMIT_MAILS": VERY_HIGH,
            "VIBUE_MAIL_TRANSPORT": "file",
            "VIBUE_LOG_LEVEL": "WARNING",
            "VIBUE_SEED_DEMO": "true",
        }
    )


async def bench_backend(backend: str, database_url: str, workdir: Path) -> tuple[Figures, Figures, str]:
    """Measure ViBü, stop it, then measure the baseline on the same database; returns both and a note."""
    port = free_port()
    env = vibue_env(database_url, workdir / "vibue-data", port)
    async with serving([sys.executable, "run.py"], env, port, workdir / "vibue.log") as base_url:
        async with aiohttp.ClientSession(base_url=base_url) as session:
            search, offers = await discover(session)
            bookings = await bookable(session, offers, BOOKINGS)
        bodies = [reservation_body(b, i, backend) for i, b in enumerate(bookings)]
        vibue = await measure(base_url, Side(f"/api/slots?{search.slot_query()}", "/api/reservations"), bodies)
    note = f"{len(bodies)} distinct slots across {len({b.offer for b in bookings})} offers"
    if len(bodies) < BOOKINGS:
        note += f" (fewer than the {BOOKINGS} wanted: the demo catalog has no more free slots)"

    port = free_port()
    env = child_env({"BENCH_DATABASE_URL": database_url, "BENCH_PORT": str(port)})
    argv = [sys.executable, "-m", "bench.common", "baseline"]
    async with serving(argv, env, port, workdir / "baseline.log") as base_url:
        bare = await measure(base_url, Side(f"/read?{search.slot_query()}", "/write"), bodies)
    return vibue, bare, note


def fmt(value: float, digits: int = 1) -> str:
    return "n/a" if math.isnan(value) else f"{value:.{digits}f}"


def ratio(cost: float, baseline_cost: float) -> str:
    if math.isnan(cost) or math.isnan(baseline_cost) or baseline_cost <= 0:
        return "n/a"
    return f"{cost / baseline_cost:.1f}×"


def report(backend: str, vibue: Figures, bare: Figures, note: str) -> str:
    rows: list[list[str]] = []
    groups = [
        ("slot search, 1 client", vibue.sequential, bare.sequential, "req/s"),
        (f"slot search, {CLIENTS} clients", vibue.concurrent, bare.concurrent, "req/s"),
        (f"booking, {CLIENTS} clients", vibue.booking, bare.booking, "bookings/s"),
    ]
    for name, ours, theirs, unit in groups:
        rows.append(
            [backend, f"{name}: p50 ms", fmt(ours.p50_ms, 2), fmt(theirs.p50_ms, 2), ratio(ours.p50_ms, theirs.p50_ms)]
        )
        rows.append(
            [backend, f"{name}: p99 ms", fmt(ours.p99_ms, 2), fmt(theirs.p99_ms, 2), ratio(ours.p99_ms, theirs.p99_ms)]
        )
        rows.append([backend, f"{name}: {unit}", fmt(ours.rate), fmt(theirs.rate), ratio(theirs.rate, ours.rate)])
    lines = [
        table(["backend", "measure", "ViBü", "bare baseline", "ratio (ViBü cost ÷ baseline)"], rows, text_columns=2)
    ]
    for name, ours, theirs, _ in groups:
        lines.append(
            f"  {name}: ViBü {ours.ok} ok in {ours.elapsed:.1f} s, other answers: {ours.failures()}; "
            f"baseline {theirs.ok} ok in {theirs.elapsed:.1f} s, other answers: {theirs.failures()}"
        )
    lines.append(f"  booking input: {note}")
    return "\n".join(lines)


async def run() -> int:
    task = asyncio.current_task()
    if task is not None:  # SIGTERM cleans up like Ctrl-C does: the finally blocks stop servers, drop databases
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    print(HEADER, flush=True)
    unreachable = await pg_unreachable()
    if unreachable and in_ci():
        print(f"PostgreSQL on 127.0.0.1:5432 is unreachable ({unreachable}); CI=true requires it.", flush=True)
        return 1
    failed = False
    with tempfile.TemporaryDirectory(prefix="vibue-bench-") as tmp:
        workdir = Path(tmp)
        backends: list[tuple[str, Path]] = [("sqlite", workdir / "sqlite"), ("postgresql", workdir / "postgresql")]
        for backend, folder in backends:
            folder.mkdir()
            try:
                if backend == "sqlite":
                    url = f"sqlite+aiosqlite:///{folder / 'vibue.sqlite3'}"
                    vibue, bare, note = await bench_backend(backend, url, folder)
                elif unreachable:
                    print(f"postgresql: SKIPPED, PostgreSQL on 127.0.0.1:5432 is unreachable ({unreachable})\n")
                    continue
                else:
                    async with pg_database(f"vibue_bench_{uuid.uuid4().hex[:12]}") as url:
                        vibue, bare, note = await bench_backend(backend, url, folder)
            except ServerFailed as exc:
                print(f"{backend}: FAILED, {exc}\n", flush=True)
                failed = True
                continue
            print(report(backend, vibue, bare, note) + "\n", flush=True)
    return 1 if failed else 0


def main() -> int:
    try:
        return asyncio.run(run())
    except KeyboardInterrupt:
        print("interrupted; servers stopped, scratch database dropped, temp dir removed", file=sys.stderr)
        return 130
    except asyncio.CancelledError:  # SIGTERM, see run()
        print("terminated; servers stopped, scratch database dropped, temp dir removed", file=sys.stderr)
        return 143


if __name__ == "__main__":
    sys.exit(main())
