"""Render + seal in worker processes, so the app's event loop never waits for the GIL behind them.

Measured (bench/documents.py): with reportlab and pyHanko in threads of the app's process, the
event loop stalled for tens of milliseconds at a time under 8 concurrent issuers, although nothing
ran on it: it waited for the interpreter lock that the render and seal threads held. In worker
processes the loop only pickles fields and facts in and a PDF out.

Each worker process opens its own Sealer once, in the pool's initializer: the key is parsed once
per process and reused for every document (a PKCS#11 token gets a session per process, which is
what python-pkcs11 needs anyway). Workers are spawned, never forked: a fork of a process with an
event loop and threads can inherit a held lock. They run at a lower priority than the app, so a
busy worker does not keep the event loop waiting for a core either.
"""

from __future__ import annotations

import asyncio
import functools
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from multiprocessing.util import Finalize
from typing import TypeVar

from documents import fonts
from documents.render import render
from documents.sealing import Sealer
from vibue.core.errors import SealUnavailable
from vibue.core.settings import Settings, SettingsError
from vibue.issued.ports import IssueFacts, SealedDocument

T = TypeVar("T")
WORKER_NICENESS = 10  # os.nice() increment: at 10 a worker weighs a tenth of the app's process
_sealer: Sealer | None = None  # the worker process's own, set by _start


def _start(settings: Settings) -> None:
    """The pool's initializer: runs once in each worker process."""
    global _sealer
    # Below the app's priority: when documents and calls want the same cores, the event loop gets
    # the CPU the moment it wakes (a document may take a few ms longer; a call's messages do not).
    os.nice(WORKER_NICENESS)
    _sealer = Sealer.open(settings)
    # Closed when the worker exits (multiprocessing runs these finalizers; it skips atexit).
    Finalize(_sealer, _sealer.close, exitpriority=10)
    fonts.register()  # the TrueType files parsed now, not in the first document's time


def _ready() -> bool:
    return _sealer is not None


@dataclass(frozen=True)
class _Unavailable:
    """SealUnavailable as a value: the exception does not survive pickling with its retry_after."""

    retry_after: int


def _issue(template_id: str, fields: dict[str, str], facts: IssueFacts, zone: str) -> SealedDocument | _Unavailable:
    assert _sealer is not None, "the pool's initializer opens the sealer"
    rendered = render(template_id, fields, facts, preview=False, zone=zone)
    try:
        return _sealer.seal_blocking(
            rendered.pdf,
            page=rendered.seal_page,
            box=rendered.seal_box,
            clerk_name=facts.clerk_name,
            office=facts.office,
            when=facts.issued_at,
        )
    except SealUnavailable as exc:
        return _Unavailable(exc.retry_after)


def _preview(template_id: str, fields: dict[str, str], facts: IssueFacts, zone: str) -> bytes:
    return render(template_id, fields, facts, preview=True, zone=zone).pdf


class Workers:
    """A pool of `count` spawned processes that render and seal; `start` it before use."""

    def __init__(self, settings: Settings, *, count: int, zone: str) -> None:
        self.settings = settings
        self.count = count
        self.zone = zone
        self.pool = self._pool()

    def _pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=self.count,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start,
            initargs=(self.settings,),
        )

    def start(self) -> None:
        """Spawn every worker and wait until each has its key (blocking: call it in a thread).

        The pool spawns a process per submission while none is idle, so `count` submissions at once
        start them all now rather than on the event loop at the first documents.
        """
        try:
            for ready in [self.pool.submit(_ready) for _ in range(self.count)]:
                ready.result()
        except BrokenProcessPool:
            raise SettingsError("the document workers could not open the seal's key (see their log)") from None

    async def _run(self, work: Callable[[], T]) -> T:
        try:
            return await asyncio.get_running_loop().run_in_executor(self.pool, work)
        except BrokenProcessPool:
            # A worker died (killed, out of memory, a crashed token module): nothing was issued.
            # A fresh pool takes the next document; this one is refused as a seal that failed.
            broken, self.pool = self.pool, self._pool()
            broken.shutdown(wait=False)
            raise SealUnavailable() from None

    async def issue(self, template_id: str, fields: dict[str, str], facts: IssueFacts) -> SealedDocument:
        result = await self._run(functools.partial(_issue, template_id, fields, facts, self.zone))
        if isinstance(result, _Unavailable):
            raise SealUnavailable(retry_after=result.retry_after)
        return result

    async def preview(self, template_id: str, fields: dict[str, str], facts: IssueFacts) -> bytes:
        return await self._run(functools.partial(_preview, template_id, fields, facts, self.zone))

    def close(self) -> None:
        self.pool.shutdown(wait=True)
