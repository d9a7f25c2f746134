"""The DocumentFactory the app uses: a template rendered by reportlab, then sealed by pyHanko.

vibue sees only the port (vibue.issued.ports); `setup` plugs this in from run.py. Rendering runs in
a thread of its own pool (reportlab holds a process-wide lock, see render.py), sealing in the
sealer's; the event loop only waits.
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
from vibue.issued.ports import DOCUMENT_FACTORY, BookingFacts, IssueFacts, SealedDocument, TemplateInfo
from vibue.web.appkeys import SETTINGS


class Factory:
    """Render + seal, as the port says."""

    def __init__(self, sealer: Sealer, *, zone: str) -> None:
        self.sealer = sealer
        self.zone = zone
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
        return (await self._render(template_id, fields, facts, preview=True)).pdf

    async def issue(self, template_id: str, fields: dict[str, str], facts: IssueFacts) -> SealedDocument:
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
        self.pool.shutdown(wait=True)
        self.sealer.close()


async def _lifetime(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    factory = Factory(await Sealer.start(settings), zone=settings.timezone)
    app[DOCUMENT_FACTORY] = factory
    yield
    await asyncio.to_thread(factory.close)


def setup(app: web.Application) -> None:
    """Plug the document factory into the app (run.py passes this in `setups`)."""
    app.cleanup_ctx.append(_lifetime)
