"""Call set-up benchmark: from the clerk's admit click to the first decoded frame on both sides.

Run with `make bench`. It starts the real app (`python run.py`, SQLite in a temp dir), puts
CALLS + WARMUP video appointments with checked-in, code-verified citizens (join tokens and
booking link secrets kept) and an admin session straight into the database, as
bench/signaling.py does, and drives headless Debian Chromium with fake camera and microphone
through Playwright. Per call: a fresh citizen context opens /video/{token} with the join token
already in sessionStorage (straight to the waiting room), a fresh clerk context signed in by the
session cookie opens /sachbearbeitung, and once the waiting row shows, the clerk clicks
`admit-<id>`. Then both pages are watched until each decodes video.

Everything is measured from outside the page: web/ is not touched. An init script (INSTRUMENT)
timestamps the admit click, watches the page's own `data-connection` and `data-frames-decoded`
attributes (MutationObserver), and wraps RTCPeerConnection to note ICE connected and to poll
getStats every POLL_MS for the first decoded video frame. Socket.IO frames come from
Playwright's `page.on("websocket")` events, timestamped in this process. All clocks are the
machine's wall clock (Date.now() in the pages, time.time() here), so the sides compare.

For reference the same phases are printed for a browser-only baseline: two contexts of the same
browser, one RTCPeerConnection each, SDP handed over by this process with page.evaluate, no server.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import secrets
import signal
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, BrowserContext, Page, WebSocket, async_playwright
from playwright.async_api import Error as PlaywrightError
from sqlalchemy import select

from bench.common import (
    ServerFailed,
    add_checked_in_citizens,
    child_env,
    free_port,
    machine,
    percentile,
    serving_process,
    table,
)
from vibue.core.db import make_engine, make_sessionmaker
from vibue.models import Staff
from vibue.staff import sessions as staff_sessions

CALLS = 10
WARMUP = 1  # one unmeasured call first: the browser's and the server's first-use costs stay out
POLL_MS = 20  # getStats polling for framesDecoded in the pages
READY_TIMEOUT = 20.0  # page open → citizen waiting and the clerk's row shown
CALL_TIMEOUT = 30.0  # admit click → first decoded frame on both sides
ATTRIBUTE_GRACE = 5.0  # then up to this long for the page's own data-frames-decoded (sampled every 2 s)
ADMIN = "a.schmidt"  # a demo admin: serves every room
BASELINE_URL = "http://127.0.0.1:9/baseline"  # answered by page.route in the browser; nothing listens there
CHROMIUM = os.environ.get("VIBUE_CHROMIUM", "/usr/bin/chromium")
# As tests/browser/conftest.py launches it (not imported: that module imports the signaling package,
# and a script in bench/ would get bench/signaling.py under that name).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
]

# In every page of every context, before the page's own scripts. Records wall-clock ms (Date.now()).
INSTRUMENT = """
(() => {
  if (window.__bench) return;
  const bench = {
    origin: performance.timeOrigin, t0: null, pcIce: null, frame: null,
    attrConnected: null, attrFrames: null, offer: null, answer: null, remoteSet: null,
  };
  window.__bench = bench;
  document.addEventListener('click', (event) => {
    const target = event.target && event.target.closest && event.target.closest('[data-testid^="admit-"]');
    if (target && bench.t0 === null) bench.t0 = Date.now();
  }, true);
  new MutationObserver((records) => {
    for (const r of records) {
      const value = r.target.getAttribute(r.attributeName);
      if (r.attributeName === 'data-connection' && value === 'connected' && bench.attrConnected === null) {
        bench.attrConnected = Date.now();
      }
      if (r.attributeName === 'data-frames-decoded' && Number(value) > 0 && bench.attrFrames === null) {
        bench.attrFrames = Date.now();
      }
    }
  }).observe(document, {
    subtree: true, attributes: true, attributeFilter: ['data-connection', 'data-frames-decoded'],
  });

  const Native = window.RTCPeerConnection;
  if (!Native) return;
  const pcs = [];
  let poller = null;
  let busy = false;
  let stopAt = 0;
  async function poll() {
    if (bench.frame !== null || Date.now() > stopAt) {
      window.clearInterval(poller);
      poller = null;
      return;
    }
    if (busy) return;
    busy = true;
    try {
      for (const pc of pcs) {
        if (pc.signalingState === 'closed') continue;
        const before = Date.now();
        const report = await pc.getStats();
        report.forEach((s) => {
          if (s.type === 'inbound-rtp' && s.kind === 'video' && s.framesDecoded > 0 && bench.frame === null) {
            bench.frame = before;
          }
        });
      }
    } catch {
      // closed meanwhile
    } finally {
      busy = false;
    }
  }
  window.RTCPeerConnection = class extends Native {
    constructor(...args) {
      super(...args);
      pcs.push(this);
      this.addEventListener('iceconnectionstatechange', () => {
        const state = this.iceConnectionState;
        if ((state === 'connected' || state === 'completed') && bench.pcIce === null) bench.pcIce = Date.now();
      });
      stopAt = Date.now() + 60000;
      if (poller === null) poller = window.setInterval(poll, POLL_MS);
    }
  };
})();
""".replace("POLL_MS", str(POLL_MS))

PHASES = ["admitted", "offer", "answer", "ice", "frame", "page frames"]
PHASE_TEXT = {
    "admitted": "admitted (clerk: `admit` ack, citizen: `admitted`)",
    "offer": "offer (sent by the offerer, received by the other)",
    "answer": "offer/answer (answer received by the offerer, sent by the other)",
    "ice": 'ICE connected (data-connection="connected")',
    "frame": "first decoded frame (getStats framesDecoded > 0)",
    "page frames": "page shows frames (data-frames-decoded > 0, sampled every 2 s)",
}
BASELINE_PHASE_TEXT = {
    "offer": "offer (set by the offerer, applied by the other)",
    "answer": "offer/answer (answer applied by the offerer, set by the other)",
    "ice": "ICE connected (iceconnectionstatechange)",
    "frame": "first decoded frame (getStats framesDecoded > 0)",
}
BASELINE_PHASES = list(BASELINE_PHASE_TEXT)
NAN = math.nan


# --- the database ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Seat:
    """One video appointment ready for a call: what the citizen's page needs."""

    appointment_id: int
    manage_token: str  # the booking link secret: /video/{manage_token}
    join_token: str
    expires_at: str


