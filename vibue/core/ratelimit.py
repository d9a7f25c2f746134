"""Per-client rate limits (sliding window).

The client key is a keyed hash of the peer address: good enough to tell clients apart, never
stored, never logged. `RateLimiter` counts in process memory (the socket gate's per-connection
budget, and the app's limits without Redis); `SharedLimiter` is what the HTTP handlers call: with
VIBUE_REDIS_URL set every process counts in the same Redis sorted sets, so two processes do not
allow twice the limit.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import time
import uuid
from collections import deque
from collections.abc import Callable

import redis.asyncio
from aiohttp import web

from vibue.core.errors import RateLimited
from vibue.core.shared_counters import counted_in_redis

PRUNE_ABOVE = 100_000
# The windows the limits in settings are counted over (their help lines name them).
TEN_MINUTES = 600.0
HOUR = 3600.0


class RateLimiter:
    def __init__(
        self, secret: str, *, proxies: frozenset[str] = frozenset(), monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._secret = secret.encode()
        self._proxies = proxies
        # (bucket, client) -> (that bucket's window, times of the hits within it)
        self._hits: dict[tuple[str, str], tuple[float, deque[float]]] = {}
        self._now = monotonic
        self._prune_above = PRUNE_ABOVE

    def client_address(self, request: web.Request) -> str:
        """The peer, or behind trusted proxies the right-most X-Forwarded-For hop they did not add."""
        peer = request.remote or "unknown"
        if peer not in self._proxies:
            return peer
        hops = [hop.strip() for hop in request.headers.get("X-Forwarded-For", "").split(",") if hop.strip()]
        for hop in reversed(hops):
            if hop not in self._proxies:
                return hop
        return peer

    def client_key(self, request: web.Request) -> str:
        address = self.client_address(request)
        return hmac.new(self._secret, address.encode(), hashlib.sha256).hexdigest()[:32]

    def hit(self, bucket: str, key: str, *, limit: int, window: float) -> None:
        """Count one event; raise RateLimited (429 with Retry-After) when the window is full."""
        now = self._now()
        _, hits = self._hits.setdefault((bucket, key), (window, deque()))
        while hits and hits[0] <= now - window:
            hits.popleft()
        if len(hits) >= limit:
            raise RateLimited(retry_after=max(1, math.ceil(hits[0] + window - now)))
        hits.append(now)
        if len(self._hits) > self._prune_above:  # bounded memory under a flood of distinct clients
            self._prune(now)

    def _prune(self, now: float) -> None:
        """Forget clients whose last hit has left their own bucket's window.

        Each bucket by its own window: an hourly mail limit must not be forgotten because a
        two-second event limit triggered the clean-up. If most entries are still live, the next
        clean-up waits until there are twice as many, so a hit does not scan them all each time.
        """
        for bucket_key in [k for k, (window, hits) in self._hits.items() if not hits or hits[-1] <= now - window]:
            del self._hits[bucket_key]
        self._prune_above = max(PRUNE_ABOVE, 2 * len(self._hits))

    def forget(self, key: str) -> None:
        """Drop a client's counters in every bucket (a closed Socket.IO connection's id)."""
        for bucket_key in [k for k in self._hits if k[1] == key]:
            del self._hits[bucket_key]

    def reset(self) -> None:
        self._hits.clear()


# Sliding window log in one sorted set per (bucket, client), timed by the Redis server's clock so
# every process agrees. Returns -1 when the hit is counted, else milliseconds until one is free.
_SLIDING_WINDOW = """
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local window = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ms - window)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return tonumber(oldest[2]) + window - ms
end
redis.call('ZADD', KEYS[1], ms, ARGV[3])
redis.call('PEXPIRE', KEYS[1], window)
return -1
"""


class SharedLimiter:
    """The app's rate limits: in Redis when a client is given (shared by every process), else in memory."""

    def __init__(
        self,
        secret: str,
        *,
        proxies: frozenset[str] = frozenset(),
        redis_client: redis.asyncio.Redis | None = None,
        prefix: str = "vibue",
    ) -> None:
        self.memory = RateLimiter(secret, proxies=proxies)
        self._redis = redis_client
        self._prefix = prefix
        self._script = None if redis_client is None else redis_client.register_script(_SLIDING_WINDOW)

    def client_address(self, request: web.Request) -> str:
        return self.memory.client_address(request)

    def client_key(self, request: web.Request) -> str:
        return self.memory.client_key(request)

    async def hit(self, bucket: str, key: str, *, limit: int, window: float) -> None:
        """Count one event; raise RateLimited (429 with Retry-After) when the window is full,
        LimitsUnavailable (503) when Redis does not answer."""
        if self._script is None:
            self.memory.hit(bucket, key, limit=limit, window=window)
            return
        with counted_in_redis():
            wait = int(
                await self._script(
                    keys=[f"{self._prefix}:rate:{bucket}:{key}"], args=[int(window * 1000), limit, uuid.uuid4().hex]
                )
            )
        if wait >= 0:
            raise RateLimited(retry_after=max(1, math.ceil(wait / 1000)))
