"""Documents benchmark: seal per document, p50/p95 per profile, next to a bare pyHanko signature.

Run with `make bench` (`python -m bench.documents`: run as a file, bench/ would come first on
sys.path and `import documents` would find this file, not the package).

Profiles: B-B (development PKI), B-T (development key, certomancer's
timestamp authority on loopback), B-LT (certomancer's PKI: timestamp plus its CRL, fetched over
HTTP and embedded). Each profile seals a one-page reportlab PDF through `Sealer.seal`, and in the
same run signs the same PDF with the same key and the same level options through bare pyHanko
(`SimpleSigner.load_pkcs12` + `sign_pdf`, no stamp), once as pyHanko documents it and once with
the key parsed once; ratios are ours over each. Then 8 concurrent sealers run while a small
Socket.IO load (the bare relay of bench/common.py, in this process and loop) plays, and a probe
task reports the event loop's worst stall.

`jobs()` is the hook for render + seal per template: it returns what to seal; the integrator adds
one Job per template (rendering included in `Job.make`).
"""

from __future__ import annotations

import asyncio
import io
import math
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import socketio
from aiohttp import web
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.timestamps import HTTPTimeStamper
from pyhanko_certvalidator import ValidationContext

from bench.common import HOST, free_port, machine, percentile, relay_app, table
from documents.keys import CachedKeySigner
from documents.sealing import Sealer
from tests.documents.checks import BOX, roots_of, sample_pdf
from tests.documents.testpki import serve
from vibue.core.settings import Settings, load

SAMPLES = 20
CONCURRENT = 8
CONCURRENT_SECONDS = 8.0
ROOMS = 4
SIGNAL_RATE = 20.0  # per caller and second
PROBE_SECONDS = 0.005
GOAL_RATIO = 1.2
GOAL_STALL_MS = 20.0


@dataclass(frozen=True)
class Job:
    """One document to seal: `make` renders it (here: the minimal page) and says where the stamp goes."""

    name: str
    make: Callable[[], tuple[bytes, int, tuple[float, float, float, float]]]


def jobs() -> list[Job]:
    """What each profile seals; add a Job per template (render + seal) here."""
    return [Job("one-page reportlab PDF", lambda: (sample_pdf(), 0, BOX))]


@dataclass(frozen=True)
class Profile:
    level: str
    settings: Settings
    pkcs12_file: Path
    trust_root_pem: bytes


@dataclass
class Row:
    profile: str
    job: str
    ours: list[float] = field(default_factory=list)
    bare: list[float] = field(default_factory=list)
    bare_cached: list[float] = field(default_factory=list)


def ms(values: Sequence[float], q: float) -> float:
    return percentile(values, q) * 1000


def bare_sign(signer: signers.Signer, pdf: bytes, profile: Profile) -> bytes:
    """pyHanko alone: the same key and level options, no stamp, no worker pool."""
    timestamper = HTTPTimeStamper(profile.settings.seal_tsa_url) if profile.settings.seal_tsa_url else None
    context = None
    if profile.level == "B-LT":
        context = ValidationContext(trust_roots=roots_of(profile.trust_root_pem), allow_fetching=True)
    meta = signers.PdfSignatureMetadata(
        field_name="Sig",
        subfilter=fields.SigSeedSubFilter.PADES,
        embed_validation_info=context is not None,
        validation_context=context,
    )
    out = signers.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf)), meta, signer=signer, timestamper=timestamper)
    return bytes(out.getbuffer())


async def measure(profile: Profile, job: Job, sealer: Sealer) -> Row:
    row = Row(profile.level, job.name)
    plain = signers.SimpleSigner.load_pkcs12(str(profile.pkcs12_file), passphrase=None)  # type: ignore[no-untyped-call]
    assert isinstance(plain, signers.SimpleSigner)
    cached = CachedKeySigner(plain)
    pdf, page, box = job.make()
    # One of each first: connections, caches and the timestamper's size estimate warm.
    await sealer.seal(pdf, page=page, box=box, clerk_name="Jörg Weiß", office="Bürgeramt Virtuell", when=now())
    await asyncio.to_thread(bare_sign, cached, pdf, profile)
    for _ in range(SAMPLES):
        started = time.perf_counter()
        pdf, page, box = job.make()
        document = await sealer.seal(
            pdf, page=page, box=box, clerk_name="Jörg Weiß", office="Bürgeramt Virtuell", when=now()
        )
        row.ours.append(time.perf_counter() - started)
        assert document.level == profile.level, (document.level, profile.level)
        for signer, sink in ((plain, row.bare), (cached, row.bare_cached)):
            started = time.perf_counter()
            await asyncio.to_thread(bare_sign, signer, sample_pdf(), profile)
            sink.append(time.perf_counter() - started)
    return row


def now() -> datetime:
    return datetime.now(UTC)


# --- 8 sealers under a signaling load ---------------------------------------------------------


@dataclass
class Concurrent:
    documents: int = 0
    elapsed: float = 0.0
    worst_stall: float = 0.0
    relayed: int = 0


async def probe(stop: asyncio.Event, figures: Concurrent) -> None:
    """Sleeps PROBE_SECONDS at a time; any lateness beyond that is the loop being held up."""
    while not stop.is_set():
        before = time.perf_counter()
        await asyncio.sleep(PROBE_SECONDS)
        figures.worst_stall = max(figures.worst_stall, time.perf_counter() - before - PROBE_SECONDS)


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