async def seed(database_url: str, secret: str, count: int) -> tuple[list[Seat], str]:
    """Video appointments starting in five minutes (the room is open), each with a checked-in citizen
    who verified the code, plus one admin session cookie: straight into the database."""
    now = datetime.now(UTC)
    expires = now + timedelta(hours=1)
    engine = make_engine(database_url)
    try:
        async with make_sessionmaker(engine).begin() as session:
            admin = await session.scalar(select(Staff).where(Staff.username == ADMIN))
            if admin is None:
                raise RuntimeError("the demo admin is missing")
            seats = [
                Seat(seat.appointment_id, seat.manage_token, seat.join_token, expires.isoformat())
                for seat in await add_checked_in_citizens(session, count=count, now=now, expires=expires, secret=secret)
            ]
            cookie = await staff_sessions.open_session(session=session, staff=admin, now=now, hours=1)
        return seats, cookie
    finally:
        await engine.dispose()


# --- Socket.IO frames as Playwright sees them ---------------------------------------------------


@dataclass(frozen=True)
class Frame:
    """One Socket.IO packet on the page's WebSocket, timestamped (wall-clock ms) when Playwright told us."""

    at: float
    sent: bool
    kind: str  # "connect" | "event" | "ack" | "other"
    ack_id: int | None = None
    name: str | None = None
    data: Any = None


