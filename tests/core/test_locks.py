"""KeyedLocks: one holder per key at a time, other keys independent, idle keys forgotten."""

from __future__ import annotations

import asyncio

from vibue.core.locks import KeyedLocks


async def test_one_holder_per_key_and_idle_keys_are_forgotten() -> None:
    locks = KeyedLocks()
    inside: dict[str, int] = {"a": 0, "b": 0}
    peak: dict[str, int] = {"a": 0, "b": 0}

    async def work(key: str) -> None:
        async with locks.hold(key):
            inside[key] += 1
            peak[key] = max(peak[key], inside[key])
            await asyncio.sleep(0.001)
            inside[key] -= 1

    await asyncio.gather(*(work(k) for k in "ab" * 20))
    assert peak == {"a": 1, "b": 1}
    assert locks._locks == {} and locks._users == {}


async def test_other_keys_do_not_wait() -> None:
    locks = KeyedLocks()
    async with locks.hold(1), asyncio.timeout(1), locks.hold(2):
        pass
