"""The mail worker's lifetime in the app: started with it, stopped after the mail in flight."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from aiohttp import web

from vibue.web.appkeys import MAIL


async def mail_worker(app: web.Application, *, shutdown_timeout: float = 15.0) -> AsyncIterator[None]:
    """cleanup_ctx: run the queue's worker for the app's lifetime; let the mail in flight finish on exit."""
    queue = app[MAIL]
    queue.resume()
    task = asyncio.create_task(queue.run(), name="mail-worker")
    yield
    queue.stop()
    try:
        async with asyncio.timeout(shutdown_timeout):
            await asyncio.shield(task)
    except TimeoutError:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
