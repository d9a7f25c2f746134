"""Documents benchmark: render + seal per template and profile, p50/p95, next to a bare pyHanko
signature of a minimal one-page PDF with the same key in the same run; then 8 concurrent issuers
under a Socket.IO load, with the event loop's worst stall (bench/documents_load.py).

Run with `make bench` (`python -m bench.documents`: run as a file, bench/ would come first on
sys.path and `import documents` would find this file, not the package).

Profiles: B-B (development PKI), B-T (development key, certomancer's timestamp authority on
loopback), B-LT (certomancer's PKI: timestamp plus its CRL, fetched over HTTP and embedded).
"Ours" is what the app does for one document: `documents.factory.Factory.issue`, the template
rendered by reportlab in the factory's pool, then sealed with the visible stamp by the sealer.
"Bare" is pyHanko alone on a minimal one-page PDF made before the clock starts, with the same key
and level options and no stamp: once as pyHanko documents it (`SimpleSigner.load_pkcs12`, which
parses the key at every signature) and once with the key parsed once (bare¹). Bare samples are
interleaved with ours, so both see the same machine.
"""

from __future__ import annotations

import asyncio
import io
import math
import os
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.timestamps import HTTPTimeStamper
from pyhanko_certvalidator import ValidationContext

from bench.common import machine, percentile, table
from bench.documents_load import (
    CONCURRENT,
    CONCURRENT_SECONDS,
    GOAL_STALL_MS,
    PROBE_SECONDS,
    ROOMS,
    SIGNAL_RATE,
    WITNESS_SECONDS,
    Concurrent,
    Issue,
)
from bench.documents_load import concurrent as run_concurrent
from documents.factory import Factory
from documents.factory import start as start_factory
from documents.keys import CachedKeySigner
from documents.sealing import Sealer
from documents.templates import TEMPLATES
from tests.documents.checks import roots_of, sample_pdf
from tests.documents.samples import FACTS, FIELDS
from tests.documents.testpki import serve
from vibue.core.settings import Settings, load

SAMPLES = 20
GOAL_RATIO = 1.2
ROW_HEADERS = (
    *("template", "profile", "ours p50", "ours p95", "render p50"),
    *("bare p50", "bare p95", "× bare", "bare¹ p50", "× bare¹"),
)
LOAD_HEADERS = (
    *("issuers", "docs/s", "signals", "loop stall", "late > goal", "w/o run queue", "late > goal", "GIL wait"),
    *("GC worst", "load avg", "loop was"),
)


@dataclass(frozen=True)
class Profile:
    level: str
    settings: Settings
    pkcs12_file: Path
    trust_root_pem: bytes


@dataclass
class Row:
    profile: str
    template: str
    ours: list[float] = field(default_factory=list)
    render: list[float] = field(default_factory=list)  # Factory.preview: the page alone, no seal
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


async def measure(profile: Profile, template_id: str, factory: Factory) -> Row:
    row = Row(profile.level, template_id)
    plain = signers.SimpleSigner.load_pkcs12(str(profile.pkcs12_file), passphrase=None)  # type: ignore[no-untyped-call]
    assert isinstance(plain, signers.SimpleSigner)
    cached = CachedKeySigner(plain)
    minimal = await asyncio.to_thread(sample_pdf)
    # One of each first: connections, caches and the timestamper's size estimate warm.
    await factory.issue(template_id, FIELDS[template_id], FACTS)
    await asyncio.to_thread(bare_sign, cached, minimal, profile)
    for _ in range(SAMPLES):
        started = time.perf_counter()
        document = await factory.issue(template_id, FIELDS[template_id], FACTS)
        row.ours.append(time.perf_counter() - started)
        assert document.level == profile.level, (document.level, profile.level)
        started = time.perf_counter()
        await factory.preview(template_id, FIELDS[template_id], FACTS)
        row.render.append(time.perf_counter() - started)
        for signer, sink in ((plain, row.bare), (cached, row.bare_cached)):
            started = time.perf_counter()
            await asyncio.to_thread(bare_sign, signer, minimal, profile)
            sink.append(time.perf_counter() - started)
    return row


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


