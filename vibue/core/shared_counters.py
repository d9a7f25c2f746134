"""The Redis connection that holds the counters every process shares (rate limits, sign-in
lockouts), and what happens when it does not answer.

Without those counters a limit cannot be kept, so a request that needs one is refused with 503
`limits_unavailable` and Retry-After instead of going through uncounted (fail closed: an attacker
must not get unlimited guesses by knocking Redis over) or failing as a 500. Short timeouts make a
Redis that hangs look like one that is down, rather than holding every request for minutes. The
warning is logged at most once a minute: a flood of refused requests must not flood the log.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager

import redis.asyncio
from redis.exceptions import RedisError

from vibue.core.errors import LimitsUnavailable

log = logging.getLogger(__name__)

# Seconds a client is asked to wait; Redis restarts or fails over within a few.
RETRY_AFTER = 10
TIMEOUT_SECONDS = 2.0
LOG_EVERY_SECONDS = 60.0


def connect(url: str) -> redis.asyncio.Redis:
    """A client for the shared counters; connections open on first use."""
    return redis.asyncio.from_url(url, socket_connect_timeout=TIMEOUT_SECONDS, socket_timeout=TIMEOUT_SECONDS)


class _Warning:
    """When the outage was last logged (monotonic seconds), shared by every guard of the process."""

    last: float | None = None


@contextmanager
def counted_in_redis() -> Iterator[None]:
    """Turn a Redis failure inside the block into LimitsUnavailable (503)."""
    try:
        yield
    except (RedisError, OSError) as exc:  # TimeoutError is an OSError
        now = time.monotonic()
        if _Warning.last is None or now - _Warning.last >= LOG_EVERY_SECONDS:
            _Warning.last = now
            # The type only: a connection error's text can hold the Redis URL with its password.
            log.warning("Redis does not answer (%s): requests that need a shared limit get 503", type(exc).__name__)
        raise LimitsUnavailable(retry_after=RETRY_AFTER) from None
