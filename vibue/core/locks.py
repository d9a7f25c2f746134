"""In-process locks by key.

Bookings at one location already serialise on a database lock (see vibue.booking.service). Queuing them
on an asyncio lock first means they wait in order inside the process instead of in SQLite's
busy handler, which sleeps and retries and so gives a long tail under load; the database lock
still guards against other processes.

The signaling gate holds one for every client event (the room's), so holding one is kept cheap:
a plain context object, no generator, and no lock built when the key already has one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Hashable
from types import TracebackType


class KeyedLocks:
    def __init__(self) -> None:
        # key -> its lock and how many tasks hold or wait for it; idle keys are forgotten.
        self._locks: dict[Hashable, tuple[asyncio.Lock, list[int]]] = {}

    def hold(self, key: Hashable) -> _Held:
        """`async with locks.hold(key):` runs the block while no other task holds `key`."""
        return _Held(self._locks, key)


class _Held:
    __slots__ = ("_entry", "_key", "_locks")

    def __init__(self, locks: dict[Hashable, tuple[asyncio.Lock, list[int]]], key: Hashable) -> None:
        self._locks = locks
        self._key = key

    async def __aenter__(self) -> None:
        entry = self._locks.get(self._key)
        if entry is None:
            entry = self._locks[self._key] = (asyncio.Lock(), [0])
        self._entry = entry
        entry[1][0] += 1
        try:
            await entry[0].acquire()
        except BaseException:  # cancelled while waiting: no longer a user of the key
            self._leave()
            raise

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._entry[0].release()
        self._leave()

    def _leave(self) -> None:
        users = self._entry[1]
        users[0] -= 1
        if users[0] == 0:  # forget idle keys so memory stays bounded
            del self._locks[self._key]
