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
    assert locks._locks == {}


async def test_other_keys_do_not_wait() -> None:
    locks = KeyedLocks()
    async with locks.hold(1), asyncio.timeout(1), locks.hold(2):
        pass


async def test_a_waiter_cancelled_or_a_block_that_raises_leaves_no_key_behind() -> None:
    locks = KeyedLocks()
    holding = asyncio.Event()
    release = asyncio.Event()

    async def holder() -> None:
        async with locks.hold("k"):
            holding.set()
            await release.wait()
            raise RuntimeError("the block failed")

    async def waiter() -> None:
        async with locks.hold("k"):
            raise AssertionError("cancelled before it got the lock")

    first = asyncio.create_task(holder())
    await holding.wait()
    second = asyncio.create_task(waiter())
    await asyncio.sleep(0)
    second.cancel()
    await asyncio.gather(second, return_exceptions=True)
    release.set()
    assert isinstance((await asyncio.gather(first, return_exceptions=True))[0], RuntimeError)
    assert locks._locks == {}
    async with asyncio.timeout(1), locks.hold("k"):  # and the key can be held again
        pass
