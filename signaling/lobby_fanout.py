"""Waiting-room changes reach the staff watching on every server process.

Each watching staff member gets their own list (the rooms they serve), so a process can only
compute the lists of the watchers connected to it. A change therefore travels as a bare nudge:
with Redis, on a pub/sub channel every process listens to (the one that made the change too),
and each process then refreshes its own watchers; without Redis, the one process refreshes at
once. The nudge carries no data, so nothing personal passes through Redis.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

import redis.asyncio
from redis.exceptions import RedisError

log = logging.getLogger("vibue.signaling")

Refresh = Callable[[], Awaitable[None]]
# After a lost Redis connection, wait this long before subscribing again; meanwhile the clerk
# console's own poll (every 30 s, web/js/clerk-call.js) keeps the list current.
RESUBSCRIBE_SECONDS = 1.0


class LobbyFanout:
    def __init__(self, refresh: Refresh, *, redis_url: str = "", channel: str = "vibue") -> None:
        self._refresh = refresh
        self._channel = f"{channel}:lobby"
        self._redis = redis.asyncio.from_url(redis_url) if redis_url else None
        self._dirty = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def changed(self) -> None:
        """Say that the waiting room changed; every process refreshes its watchers."""
        if self._redis is None:
            self._dirty.set()
            return
        try:
            await self._redis.publish(self._channel, b"")
        except RedisError:
            log.warning("lobby change not published; staff elsewhere see it at their next poll")
            self._dirty.set()  # this process's watchers at least

    async def start(self) -> None:
        self._tasks.append(asyncio.create_task(self._refresher(), name="vibue-lobby-refresh"))
        if self._redis is not None:
            subscribed = asyncio.get_running_loop().create_future()
            self._tasks.append(asyncio.create_task(self._listen(subscribed), name="vibue-lobby-listen"))
            try:
                # Changes made from now on are heard here too.
                await asyncio.wait_for(subscribed, 10)
            except TimeoutError:
                log.warning("lobby channel not subscribed yet; staff see changes at their next poll")

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        if self._redis is not None:
            await self._redis.aclose()

    async def _refresher(self) -> None:
        # Bursts of changes (a room filling up, a restart) collapse into one refresh per watcher.
        while True:
            await self._dirty.wait()
            self._dirty.clear()
            try:
                await self._refresh()
            except Exception:
                log.exception("lobby refresh failed")

    async def _listen(self, subscribed: asyncio.Future[None]) -> None:
        assert self._redis is not None
        while True:
            try:
                async with self._redis.pubsub() as pubsub:
                    await pubsub.subscribe(self._channel)
                    if not subscribed.done():
                        subscribed.set_result(None)
                    async for message in pubsub.listen():
                        if message["type"] == "message":
                            self._dirty.set()
            except RedisError:
                log.warning("lobby channel lost; subscribing again")
                await asyncio.sleep(RESUBSCRIBE_SECONDS)
