"""Per-client rate limits (sliding window, in process memory).

The client key is a keyed hash of the peer address: good enough to tell clients apart, never
stored, never logged. With several processes each counts on its own; a later issue moves the
counters to Redis when VIBUE_REDIS_URL is set.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import time
from collections import deque
from collections.abc import Callable

from aiohttp import web

from vibue.core.errors import RateLimited

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
