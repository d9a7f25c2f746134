"""python-socketio's Redis client manager, made to close what it opens.

`AsyncRedisManager` never closes its clients, and `_redis_connect` makes a new Redis client and
pub/sub each time it runs — on start and after every listener error — dropping the previous
ones open. This subclass keeps every client it was given and closes them all in `aclose()`,
which must run after the last emit: the server learns of sockets that went during the stop only
after the on_shutdown hooks (aiohttp waits for the WebSocket handlers then), their
`peer.reconnecting` emits reopen a closed client's connection, and that one outlives the app and
its event loop as an unclosed socket (the test suite reported it as a ResourceWarning in whichever
test ran into the next garbage collection).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import socketio


class ClosingRedisManager(socketio.AsyncRedisManager):  # type: ignore[misc]
    def __init__(self, url: str, *, channel: str) -> None:
        super().__init__(url, channel=channel)
        self._opened: list[Any] = []

    def _redis_connect(self) -> None:
        super()._redis_connect()
        self._opened += [self.pubsub, self.redis]

    async def aclose(self) -> None:
        """Stop the listener task, then close every pub/sub and client ever made (Redis may be gone)."""
        listener = getattr(self, "thread", None)
        if isinstance(listener, asyncio.Task):
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await listener
        opened, self._opened = self._opened, []
        for client in opened:
            with contextlib.suppress(Exception):
                await client.aclose()
        # A pub/sub closes its transport without waiting; one turn of the loop lets it finish.
        await asyncio.sleep(0)
