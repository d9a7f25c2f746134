"""Who is in a call, and whether a staff socket's sign-in session lasts: held in memory per process.

The relay path asks both on every message; the database stays the truth (rooms.py, decision #8),
this process keeps copies of it (decision #16):

- A copy is dropped when the transaction that changed it ends, in this process at once (before
  the event that changed it is answered): the one entry point is `room_changed(session,
  appointment_id)` for room state, and vibue.staff.sessions marks ended sign-in sessions the same
  way (vibue.core.after_commit). With Redis, the change is then published on the channel
  `<VIBUE_REDIS_CHANNEL>:cache` (`room:<appointment id>` or `staff`, no personal data) and every
  process drops its copy when it hears it.
- No copy is used longer than STALE_SECONDS after it was read: that bounds how long another
  process can act on the old state even when a message is lost or Redis is down. While this
  process is not subscribed to the channel, it keeps no copies at all.
- A copy read while a change was being told is not kept (a generation count).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Collection, Hashable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

import redis.asyncio
from aiohttp import web
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncSession

from vibue.core import after_commit
from vibue.staff import sessions as staff_sessions
from vibue.web.appkeys import CLOCK, ENGINE, SESSIONS, SETTINGS

log = logging.getLogger("vibue.signaling")

# The bound of decision #16: a room change or a sign-out made on another process is acted upon
# here at most this long after it committed (usually within milliseconds, by the Redis message).
STALE_SECONDS = 2.0
RESUBSCRIBE_SECONDS = 1.0
MAX_ENTRIES = 10_000  # a day's rooms fit many times; past it, the oldest copies are dropped

K = TypeVar("K")
T = TypeVar("T")
# Participant id -> connected now, of everyone admitted to a call (rooms.presence).
Presence = Mapping[int, bool]
Admitted = Callable[[AsyncSession, int], Awaitable[Presence]]


def room_changed(session: AsyncSession, appointment_id: int) -> None:
    """Room state of this appointment changes in the session's transaction: copies go when it ends."""
    after_commit.changed(session, after_commit.ROOM, appointment_id)


@dataclass(frozen=True)
class _Copy(Generic[T]):
    value: T
    read_at: float  # monotonic, taken before the read began