def ratio(ours: Sequence[float], bare: Sequence[float]) -> float:
    return ms(ours, 50) / ms(bare, 50)


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def rows_report(rows: Sequence[Row]) -> list[str]:
    worst = max(ratio(row.ours, row.bare) for row in rows)
    worst_cached = max(ratio(row.ours, row.bare_cached) for row in rows)
    return [
        f"Documents: render + seal per document (documents.factory.Factory.issue), {SAMPLES} samples each",
        f"({machine()})",
        "",
        table(
            ROW_HEADERS,
            [
                [
                    row.template,
                    row.profile,
                    f"{ms(row.ours, 50):.1f} ms",
                    f"{ms(row.ours, 95):.1f} ms",
                    f"{ms(row.render, 50):.1f} ms",
                    f"{ms(row.bare, 50):.1f} ms",
                    f"{ms(row.bare, 95):.1f} ms",
                    f"{ratio(row.ours, row.bare):.2f}",
                    f"{ms(row.bare_cached, 50):.1f} ms",
                    f"{ratio(row.ours, row.bare_cached):.2f}",
                ]
                for row in rows
            ],
            text_columns=2,
        ),
        "ours: the template rendered, then sealed with the visible stamp; × figures are p50 over p50;"
        " render: the same page as a preview (Factory.preview, watermark, no seal), to show ours' share.",
        "bare: pyHanko's SimpleSigner.load_pkcs12 + sign_pdf on a minimal one-page PDF, same key and level,"
        " no stamp; bare¹: the same with the key parsed once (documents.keys.CachedKeySigner).",
        f"goal: render + seal ≤ {GOAL_RATIO}× bare pyHanko: {verdict(worst <= GOAL_RATIO)} (worst {worst:.2f});"
        f" against bare¹: {verdict(worst_cached <= GOAL_RATIO)} (worst {worst_cached:.2f})",
    ]


def load_report(results: Sequence[Concurrent], level: str) -> list[str]:
    lines = [
        "",
        f"{CONCURRENT} concurrent issuers (render + seal, {level}, templates in turn) for {CONCURRENT_SECONDS:.0f} s"
        f" with {ROOMS} Socket.IO rooms relaying {SIGNAL_RATE:.0f} signals/s each in the same process and loop:",
        "",
        table(
            LOAD_HEADERS,
            [
                [
                    c.mode,
                    f"{c.per_second:.1f}",
                    str(c.relayed),
                    f"{c.worst_stall * 1000:.1f} ms",
                    str(c.stalls_over_goal),
                    "n/a" if c.worst_off_queue is None else f"{c.worst_off_queue * 1000:.1f} ms",
                    str(c.off_queue_over_goal),
                    f"{c.thread_worst * 1000:.1f} ms",
                    f"{c.gc_worst * 1000:.1f} ms (gen {c.gc_worst_generation})" if c.gc_worst_generation >= 0 else "-",
                    f"{c.load_average:.1f}",
                    c.place(),
                ]
                for c in results
            ],
            text_columns=1,
        ),
        f"loop stall: the probe task's worst lateness (it sleeps {PROBE_SECONDS * 1000:.0f} ms at a time), and how"
        f" many ticks were later than {GOAL_STALL_MS:.0f} ms; w/o run queue: the same less the time the loop thread"
        " waited for a CPU (Linux schedstat), i.e. what the loop lost to the GIL or to its own work rather than to"
        f" the machine; GIL wait: the worst lateness of a plain thread sleeping {WITNESS_SECONDS * 1000:.0f} ms;"
        " GC worst: the longest collection (it holds the GIL); load avg: the machine's 1-minute load average"
        f" ({os.cpu_count()} CPUs); loop was: where the loop thread stood while its probe was late"
        " (one place again and again: work on the loop; spread over its I/O code: where it let go of the GIL).",
    ]
    floor = next((c for c in results if not c.documents), None)
    if floor is not None and floor.worst_stall * 1000 > GOAL_STALL_MS:
        # Without documents nothing of ViBü's can hold the loop up: the machine is busy, and every
        # figure below carries its share (a preempted thread holding the GIL shows as a GIL wait).
        lines.append(
            f"note: with no documents at all the loop stalled {floor.worst_stall * 1000:.0f} ms"
            f" (load average {floor.load_average:.1f} on {os.cpu_count()} CPUs): the machine is busy;"
            " compare the rows with that one, and run again on a quiet machine for the goal."
        )
    for c in results:
        if c.documents:
            stalled = verdict(c.worst_stall * 1000 <= GOAL_STALL_MS)
            line = f"goal: no event-loop stall above {GOAL_STALL_MS:.0f} ms ({c.mode}): {stalled}"
            if c.worst_off_queue is not None:
                line += f"; without the run-queue wait: {verdict(c.worst_off_queue * 1000 <= GOAL_STALL_MS)}"
            lines.append(f"{line}. {diagnosis(c)}")
    return lines