def parse_frame(at: float, sent: bool, payload: str | bytes) -> Frame:
    """Engine.IO `4` (message) + Socket.IO type: `40{..}` connect, `42[id]["name",data]` event, `43id[..]` ack."""
    if isinstance(payload, bytes) or len(payload) < 2 or payload[0] != "4":
        return Frame(at, sent, "other")
    kind = {"0": "connect", "2": "event", "3": "ack"}.get(payload[1], "other")
    if kind not in {"event", "ack"}:
        return Frame(at, sent, kind)
    rest = payload[2:]
    digits = len(rest) - len(rest.lstrip("0123456789"))
    ack_id = int(rest[:digits]) if digits else None
    try:
        body = json.loads(rest[digits:])
    except ValueError:
        return Frame(at, sent, "other")
    if kind == "ack":
        return Frame(at, sent, kind, ack_id, data=body)
    if not isinstance(body, list) or not body or not isinstance(body[0], str):
        return Frame(at, sent, "other")
    return Frame(at, sent, kind, ack_id, body[0], body[1] if len(body) > 1 else None)


@dataclass
class Wire:
    """Every Socket.IO frame of one page."""

    frames: list[Frame] = field(default_factory=list)

    def attach(self, page: Page) -> None:
        def on_socket(ws: WebSocket) -> None:
            ws.on("framesent", lambda p: self.frames.append(parse_frame(time.time() * 1000, True, p)))
            ws.on("framereceived", lambda p: self.frames.append(parse_frame(time.time() * 1000, False, p)))

        page.on("websocket", on_socket)

    def first(self, *, sent: bool, kind: str, name: str | None = None) -> float:
        for f in self.frames:
            if f.sent == sent and f.kind == kind and (name is None or f.name == name):
                return f.at
        return NAN

    def ack_of(self, name: str) -> float:
        """When the answer to our first `name` event came back."""
        ids = [f.ack_id for f in self.frames if f.sent and f.kind == "event" and f.name == name]
        for f in self.frames:
            if not f.sent and f.kind == "ack" and ids and f.ack_id == ids[0]:
                return f.at
        return NAN

    def description(self, kind: str) -> float:
        """The first `signal` with an SDP description of this type, either way."""
        for f in self.frames:
            if f.kind == "event" and f.name == "signal" and isinstance(f.data, dict):
                description = f.data.get("description")
                if isinstance(description, dict) and description.get("type") == kind:
                    return f.at
        return NAN


# --- one call through ViBü ----------------------------------------------------------------------


@dataclass
class CallResult:
    """Per side ("clerk", "citizen") the phases in ms after the admit click, plus the pre-admission figures."""

    after: dict[str, dict[str, float]]
    before: dict[str, float]  # socket connected / waiting / row shown, ms after the page's navigation start
    attribute_vs_pc: float  # |data-connection − RTCPeerConnection ICE| in ms, worst side: a sanity check

    @property
    def total(self) -> float:
        return max(self.after["clerk"]["frame"], self.after["citizen"]["frame"])


async def bench_state(page: Page) -> dict[str, Any]:
    state: dict[str, Any] = await page.evaluate("() => ({...window.__bench})")
    return {k: (NAN if v is None else float(v)) for k, v in state.items()}


async def wait_until(predicate: Any, seconds: float, what: str, step: float = 0.02) -> None:
    """Poll an async predicate until true; TimeoutError after `seconds`."""
    deadline = time.monotonic() + seconds
    while not await predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not within {seconds:.0f} s")
        await asyncio.sleep(step)


async def new_context(browser: Browser) -> BrowserContext:
    context = await browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="de-DE", timezone_id="Europe/Berlin"
    )
    await context.add_init_script(INSTRUMENT)
    return context