class MembershipCache:
    def __init__(
        self,
        app: web.Application,
        *,
        admitted: Admitted,
        staff_roles: Collection[str],
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.app = app
        self._admitted = admitted
        self._staff_roles = staff_roles
        self.monotonic = monotonic
        settings = app[SETTINGS]
        self._channel = f"{settings.redis_channel}:cache"
        self._redis = redis.asyncio.from_url(settings.redis_url) if settings.redis_url else None
        # Without Redis this is the only process: its own changes are all there are.
        self._keeping = self._redis is None
        self._generation = 0
        self._rooms: dict[int, _Copy[Presence]] = {}
        # Staff sessions by the cookie's hash: until when they last (None: not signed in, or no call role).
        self._staff: dict[str, _Copy[datetime | None]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._listener: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------ reading

    async def in_call(self, appointment_id: int) -> Presence:
        """The participants admitted to this call (reconnecting ones included), each with whether
        it is connected now."""
        copy = self._rooms.get(appointment_id)
        if copy is not None and self._fresh(copy):
            return copy.value
        generation, read_at = self._generation, self.monotonic()
        async with self.app[SESSIONS]() as session:
            members = await self._admitted(session, appointment_id)
        self._keep(self._rooms, appointment_id, _Copy(members, read_at), generation)
        return members

    async def signed_in(self, digest: str) -> bool:
        """Whether the sign-in session with this hash lasts, for a staff member with a call role."""
        now = self.app[CLOCK].now()
        copy = self._staff.get(digest)
        if copy is None or not self._fresh(copy):
            generation, read_at = self._generation, self.monotonic()
            async with self.app[SESSIONS]() as session:
                found = await staff_sessions.resolve_until(session=session, digest=digest, now=now)
            until = found[1] if found is not None and found[0].role in self._staff_roles else None
            copy = _Copy(until, read_at)
            self._keep(self._staff, digest, copy, generation)
        return copy.value is not None and now < copy.value  # an expiry counts at once

    def _fresh(self, copy: _Copy[Any]) -> bool:
        return self.monotonic() - copy.read_at < STALE_SECONDS

    def _keep(self, copies: dict[K, _Copy[T]], key: K, copy: _Copy[T], generation: int) -> None:
        if not self._keeping or generation != self._generation:
            return  # not subscribed, or a change was told while we read: the copy may be old
        if len(copies) >= MAX_ENTRIES:
            copies.clear()
        copies[key] = copy

    # ------------------------------------------------------------------ dropping

    def forget(self, *, rooms: Collection[int] = (), staff: bool = False, everything: bool = False) -> None:
        """Drop copies in this process (and make reads under way not keep theirs)."""
        self._generation += 1
        if everything:
            self._rooms.clear()
            self._staff.clear()
            return
        for appointment_id in rooms:
            self._rooms.pop(appointment_id, None)
        if staff:
            self._staff.clear()  # sign-outs are rare: every session is read again once

    def _committed(self, topic: str, keys: frozenset[Hashable]) -> None:
        # Called by vibue.core.after_commit right after the transaction ended, in its greenlet.
        if topic == after_commit.ROOM:
            rooms = [int(key) for key in keys if isinstance(key, int)]
            self.forget(rooms=rooms)
            messages = [f"room:{appointment_id}" for appointment_id in rooms]
        elif topic == after_commit.STAFF_SESSIONS:
            self.forget(staff=True)
            messages = ["staff"]
        else:
            return
        if self._redis is not None:
            task = asyncio.get_running_loop().create_task(self._publish(messages))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _publish(self, messages: list[str]) -> None:
        assert self._redis is not None
        try:
            for text in messages:
                await self._redis.publish(self._channel, text.encode())
        except RedisError:
            log.warning("cache change not published; other processes drop their copy within %s s", STALE_SECONDS)

    def _heard(self, data: bytes) -> None:
        text = data.decode("utf-8", "replace")
        if text == "staff":
            self.forget(staff=True)
        elif text.startswith("room:") and text[5:].isdigit():
            self.forget(rooms=[int(text[5:])])
        else:
            self.forget(everything=True)  # not ours to read: safe, not clever

    # ------------------------------------------------------------------ lifetime

    async def start(self) -> None:
        after_commit.listen(self.app[ENGINE], self._committed)
        if self._redis is None:
            return
        subscribed = asyncio.get_running_loop().create_future()
        self._listener = asyncio.create_task(self._listen(subscribed), name="vibue-cache-listen")
        try:
            await asyncio.wait_for(asyncio.shield(subscribed), 10)
        except TimeoutError:
            log.warning("cache channel not subscribed yet; reading membership from the database meanwhile")

    async def close(self) -> None:
        after_commit.unlisten(self.app[ENGINE], self._committed)
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._redis is not None:
            await self._redis.aclose()

    async def _listen(self, subscribed: asyncio.Future[None]) -> None:
        assert self._redis is not None
        while True:
            try:
                async with self._redis.pubsub() as pubsub:
                    await pubsub.subscribe(self._channel)
                    # Whatever changed before we listened is not in our copies: start afresh.
                    self.forget(everything=True)
                    self._keeping = True
                    if not subscribed.done():
                        subscribed.set_result(None)
                    async for message in pubsub.listen():
                        if message["type"] == "message":
                            self._heard(message["data"])
            except RedisError:
                log.warning("cache channel lost; no copies kept until subscribed again")
            finally:
                self._keeping = False
                self.forget(everything=True)
            await asyncio.sleep(RESUBSCRIBE_SECONDS)
