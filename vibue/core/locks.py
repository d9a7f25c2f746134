"""In-process locks by key.

Bookings at one location already serialise on a database lock (see vibue.booking.service). Queuing them
on an asyncio lock first means they wait in order inside the process instead of in SQLite's
busy handler, which sleeps and retries and so gives a long tail under load; the database lock
still guards against other processes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Hashable
from contextlib import asynccontextmanager


class KeyedLocks:
    def __init__(self) -> None:
        self._locks: dict[Hashable, asyncio.Lock] = {}
        self._users: dict[Hashable, int] = {}

    @asynccontextmanager
    async def hold(self, key: Hashable) -> AsyncIterator[None]:
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] = self._users.get(key, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._users[key] -= 1
            if self._users[key] == 0:  # forget idle keys so memory stays bounded
                del self._users[key]
                del self._locks[key]
