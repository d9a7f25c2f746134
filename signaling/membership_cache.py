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
- The copies in use are read again together every REFRESH_SECONDS, in one statement for the
  rooms and one for the sessions, so a busy call never waits for its copy on the relay path
  (and 1,000 calls cost two statements a second, not 1,000); copies not used since the last
  refresh are dropped. A copy that is missing or stale is read at once, once: events that need
  it meanwhile wait for that one read.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Collection, Coroutine, Hashable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import partial
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
REFRESH_SECONDS = STALE_SECONDS / 2  # a copy in use is read again before it goes stale
RESUBSCRIBE_SECONDS = 1.0
MAX_ENTRIES = 10_000  # a day's rooms fit many times; past it, the oldest copies are dropped

K = TypeVar("K")
T = TypeVar("T")
# Participant id -> connected now, of everyone admitted to a call (rooms.presence).
Presence = Mapping[int, bool]
# The presence of each of these calls, read in the session (rooms.presence).
Admitted = Callable[[AsyncSession, Collection[int]], Awaitable[Mapping[int, Presence]]]


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
        # What the relay path asked for since the last refresh: those copies are read again.
        self._used_rooms: set[int] = set()
        self._used_staff: set[str] = set()
        # Reads under way for a missing or stale copy, with the generation they began in.
        self._reads: dict[tuple[str, Hashable], tuple[int, asyncio.Task[Any]]] = {}
        self.refreshing = True  # tests that move the copies' clock by hand turn it off
        self._refresh_failed = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._listener: asyncio.Task[None] | None = None
        self._refresher: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------ reading

    async def in_call(self, appointment_id: int) -> Presence:
        """The participants admitted to this call (reconnecting ones included), each with whether
        it is connected now."""
        self._used_rooms.add(appointment_id)
        copy = self._rooms.get(appointment_id)
        if copy is not None and self._fresh(copy):
            return copy.value
        return await self._read_once(("room", appointment_id), partial(self._read_room, appointment_id))

    async def signed_in(self, digest: str) -> bool:
        """Whether the sign-in session with this hash lasts, for a staff member with a call role."""
        self._used_staff.add(digest)
        copy = self._staff.get(digest)
        until = (
            copy.value
            if copy is not None and self._fresh(copy)
            else await self._read_once(("staff", digest), partial(self._read_staff, digest))
        )
        return until is not None and self.app[CLOCK].now() < until  # an expiry counts at once

    async def _read_room(self, appointment_id: int) -> Presence:
        generation, read_at = self._generation, self.monotonic()
        async with self.app[SESSIONS]() as session:
            members = (await self._admitted(session, [appointment_id]))[appointment_id]
        self._keep(self._rooms, appointment_id, _Copy(members, read_at), generation)
        return members

    async def _read_staff(self, digest: str) -> datetime | None:
        generation, read_at = self._generation, self.monotonic()
        async with self.app[SESSIONS]() as session:
            until = self._until(
                await staff_sessions.lasting(session=session, digests=[digest], now=self.app[CLOCK].now()), digest
            )
        self._keep(self._staff, digest, _Copy(until, read_at), generation)
        return until

    def _until(self, lasting: Mapping[str, tuple[str, datetime]], digest: str) -> datetime | None:
        found = lasting.get(digest)
        return found[1] if found is not None and found[0] in self._staff_roles else None

    async def _read_once(self, key: tuple[str, Hashable], read: Callable[[], Coroutine[Any, Any, T]]) -> T:
        """One read per missing copy: events that need it meanwhile wait for the same read, unless
        a change was told since it began (then its answer may be old, and a new read begins)."""
        running = self._reads.get(key)
        if running is None or running[0] != self._generation:
            task: asyncio.Task[T] = asyncio.get_running_loop().create_task(read())
            self._reads[key] = (self._generation, task)
            task.add_done_callback(partial(self._read_done, key))
        else:
            task = running[1]
        return await asyncio.shield(task)  # one waiter cancelled does not cancel the others' read

    def _read_done(self, key: tuple[str, Hashable], task: asyncio.Task[Any]) -> None:
        if self._reads.get(key, (0, None))[1] is task:
            del self._reads[key]
        if not task.cancelled():
            task.exception()  # its waiters got it; retrieved, so asyncio does not log it again

    async def refresh(self) -> None:
        """Read the copies used since the last refresh again, together; drop the others."""
        rooms, self._used_rooms = self._used_rooms, set()
        digests, self._used_staff = self._used_staff, set()
        for appointment_id in self._rooms.keys() - rooms:
            del self._rooms[appointment_id]
        for digest in self._staff.keys() - digests:
            del self._staff[digest]
        if not self._keeping or not (rooms or digests):
            return
        generation, read_at, now = self._generation, self.monotonic(), self.app[CLOCK].now()
        async with self.app[SESSIONS]() as session:
            presence = await self._admitted(session, rooms) if rooms else {}
            lasting = await staff_sessions.lasting(session=session, digests=digests, now=now) if digests else {}
        for appointment_id in rooms:
            self._keep(self._rooms, appointment_id, _Copy(presence[appointment_id], read_at), generation)
        for digest in digests:
            self._keep(self._staff, digest, _Copy(self._until(lasting, digest), read_at), generation)

    async def _refresh_loop(self) -> None:
        while True:
            await asyncio.sleep(REFRESH_SECONDS)
            if not self.refreshing:
                continue
            try:
                await self.refresh()
            except Exception as exc:  # the database away: the relay path reads on its own meanwhile
                if not self._refresh_failed:  # one line per outage, not one a second
                    log.warning(
                        "membership copies not refreshed (%s); trying again every %s s",
                        type(exc).__name__,
                        REFRESH_SECONDS,
                    )
                self._refresh_failed = True
            else:
                self._refresh_failed = False

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
        self._refresher = asyncio.create_task(self._refresh_loop(), name="vibue-cache-refresh")
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
        for task in (self._refresher, self._listener):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
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