async def one_call(browser: Browser, base_url: str, seat: Seat, cookie: str) -> CallResult:
    citizen_ctx = await new_context(browser)
    clerk_ctx = await new_context(browser)
    try:
        key = f"vibue.video.{seat.manage_token}"
        value = json.dumps({"join_token": seat.join_token, "expires_at": seat.expires_at})
        await citizen_ctx.add_init_script(
            f"if (location.origin === {json.dumps(base_url)}) "
            f"window.sessionStorage.setItem({json.dumps(key)}, {json.dumps(value)});"
        )
        await clerk_ctx.add_cookies([{"name": staff_sessions.COOKIE, "value": cookie, "url": base_url}])
        citizen, clerk = await citizen_ctx.new_page(), await clerk_ctx.new_page()
        wires = {"citizen": Wire(), "clerk": Wire()}
        wires["citizen"].attach(citizen)
        wires["clerk"].attach(clerk)

        await citizen.goto(f"{base_url}/video/{seat.manage_token}")
        await clerk.goto(f"{base_url}/sachbearbeitung")

        async def citizen_waits() -> bool:
            return not math.isnan(wires["citizen"].first(sent=False, kind="event", name="waiting"))

        await wait_until(citizen_waits, READY_TIMEOUT, "the citizen's `waiting`")
        admit = clerk.get_by_test_id(f"admit-{seat.appointment_id}")
        await admit.wait_for(state="visible", timeout=READY_TIMEOUT * 1000)
        row_shown = time.time() * 1000
        await admit.click()

        async def both_decode() -> bool:
            states = [await bench_state(p) for p in (citizen, clerk)]
            return all(not math.isnan(s["frame"]) for s in states)

        async def both_show() -> bool:
            states = [await bench_state(p) for p in (citizen, clerk)]
            return all(not math.isnan(s["attrFrames"]) for s in states)

        await wait_until(both_decode, CALL_TIMEOUT, "first decoded frame on both sides", step=0.1)
        with contextlib.suppress(TimeoutError):  # reported as n/a
            await wait_until(both_show, ATTRIBUTE_GRACE, "data-frames-decoded on both sides", step=0.1)

        pages = {"citizen": citizen, "clerk": clerk}
        states = {side: await bench_state(page) for side, page in pages.items()}
        t0 = states["clerk"]["t0"]
        if math.isnan(t0):
            raise RuntimeError("the admit click was not seen in the clerk's page")
        after: dict[str, dict[str, float]] = {}
        for side, wire in wires.items():
            state = states[side]
            admitted = (
                wire.ack_of("admit") if side == "clerk" else wire.first(sent=False, kind="event", name="admitted")
            )
            after[side] = {
                "admitted": admitted - t0,
                "offer": wire.description("offer") - t0,
                "answer": wire.description("answer") - t0,
                "ice": state["attrConnected"] - t0,
                "frame": state["frame"] - t0,
                "page frames": state["attrFrames"] - t0,
            }
        before = {
            "clerk socket": wires["clerk"].first(sent=False, kind="connect") - states["clerk"]["origin"],
            "citizen socket": wires["citizen"].first(sent=False, kind="connect") - states["citizen"]["origin"],
            "citizen waiting": wires["citizen"].first(sent=False, kind="event", name="waiting")
            - states["citizen"]["origin"],
            "clerk row": row_shown - states["clerk"]["origin"],
        }
        drift = max(abs(s["attrConnected"] - s["pcIce"]) for s in states.values())
        return CallResult(after, before, drift)
    finally:
        await citizen_ctx.close()
        await clerk_ctx.close()


# --- one call without a server -------------------------------------------------------------------

