"""The DocumentFactory the app uses: a template rendered by reportlab, then sealed by pyHanko.

vibue sees only the port (vibue.issued.ports); `setup` plugs this in from run.py. The app renders and
seals in worker processes (documents/workers.py): in threads of its own process they held the GIL
long enough to stall the event loop (bench/documents.py measures both). Without workers, rendering
runs in a thread of the factory's pool (reportlab holds a process-wide lock, see render.py) and
sealing in the sealer's; either way the event loop only waits.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor

from aiohttp import web

from documents import templates
from documents.render import RenderedPdf, render
from documents.sealing import Sealer
from documents.workers import Workers
from vibue.core.settings import Settings
from vibue.issued.ports import DOCUMENT_FACTORY, BookingFacts, IssueFacts, SealedDocument, TemplateInfo
from vibue.web.appkeys import SETTINGS


class Factory:
    """Render + seal, as the port says."""

    def __init__(self, sealer: Sealer, *, zone: str, workers: Workers | None = None) -> None:
        # In process mode the sealer here signs nothing: it answers for the level and the root
        # certificate, and opening it at start turned a bad key into a start error.
        self.sealer = sealer
        self.zone = zone
        self.workers = workers
        # One thread: reportlab renders one document at a time anyway (render.py's lock).
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vibue-render")

    def templates(self) -> tuple[TemplateInfo, ...]:
        return templates.template_infos()

    def prefill(self, template_id: str, facts: BookingFacts) -> dict[str, str]:
        return templates.prefill(template_id, facts, zone=self.zone)

    def validate(self, template_id: str, fields: dict[str, str]) -> dict[str, str]:
        return templates.validate(template_id, fields)

    async def _render(
        self, template_id: str, fields: dict[str, str], facts: IssueFacts, *, preview: bool
    ) -> RenderedPdf:
        work = functools.partial(render, template_id, fields, facts, preview=preview, zone=self.zone)
        return await asyncio.get_running_loop().run_in_executor(self.pool, work)

    async def preview(self, template_id: str, fields: dict[str, str], facts: IssueFacts) -> bytes:
        if self.workers is not None:
            templates.validate(template_id, fields)  # here: Invalid loses its field messages in a pickle
            return await self.workers.preview(template_id, fields, facts)
        return (await self._render(template_id, fields, facts, preview=True)).pdf

    async def issue(self, template_id: str, fields: dict[str, str], facts: IssueFacts) -> SealedDocument:
        if self.workers is not None:
            templates.validate(template_id, fields)
            return await self.workers.issue(template_id, fields, facts)
        rendered = await self._render(template_id, fields, facts, preview=False)
        return await self.sealer.seal(
            rendered.pdf,
            page=rendered.seal_page,
            box=rendered.seal_box,
            clerk_name=facts.clerk_name,
            office=facts.office,
            when=facts.issued_at,
        )

    def root_certificate(self) -> bytes | None:
        return self.sealer.root_certificate()

    def close(self) -> None:
        if self.workers is not None:
            self.workers.close()
        self.pool.shutdown(wait=True)
        self.sealer.close()


async def start(settings: Settings) -> Factory:
    """The factory as the app runs it: render + seal in `seal_workers` worker processes, or with
    `seal_workers = 0` in threads of this process (no processes to spawn, ~3 s and 5 CPU-seconds
    for two; the loop may then wait for the GIL behind a document, which a test can afford)."""
    # The parent's sealer first: it makes the development PKI on the first start, which the workers then load.
    sealer = await Sealer.start(settings)
    if settings.seal_workers == 0:
        return Factory(sealer, zone=settings.timezone)
    workers = Workers(settings, count=settings.seal_workers, zone=settings.timezone)
    try:
        await asyncio.to_thread(workers.start)
    except BaseException:
        await asyncio.to_thread(workers.close)
        sealer.close()
        raise
    return Factory(sealer, zone=settings.timezone, workers=workers)


async def _lifetime(app: web.Application) -> AsyncIterator[None]:
    factory = await start(app[SETTINGS])
    app[DOCUMENT_FACTORY] = factory
    yield
    await asyncio.to_thread(factory.close)


def setup(app: web.Application) -> None:
    """Plug the document factory into the app (run.py passes this in `setups`)."""
    app.cleanup_ctx.append(_lifetime)
