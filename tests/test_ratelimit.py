"""Rate limits per client: sliding window, Retry-After, and clients told apart behind a trusted proxy."""

from __future__ import annotations

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from vibue.errors import RateLimited
from vibue.ratelimit import RateLimiter


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