# Helpers put into each baseline page. The offerer plays the clerk: its camera and microphone are
# opened after t0, as clerk-call.js does on admit; the answerer's were opened before (the waiting
# citizen's). Descriptions are handed over by this process as soon as they are set; candidates
# trickle through an exposed function (benchCandidate) that this process forwards to the other page.
PEER_SETUP = """
() => {
  let pc = null;
  const pending = [];
  window.__remoteCandidate = (c) => {
    if (pc && pc.remoteDescription) pc.addIceCandidate(c).catch(() => {});
    else pending.push(c);
  };
  window.__peer = (stream) => {
    pc = new RTCPeerConnection({ iceServers: [] });
    for (const track of stream.getTracks()) pc.addTrack(track, stream);
    const video = document.createElement('video');
    video.autoplay = true; video.muted = true; video.playsInline = true;
    document.body.append(video);
    pc.ontrack = ({ streams }) => { video.srcObject = streams[0]; video.play().catch(() => {}); };
    pc.onicecandidate = ({ candidate }) => {
      if (candidate && candidate.candidate) window.benchCandidate(candidate.toJSON());
    };
    return pc;
  };
  window.__remote = async (description) => {
    await pc.setRemoteDescription(description);
    window.__bench.remoteSet = Date.now();
    for (const c of pending.splice(0)) await pc.addIceCandidate(c).catch(() => {});
  };
}
"""
OFFERER_START = """
async () => {
  window.__bench.t0 = Date.now();
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
  const pc = window.__peer(stream);
  await pc.setLocalDescription();
  window.__bench.offer = Date.now();
  return pc.localDescription.toJSON();
}
"""
ANSWERER_PREPARE = """
async () => { window.__stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true }); }
"""
ANSWERER_ANSWER = """
async (offer) => {
  const pc = window.__peer(window.__stream);
  await window.__remote(offer);
  window.__bench.offer = window.__bench.remoteSet;
  await pc.setLocalDescription();
  window.__bench.answer = Date.now();
  return pc.localDescription.toJSON();
}
"""
OFFERER_FINISH = (
    "async (answer) => { await window.__remote(answer); window.__bench.answer = window.__bench.remoteSet; }"
)


@dataclass
class BaselineResult:
    after: dict[str, dict[str, float]]  # "offerer" / "answerer" → phase → ms after t0

    @property
    def total(self) -> float:
        return max(self.after["offerer"]["frame"], self.after["answerer"]["frame"])


async def baseline_pair(browser: Browser) -> tuple[list[BrowserContext], Page, Page]:
    contexts = [await new_context(browser), await new_context(browser)]
    pages: list[Page] = []
    for context in contexts:
        # A secure origin for getUserMedia without a server: the browser answers the request itself.
        await context.route(BASELINE_URL, lambda route: route.fulfill(content_type="text/html", body="<!doctype html>"))
        pages.append(await context.new_page())
    for page, other in ((pages[0], pages[1]), (pages[1], pages[0])):

        async def forward(candidate: dict[str, Any], to: Page = other) -> None:
            await to.evaluate("(c) => window.__remoteCandidate(c)", candidate)

        await page.expose_function("benchCandidate", forward)
        await page.goto(BASELINE_URL)
        await page.evaluate(PEER_SETUP)
    return contexts, pages[0], pages[1]


async def one_baseline(browser: Browser) -> BaselineResult:
    contexts, offerer, answerer = await baseline_pair(browser)
    try:
        await answerer.evaluate(ANSWERER_PREPARE)  # the citizen's camera is open before admission
        offer = await offerer.evaluate(OFFERER_START)
        answer = await answerer.evaluate(ANSWERER_ANSWER, offer)
        await offerer.evaluate(OFFERER_FINISH, answer)

        async def both_decode() -> bool:
            states = [await bench_state(p) for p in (offerer, answerer)]
            return all(not math.isnan(s["frame"]) for s in states)

        await wait_until(both_decode, CALL_TIMEOUT, "baseline: first decoded frame on both sides", step=0.1)
        states = {"offerer": await bench_state(offerer), "answerer": await bench_state(answerer)}
        t0 = states["offerer"]["t0"]
        after = {
            side: {
                "offer": s["offer"] - t0,
                "answer": s["answer"] - t0,
                "ice": s["pcIce"] - t0,
                "frame": s["frame"] - t0,
            }
            for side, s in states.items()
        }
        return BaselineResult(after)
    finally:
        for context in contexts:
            await context.close()


