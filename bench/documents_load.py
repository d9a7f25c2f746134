"""Documents under load: 8 concurrent issuers (render + seal) while a Socket.IO load plays in the same
process and loop, and a probe task that reports the event loop's worst stall.

A late probe alone does not say why the loop was late, so the probe reads its own thread's
run-queue time from Linux (/proc/self/task/<tid>/schedstat): the part of a stall spent runnable
but without a CPU is the machine's doing (other processes, or more busy threads than cores), the
rest is the loop thread asleep although its timer was due, i.e. waiting for the GIL, or busy.
Three more witnesses run beside it:
- a plain thread that sleeps 2 ms at a time: its lateness, less its own run-queue time, is how long
  any thread waits for the GIL (if it stalls as long as the loop, the loop was not busy, it was
  waiting for the interpreter);
- a gc callback: the longest collection, which holds the GIL in whatever thread it runs;
- the same thread, whenever the loop's heartbeat is older than the goal, notes where the loop
  thread stands (`sys._current_frames`): one place again and again is work done on the loop itself;
  places spread over the selector and the loop's ordinary I/O code are where it had to let go of
  the GIL (the witness only runs while the loop does not hold it).
"""

from __future__ import annotations

import asyncio
import gc
import os
import sys
import threading
import time
import traceback
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import socketio
from aiohttp import web

from bench.common import HOST, free_port, relay_app

CONCURRENT = 8
CONCURRENT_SECONDS = 8.0
ROOMS = 4
SIGNAL_RATE = 20.0  # per caller and second
PROBE_SECONDS = 0.005
WITNESS_SECONDS = 0.002
GOAL_STALL_MS = 20.0

Issue = Callable[[int], Awaitable[object]]  # the n-th document of an issuer, rendered and sealed


@dataclass
class Concurrent:
    mode: str
    documents: int = 0
    elapsed: float = 0.0
    relayed: int = 0
    worst_stall: float = 0.0
    stalls_over_goal: int = 0
    # The same without the time the loop thread waited for a CPU (None: no schedstat on this system).
    worst_off_queue: float | None = None
    off_queue_over_goal: int = 0
    load_average: float = 0.0  # the machine's 1-minute load average at the end
    thread_worst: float = 0.0  # the witness thread's worst lateness off the run queue: the GIL's worst wait
    gc_worst: float = 0.0
    gc_worst_generation: int = -1
    gc_total: float = 0.0
    where: Counter[str] = field(default_factory=Counter)  # the loop thread's place during a stall

    @property
    def per_second(self) -> float:
        return self.documents / self.elapsed if self.elapsed else 0.0

    def place(self) -> str:
        """The loop thread's most frequent place during stalls, or '-' when none was seen."""
        if not self.where:
            return "-"
        seen = sum(self.where.values())
        return ", ".join(f"{name} {count * 100 // seen}%" for name, count in self.where.most_common(2))


class Heartbeat:
    """The probe's last tick, read by the witness thread (a float store is atomic under the GIL)."""

    def __init__(self) -> None:
        self.at = time.perf_counter()


def _run_queue_reader() -> Callable[[], float] | None:
    """Seconds the calling thread has spent runnable but not running, so far (Linux schedstat)."""
    path = Path(f"/proc/self/task/{threading.get_native_id()}/schedstat")
    if not path.is_file():
        return None
    return lambda: int(path.read_bytes().split()[1]) / 1e9


async def probe(stop: asyncio.Event, figures: Concurrent, heartbeat: Heartbeat) -> None:
    """Sleeps PROBE_SECONDS at a time; any lateness beyond that is the loop being held up."""
    queued = _run_queue_reader()
    if queued is not None:
        figures.worst_off_queue = 0.0
    while not stop.is_set():
        before = time.perf_counter()
        queued_before = queued() if queued is not None else 0.0
        await asyncio.sleep(PROBE_SECONDS)
        heartbeat.at = after = time.perf_counter()
        late = after - before - PROBE_SECONDS
        figures.worst_stall = max(figures.worst_stall, late)
        if late * 1000 > GOAL_STALL_MS:
            figures.stalls_over_goal += 1
        if queued is not None and figures.worst_off_queue is not None:
            off_queue = late - (queued() - queued_before)
            figures.worst_off_queue = max(figures.worst_off_queue, off_queue)
            if off_queue * 1000 > GOAL_STALL_MS:
                figures.off_queue_over_goal += 1
    figures.load_average = os.getloadavg()[0]