def diagnosis(c: Concurrent) -> str:
    """Why the loop was late, read from the witnesses (bench/documents_load.py)."""
    if c.worst_stall * 1000 <= GOAL_STALL_MS:
        return "Within the goal."
    if c.worst_off_queue is not None and c.worst_off_queue * 1000 <= GOAL_STALL_MS:
        return (
            f"Why: the machine; beyond the goal, the loop thread was runnable and waited for a CPU"
            f" (load average {c.load_average:.1f} on {os.cpu_count()} CPUs)."
        )
    # A thread with nothing to do that waits about as long cannot have been held up by the loop's
    # work: the interpreter lock was. Where the loop stood then is only where it had to let go.
    if c.thread_worst >= 0.5 * (c.worst_off_queue or c.worst_stall):
        return (
            f"Why: the GIL; a plain thread with nothing to do waited up to {c.thread_worst * 1000:.0f} ms for it"
            f" too, so the loop was held up, not busy (longest GC pause {c.gc_worst * 1000:.0f} ms;"
            f" the loop stood at: {c.place()})."
        )
    return f"Why: work on the loop itself, mostly at {c.place()}."


def issuing(factory: Factory) -> Issue:
    """The n-th document of the load: the templates in turn, through `factory`."""
    templates = sorted(TEMPLATES)

    async def issue(n: int) -> object:
        template_id = templates[n % len(templates)]
        return await factory.issue(template_id, FIELDS[template_id], FACTS)

    return issue


async def run() -> int:
    rows: list[Row] = []
    results: list[Concurrent] = []
    with tempfile.TemporaryDirectory(prefix="vibue-bench-documents-") as tmp, ExitStack() as stack:
        workdir = Path(tmp)
        factories: list[Factory] = []
        try:
            chosen = list(profiles(stack, workdir))
            for profile in chosen:
                factories.append(await start_factory(profile.settings))  # as documents.setup runs it
                for template_id in sorted(TEMPLATES):
                    rows.append(await measure(profile, template_id, factories[-1]))
            app_factory, settings = factories[0], chosen[0].settings
            # The arrangement before worker processes: render and seal in threads of this process.
            factories.append(Factory(await Sealer.start(settings), zone=settings.timezone))
            results.append(await run_concurrent("none (load only)", None))
            results.append(await run_concurrent("threads", issuing(factories[-1])))
            results.append(await run_concurrent("processes (app)", issuing(app_factory)))
            level = app_factory.sealer.level
        finally:
            for factory in factories:
                await asyncio.to_thread(factory.close)
    print("\n".join([*rows_report(rows), *load_report(results, level)]))
    return 0 if all(not math.isnan(ms(row.ours, 50)) for row in rows) else 1


def main() -> int:
    return asyncio.run(run())


if __name__ == "__main__":
    sys.exit(main())