async def concurrent(sealer: Sealer) -> Concurrent:
    figures = Concurrent()
    runner = web.AppRunner(relay_app(), access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, HOST, port).start()
    stop = asyncio.Event()
    probing = asyncio.create_task(probe(stop, figures))
    load = asyncio.create_task(signaling_load(f"http://{HOST}:{port}", stop, figures))
    await asyncio.sleep(0.5)  # the load runs before the sealers start
    deadline = time.perf_counter() + CONCURRENT_SECONDS
    (job,) = jobs()[:1]

    async def issuer() -> None:
        while time.perf_counter() < deadline:
            pdf, page, box = job.make()
            await sealer.seal(pdf, page=page, box=box, clerk_name="Jörg Weiß", office="Bürgeramt Virtuell", when=now())
            figures.documents += 1

    started = time.perf_counter()
    try:
        await asyncio.gather(*(issuer() for _ in range(CONCURRENT)))
        figures.elapsed = time.perf_counter() - started
    finally:
        stop.set()
        await asyncio.gather(probing, load)
        await runner.cleanup()
    return figures


# --- the run ----------------------------------------------------------------------------------


def profiles(stack: ExitStack, workdir: Path) -> Iterator[Profile]:
    test_pki = stack.enter_context(serve(workdir / "certomancer"))
    dev = {"VIBUE_DATA_DIR": str(workdir / "var")}
    dev_settings = load(dev)
    dev_p12 = workdir / "var" / "pki" / "seal.p12"
    yield Profile("B-B", dev_settings, dev_p12, b"")
    yield Profile("B-T", load({**dev, "VIBUE_SEAL_TSA_URL": test_pki.tsa_url}), dev_p12, b"")
    lt = {
        **dev,
        "VIBUE_SEAL_KEY_SOURCE": "pkcs12",
        "VIBUE_SEAL_PKCS12_FILE": str(test_pki.pkcs12_file),
        "VIBUE_SEAL_TSA_URL": test_pki.tsa_url,
    }
    yield Profile("B-LT", load(lt), test_pki.pkcs12_file, test_pki.root_pem)


def report(rows: Sequence[Row], figures: Concurrent, concurrent_level: str) -> str:
    lines = [
        f"Documents: seal per document, {SAMPLES} samples each ({machine()})",
        "",
        table(
            ["profile", "document", "ours p50", "ours p95", "bare p50", "bare p95", "× bare", "bare¹ p50", "× bare¹"],
            [
                [
                    row.profile,
                    row.job,
                    f"{ms(row.ours, 50):.1f} ms",
                    f"{ms(row.ours, 95):.1f} ms",
                    f"{ms(row.bare, 50):.1f} ms",
                    f"{ms(row.bare, 95):.1f} ms",
                    f"{ms(row.ours, 50) / ms(row.bare, 50):.2f}",
                    f"{ms(row.bare_cached, 50):.1f} ms",
                    f"{ms(row.ours, 50) / ms(row.bare_cached, 50):.2f}",
                ]
                for row in rows
            ],
            text_columns=2,
        ),
        "bare: pyHanko's SimpleSigner.load_pkcs12 + sign_pdf, same key and level, no stamp;"
        " bare¹: the same with the key parsed once (documents.keys.CachedKeySigner).",
        "",
        f"{CONCURRENT} concurrent sealers ({concurrent_level}) for {figures.elapsed:.1f} s"
        f" with {ROOMS} Socket.IO rooms relaying {SIGNAL_RATE:.0f} signals/s each in the same loop:",
        f"  {figures.documents / figures.elapsed:.1f} documents/s, {figures.relayed} signals relayed,"
        f" worst event-loop stall {figures.worst_stall * 1000:.1f} ms (goal ≤ {GOAL_STALL_MS:.0f} ms)",
    ]
    worst = max(ms(row.ours, 50) / ms(row.bare, 50) for row in rows)
    worst_cached = max(ms(row.ours, 50) / ms(row.bare_cached, 50) for row in rows)
    met = "met" if worst <= GOAL_RATIO else "MISSED"
    lines.append(f"goal: ours ≤ {GOAL_RATIO}× bare pyHanko: {met} ({worst:.2f}; against bare¹ {worst_cached:.2f})")
    stalled = "met" if figures.worst_stall * 1000 <= GOAL_STALL_MS else "MISSED"
    lines.append(f"goal: no event-loop stall above {GOAL_STALL_MS:.0f} ms: {stalled}")
    return "\n".join(lines)


async def run() -> int:
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="vibue-bench-documents-") as tmp, ExitStack() as stack:
        workdir = Path(tmp)
        sealers: list[Sealer] = []
        try:
            figures = Concurrent()
            level = ""
            for profile in profiles(stack, workdir):
                sealer = await Sealer.start(profile.settings)
                sealers.append(sealer)
                for job in jobs():
                    rows.append(await measure(profile, job, sealer))
            figures = await concurrent(sealers[0])
            level = sealers[0].level
        finally:
            for sealer in sealers:
                sealer.close()
    print(report(rows, figures, level))
    return 0 if all(not math.isnan(ms(row.ours, 50)) for row in rows) else 1


def main() -> int:
    return asyncio.run(run())


if __name__ == "__main__":
    sys.exit(main())