# --- runs -------------------------------------------------------------------------------------------


@dataclass
class Runs:
    vibue: list[CallResult] = field(default_factory=list)
    baseline: list[BaselineResult] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


CALL_ERRORS = (TimeoutError, RuntimeError, PlaywrightError)


async def bench_vibue(browser: Browser, workdir: Path, runs: Runs) -> None:
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
        seats, cookie = await seed(database_url, secret, WARMUP + CALLS)  # after the first start migrated and seeded
        for index, seat in enumerate(seats):
            try:
                result = await one_call(browser, served.base_url, seat, cookie)
            except CALL_ERRORS as exc:
                runs.failures.append(f"ViBü call {index + 1 - WARMUP}: {type(exc).__name__}: {exc}")
                continue
            if index >= WARMUP:
                runs.vibue.append(result)


async def bench_baseline(browser: Browser, runs: Runs) -> None:
    for index in range(WARMUP + CALLS):
        try:
            result = await one_baseline(browser)
        except CALL_ERRORS as exc:
            runs.failures.append(f"baseline call {index + 1 - WARMUP}: {type(exc).__name__}: {exc}")
            continue
        if index >= WARMUP:
            runs.baseline.append(result)


# --- report -----------------------------------------------------------------------------------------

HEADER = f"""\
ViBü call set-up benchmark ({machine()}, {CHROMIUM} headless)

What is measured:
  ViBü        the real app, `python run.py` as a subprocess on SQLite in a temp dir; {CALLS} calls (after
              {WARMUP} unmeasured one), each between a fresh citizen and a fresh clerk browser context with
              fake camera and microphone. The citizen opens /video/{{token}} with the join token already
              in sessionStorage and goes straight to the waiting room; the clerk (admin session cookie)
              opens /sachbearbeitung and, once the waiting row shows, clicks admit. t0 = that click
              (in the clerk's page). The clerk then opens camera and microphone, sends room.join and
              admit; perfect negotiation runs over ViBü's Socket.IO relay.
  baseline    browser-only: two contexts of the same Chromium, one RTCPeerConnection each, no server.
              t0 = the offerer (in the clerk's place) starts: it opens its camera, offers; the answerer's
              camera was open before (like the waiting citizen's). SDPs go from page to page through
              this process (page.evaluate), ICE candidates trickle the same way (an exposed function).
Phases, in ms after t0: Socket.IO frames from Playwright's page.on("websocket") events, stamped here
on arrival; ICE connected from the page's data-connection attribute (MutationObserver; the baseline:
the RTCPeerConnection's iceconnectionstatechange); first decoded frame from getStats (inbound video
framesDecoded > 0), polled every {POLL_MS} ms in the page through an RTCPeerConnection wrapper put in
by an init script. The page's own data-frames-decoded comes from a getStats every 2 s, so it trails.
"""


def fmt(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.0f}"


def spread(values: Sequence[float]) -> list[str]:
    """p50, min, max of the values that were measured (NaN = not seen)."""
    seen = [v for v in values if not math.isnan(v)]
    if not seen:
        return ["n/a", "n/a", "n/a"]
    return [fmt(percentile(seen, 50)), fmt(min(seen)), fmt(max(seen))]


def phase_table(
    results: Sequence[dict[str, dict[str, float]]], sides: Sequence[str], phases: Sequence[str], text: dict[str, str]
) -> str:
    headers = ["phase (ms after t0)"] + [f"{side} {stat}" for side in sides for stat in ("p50", "min", "max")]
    rows = []
    for phase in phases:
        row = [text[phase]]
        for side in sides:
            row += spread([r[side][phase] for r in results])
        rows.append(row)
    return table(headers, rows)


