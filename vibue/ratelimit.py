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

from vibue.errors import RateLimited


class RateLimiter:
    def __init__(
        self, secret: str, *, proxies: frozenset[str] = frozenset(), monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._secret = secret.encode()
        self._proxies = proxies
        self._hits: dict[tuple[str, str], deque[float]] = {}
        self._now = monotonic

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
        hits = self._hits.setdefault((bucket, key), deque())
        while hits and hits[0] <= now - window:
            hits.popleft()
        if len(hits) >= limit:
            raise RateLimited(retry_after=max(1, math.ceil(hits[0] + window - now)))
        hits.append(now)
        if len(self._hits) > 100_000:  # bounded memory under a flood of distinct clients
            self._prune(now, window)

    def _prune(self, now: float, window: float) -> None:
        for bucket_key in [k for k, v in self._hits.items() if not v or v[-1] <= now - window]:
            del self._hits[bucket_key]

    def reset(self) -> None:
        self._hits.clear()
