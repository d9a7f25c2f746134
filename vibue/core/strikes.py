"""Failure counters that lock a key for a while: in Redis when configured (shared by every
process), else in process memory (bounded).

Keys are opaque strings the caller has already hashed; nothing here knows names or addresses.
Times come from the caller's clock, so a lock ends at the same moment on every process and under a
test's manual clock; Redis only forgets an entry once its lock (or its last failure) is over. A Redis that does not
answer refuses the request (vibue.core.shared_counters).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import redis.asyncio

from vibue.core.shared_counters import counted_in_redis

# Keys tracked at once in memory; beyond it the oldest entries are dropped.
MAX_ENTRIES = 10_000

# ARGV: now (ms), lock (ms), limit. Returns 1 when this failure locks the key.
_FAIL = """
local now, lock, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local v = redis.call('HMGET', KEYS[1], 'f', 'l', 'u')
local f = v[1] and tonumber(v[1]) or 0
local l = v[2] and tonumber(v[2]) or 0
local u = v[3] and tonumber(v[3]) or 0
local ends = l + lock
if u > 0 then ends = u end
if ends <= now then f = 0; u = 0 end
f = f + 1
local locks = 0
if f >= limit and u <= now then u = now + lock; locks = 1 end
redis.call('HSET', KEYS[1], 'f', f, 'l', now, 'u', u)
redis.call('PEXPIRE', KEYS[1], math.max(1, u - now, lock))
return locks
"""


def _ms(moment: datetime) -> int:
    return math.floor(moment.timestamp() * 1000)


@dataclass
class _Entry:
    failures: int
    last: datetime
    lock: timedelta
    locked_until: datetime | None = None

    def ends(self) -> datetime:
        return self.locked_until or self.last + self.lock


class Strikes:
    """Count failures per key; `limit` failures within `lock` of each other lock the key for `lock`."""

    def __init__(
        self, *, redis_client: redis.asyncio.Redis | None = None, prefix: str = "vibue", max_entries: int = MAX_ENTRIES
    ) -> None:
        self._redis = redis_client
        self._prefix = prefix
        self._fail_script = None if redis_client is None else redis_client.register_script(_FAIL)
        self._max = max_entries
        self._entries: dict[str, _Entry] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def _redis_key(self, key: str) -> str:
        return f"{self._prefix}:strikes:{key}"

    def _current(self, key: str, now: datetime) -> _Entry | None:
        entry = self._entries.get(key)
        if entry is not None and entry.ends() <= now:
            del self._entries[key]
            return None
        return entry

    async def is_locked(self, key: str, now: datetime) -> bool:
        if self._redis is not None:
            with counted_in_redis():
                until = await self._redis.hget(self._redis_key(key), "u")
            return until is not None and int(until) > _ms(now)
        entry = self._current(key, now)
        return entry is not None and entry.locked_until is not None and entry.locked_until > now

    async def fail(self, key: str, now: datetime, *, limit: int, lock: timedelta) -> bool:
        """Count one failure; True when it locks the key (once per lock)."""
        if self._fail_script is not None:
            args = [_ms(now), math.ceil(lock.total_seconds() * 1000), limit]
            with counted_in_redis():
                return bool(int(await self._fail_script(keys=[self._redis_key(key)], args=args)))
        entry = self._current(key, now)
        if entry is None:
            self._make_room(now)
            entry = self._entries[key] = _Entry(failures=0, last=now, lock=lock)
        entry.failures += 1
        entry.last = now
        if entry.failures >= limit and (entry.locked_until is None or entry.locked_until <= now):
            entry.locked_until = now + lock
            return True
        return False

    async def forget(self, key: str) -> None:
        """Start counting afresh (after a success)."""
        if self._redis is not None:
            with counted_in_redis():
                await self._redis.delete(self._redis_key(key))
        self._entries.pop(key, None)

    def _make_room(self, now: datetime) -> None:
        if len(self._entries) < self._max:
            return
        for key in list(self._entries):
            self._current(key, now)  # drops the expired ones
        while len(self._entries) >= self._max:  # a flood of keys: forget the oldest
            del self._entries[next(iter(self._entries))]