def report(runs: Runs) -> str:
    lines: list[str] = []
    if runs.vibue:
        n = len(runs.vibue)
        lines.append(f"ViBü, {n} calls:")
        lines.append(phase_table([r.after for r in runs.vibue], ["clerk", "citizen"], PHASES, PHASE_TEXT))
        p50, low, high = spread([r.total for r in runs.vibue])
        lines.append(f"  admission → first decoded frame on both sides: p50 {p50} ms (min {low}, max {high})")
        rows = [
            ["clerk: socket connected (`40` connect ack)", *spread([r.before["clerk socket"] for r in runs.vibue])],
            ["citizen: socket connected (`40` connect ack)", *spread([r.before["citizen socket"] for r in runs.vibue])],
            ["citizen: in the waiting room (`waiting`)", *spread([r.before["citizen waiting"] for r in runs.vibue])],
            ["clerk: waiting row shown", *spread([r.before["clerk row"] for r in runs.vibue])],
        ]
        lines.append("  Before admission, ms after each page's navigation start (both sockets connect before t0):")
        lines.append("  " + table(["phase", "p50", "min", "max"], rows).replace("\n", "\n  "))
        worst = max(r.attribute_vs_pc for r in runs.vibue)
        lines.append(f"  data-connection vs the RTCPeerConnection's own ICE state: at most {fmt(worst)} ms apart")
    if runs.baseline:
        lines.append("")
        lines.append(f"browser-only baseline, {len(runs.baseline)} calls:")
        lines.append(
            phase_table([r.after for r in runs.baseline], ["offerer", "answerer"], BASELINE_PHASES, BASELINE_PHASE_TEXT)
        )
        p50, low, high = spread([r.total for r in runs.baseline])
        lines.append(f"  start → first decoded frame on both sides: p50 {p50} ms (min {low}, max {high})")
    if runs.vibue and runs.baseline:
        ours = percentile([r.total for r in runs.vibue], 50)
        theirs = percentile([r.total for r in runs.baseline], 50)
        lines.append("")
        lines.append(
            f"ViBü's share: p50 {fmt(ours)} ms vs {fmt(theirs)} ms browser-only, "
            f"{fmt(ours - theirs)} ms more ({ours / theirs:.1f}×)"
        )
    for failure in runs.failures:
        lines.append(f"  failed: {failure}")
    return "\n".join(lines)


async def run() -> int:
    task = asyncio.current_task()
    if task is not None:  # SIGTERM cleans up like Ctrl-C does: browser closed, server stopped, temp dir removed
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    print(HEADER, flush=True)
    runs = Runs()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="vibue-bench-call-") as tmp:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            try:
                await bench_vibue(browser, Path(tmp), runs)
                await bench_baseline(browser, runs)
            except (ServerFailed, RuntimeError, TimeoutError) as exc:
                print(f"FAILED: {type(exc).__name__}: {exc}", flush=True)
                return 1
            finally:
                await browser.close()
    print(report(runs), flush=True)
    print(f"\n(run took {time.monotonic() - started:.0f} s)\n", flush=True)
    if runs.failures:
        print(f"FAILED: {len(runs.failures)} call(s) did not reach a decoded frame on both sides", flush=True)
        return 1
    return 0


def main() -> int:
    if not Path(CHROMIUM).exists():
        print(f"FAILED: {CHROMIUM} is missing (make test installs Debian's chromium)", flush=True)
        return 1
    try:
        return asyncio.run(run())
    except KeyboardInterrupt:
        print("interrupted; browser closed, server stopped, temp dir removed", file=sys.stderr)
        return 130
    except asyncio.CancelledError:  # SIGTERM, see run()
        print("terminated; browser closed, server stopped, temp dir removed", file=sys.stderr)
        return 143


if __name__ == "__main__":
    sys.exit(main())
