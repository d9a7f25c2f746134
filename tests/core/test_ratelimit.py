"""Rate limits per client: sliding window, Retry-After, and clients told apart behind a trusted proxy."""

from __future__ import annotations

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from vibue.core.errors import RateLimited
from vibue.core.ratelimit import RateLimiter


class Ticks:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def request(peer: str, forwarded: str | None = None) -> web.Request:
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    transport_request = make_mocked_request("POST", "/api/reservations", headers=headers)
    transport_request._transport_peername = (peer, 40000)
    return transport_request


def test_window_slides_and_tells_when_to_retry() -> None:
    ticks = Ticks()
    limiter = RateLimiter("secret", monotonic=ticks)
    for _ in range(3):
        limiter.hit("reservations", "k", limit=3, window=60)
    with pytest.raises(RateLimited) as raised:
        limiter.hit("reservations", "k", limit=3, window=60)
    assert raised.value.retry_after == 60
    ticks.now += 61
    limiter.hit("reservations", "k", limit=3, window=60)


def test_forwarded_for_counts_only_behind_a_trusted_proxy() -> None:
    direct = RateLimiter("secret")
    assert direct.client_address(request("203.0.113.9", "198.51.100.1")) == "203.0.113.9"
    proxied = RateLimiter("secret", proxies=frozenset({"10.0.0.2"}))
    assert proxied.client_address(request("10.0.0.2", "198.51.100.1")) == "198.51.100.1"
    # A client cannot spoof itself a fresh bucket: the proxy appends the real address last.
    assert proxied.client_address(request("10.0.0.2", "1.2.3.4, 198.51.100.7")) == "198.51.100.7"
    assert proxied.client_key(request("10.0.0.2", "198.51.100.1")) != proxied.client_key(
        request("10.0.0.2", "198.51.100.2")
    )


def test_the_clean_up_forgets_each_bucket_by_its_own_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """A flood of short-window hits must not wipe a client's hourly count (it once did)."""
    monkeypatch.setattr("vibue.core.ratelimit.PRUNE_ABOVE", 10)
    ticks = Ticks()
    limiter = RateLimiter("secret", monotonic=ticks)
    for _ in range(3):
        limiter.hit("mails", "citizen", limit=3, window=3600)
    ticks.now += 600
    for n in range(20):  # distinct clients with a 2-second window: the clean-up runs
        limiter.hit("events", f"socket-{n}", limit=100, window=2)
    ticks.now += 3
    for n in range(30):  # more clients later: the clean-up runs again
        limiter.hit("events", f"later-{n}", limit=100, window=2)
    with pytest.raises(RateLimited):
        limiter.hit("mails", "citizen", limit=3, window=3600)
    assert not [key for key in limiter._hits if key[1].startswith("socket-")]  # expired: forgotten


def test_live_entries_do_not_make_every_hit_scan_them_all(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("vibue.core.ratelimit.PRUNE_ABOVE", 10)
    limiter = RateLimiter("secret", monotonic=Ticks())
    scans = 0
    original = limiter._prune

    def counting(now: float) -> None:
        nonlocal scans
        scans += 1
        original(now)

    monkeypatch.setattr(limiter, "_prune", counting)
    for n in range(1000):  # all live: nothing can be forgotten
        limiter.hit("events", f"socket-{n}", limit=100, window=60)
    assert scans <= 8  # thresholds 10, 22, 46, ... not 990 scans


def test_a_closed_connection_is_forgotten() -> None:
    limiter = RateLimiter("secret", monotonic=Ticks())
    limiter.hit("events", "sid-1", limit=1, window=60)
    limiter.hit("chat", "sid-1", limit=1, window=60)
    limiter.hit("events", "sid-2", limit=1, window=60)
    limiter.forget("sid-1")
    assert sorted(limiter._hits) == [("events", "sid-2")]


async def test_a_shared_limit_counts_once_for_every_process_with_redis(redis_prefix: str) -> None:
    import redis.asyncio

    from vibue.core.ratelimit import SharedLimiter

    clients = [redis.asyncio.from_url("redis://127.0.0.1:6379/0") for _ in range(2)]
    try:
        one, two = (SharedLimiter("secret", redis_client=c, prefix=redis_prefix) for c in clients)
        for limiter in (one, two, one):
            await limiter.hit("mails", "citizen", limit=3, window=60)
        with pytest.raises(RateLimited) as raised:
            await two.hit("mails", "citizen", limit=3, window=60)
        assert 1 <= raised.value.retry_after <= 60
        await two.hit("mails", "somebody-else", limit=3, window=60)  # counted per client
        await two.hit("reservations", "citizen", limit=3, window=60)  # and per bucket
    finally:
        for client in clients:
            await client.aclose()


async def test_without_redis_the_shared_limit_counts_in_memory() -> None:
    from vibue.core.ratelimit import SharedLimiter

    one, two = SharedLimiter("secret"), SharedLimiter("secret")
    for _ in range(3):
        await one.hit("mails", "citizen", limit=3, window=60)
    with pytest.raises(RateLimited):
        await one.hit("mails", "citizen", limit=3, window=60)
    await two.hit("mails", "citizen", limit=3, window=60)  # another process: its own count