def _place(frame: object) -> str:
    """Where the loop thread stands: waiting in the selector, in asyncio's own code between
    callbacks, or in a callback (named by its innermost frame outside asyncio)."""
    stack = traceback.extract_stack(frame)  # type: ignore[arg-type]
    innermost = stack[-1]
    if innermost.name in {"select", "poll"} and "selectors" in innermost.filename:
        return "waiting in the selector"
    if "/asyncio/" in innermost.filename and "/asyncio/" in stack[-2].filename:
        return f"asyncio {innermost.name}"
    for entry in reversed(stack):
        if "/asyncio/" not in entry.filename:
            return f"{entry.filename.rsplit('/', 1)[-1]}:{entry.lineno} {entry.name}"
    return f"asyncio {innermost.name}"  # pragma: no cover - the loop runs inside asyncio.run


@contextmanager
def witnesses(figures: Concurrent, heartbeat: Heartbeat) -> Iterator[None]:
    loop_thread = threading.get_ident()
    done = threading.Event()
    collecting: list[float] = []

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            collecting[:] = [time.perf_counter()]
        elif collecting:
            took = time.perf_counter() - collecting.pop()
            figures.gc_total += took
            if took > figures.gc_worst:
                figures.gc_worst, figures.gc_worst_generation = took, info["generation"]

    def watch() -> None:
        sampled_at = 0.0
        queued = _run_queue_reader()  # this thread's: its wait for a CPU is not a wait for the GIL
        while not done.is_set():
            before = time.perf_counter()
            queued_before = queued() if queued is not None else 0.0
            time.sleep(WITNESS_SECONDS)
            now = time.perf_counter()
            late = now - before - WITNESS_SECONDS - (queued() - queued_before if queued is not None else 0.0)
            figures.thread_worst = max(figures.thread_worst, late)
            if (now - heartbeat.at) * 1000 > GOAL_STALL_MS and heartbeat.at != sampled_at:
                sampled_at = heartbeat.at  # one sample per stall
                frame = sys._current_frames().get(loop_thread)
                if frame is not None:
                    figures.where[_place(frame)] += 1

    gc.callbacks.append(on_gc)
    watcher = threading.Thread(target=watch, name="bench-witness", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        done.set()
        watcher.join()
        gc.callbacks.remove(on_gc)


async def signaling_load(url: str, stop: asyncio.Event, figures: Concurrent) -> None:
    clients: list[socketio.AsyncClient] = []
    try:
        pairs = []
        for room in range(ROOMS):
            pair = []
            for _ in range(2):
                client = socketio.AsyncClient(reconnection=False)
                await client.connect(url, transports=["websocket"], socketio_path="socket.io")
                await client.call("join", {"room": f"room-{room}"})
                clients.append(client)
                pair.append(client)
            pairs.append(pair)

        def count(_data: object) -> None:
            figures.relayed += 1

        for _caller, callee in pairs:
            callee.on("signal", count)

        async def play(caller: socketio.AsyncClient) -> None:
            seq = 0
            while not stop.is_set():
                seq += 1
                await caller.emit("signal", {"kind": "ice", "seq": seq, "candidate": "x" * 200})
                await asyncio.sleep(1 / SIGNAL_RATE)

        await asyncio.gather(*(play(caller) for caller, _callee in pairs))
    finally:
        for client in clients:
            await client.disconnect()


async def concurrent(mode: str, issue: Issue | None) -> Concurrent:
    """CONCURRENT issuers calling `issue` for CONCURRENT_SECONDS under the signaling load; with
    `issue` None, the load alone (what the loop stalls without documents)."""
    figures = Concurrent(mode)
    runner = web.AppRunner(relay_app(), access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, HOST, port).start()
    stop = asyncio.Event()
    heartbeat = Heartbeat()
    load = asyncio.create_task(signaling_load(f"http://{HOST}:{port}", stop, figures))
    await asyncio.sleep(0.5)  # the clients are connected and the load runs before anything is measured
    deadline = time.perf_counter() + CONCURRENT_SECONDS

    async def issuer(first: int) -> None:
        n = first
        while time.perf_counter() < deadline:
            assert issue is not None
            await issue(n)
            figures.documents += 1
            n += CONCURRENT

    with witnesses(figures, heartbeat):
        probing = asyncio.create_task(probe(stop, figures, heartbeat))
        started = time.perf_counter()
        try:
            if issue is None:
                await asyncio.sleep(CONCURRENT_SECONDS)
            else:
                await asyncio.gather(*(issuer(i) for i in range(CONCURRENT)))
            figures.elapsed = time.perf_counter() - started
        finally:
            stop.set()
            await asyncio.gather(probing, load)
            await runner.cleanup()
    return figures
