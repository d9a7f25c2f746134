"""The Socket.IO signaling server on the aiohttp app (docs/signaling.md is its contract): wiring.

Here: the Socket.IO server, the table of client events with their gate settings (handlers live
in one module per event family), every server → client emit, disconnect and the grace period,
and the lifetimes. Connect auth is in connect.py, the gate in gate.py, the messages in replies.py.
Events of one room run one at a time: a lock per appointment within a process, and every change
of room state locks the appointment's row in the database, across processes.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import asdict
from datetime import datetime
from functools import partial
from typing import Any

import socketio
from aiohttp import web
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from signaling import admission, call, chat, connection_test, gate, late, membership, relay, rooms, turn
from signaling.connect import connect, origin
from signaling.lobby_fanout import LobbyFanout
from signaling.members import Member, room_name
from signaling.packets import JsonOnlyPacket
from signaling.payloads import Admit, CallEnd, ChatSend, Deny, Empty, IdentityConfirm, RoomJoin, Signal
from signaling.replies import (
    Admitted,
    CallEnded,
    ChatMessage,
    Denied,
    ErrorNotice,
    LobbyUpdated,
    PeerLeft,
    PeerReconnecting,
    RoomUpdated,
    SignalRelayed,
    WaitingNotice,
)
from vibue.core.locks import KeyedLocks
from vibue.core.ratelimit import RateLimiter
from vibue.models import Staff
from vibue.staff import sessions as staff_sessions
from vibue.web.appkeys import CLOCK, SESSIONS, SETTINGS

SIGNALING: web.AppKey[Signaling] = web.AppKey("signaling")
# The transport closes on frames above this; our own gate refuses events above MAX_EVENT_BYTES.
FRAME_LIMIT = 256 * 1024


class Signaling:
    """One process's signaling server: the Socket.IO server and what this process keeps in memory."""

    def __init__(self, app: web.Application) -> None:
        self.app = app
        settings = app[SETTINGS]
        # With Redis, emits to a room reach its members on every process; without, one process.
        manager = (
            socketio.AsyncRedisManager(settings.redis_url, channel=settings.redis_channel)
            if settings.redis_url
            else None
        )
        self.sio = socketio.AsyncServer(
            client_manager=manager,
            async_mode="aiohttp",
            transports=["websocket"],
            # Cross-site WebSocket hijacking: only pages of this app may connect.
            cors_allowed_origins=[origin(settings.base_url)],
            max_http_buffer_size=FRAME_LIMIT,
            serializer=JsonOnlyPacket,
            # A dead connection is noticed within 20 s (defaults: 45 s), well inside the grace
            # period, so the other side sees "Verbindung wird wiederhergestellt" promptly.
            ping_interval=10,
            ping_timeout=10,
            logger=False,
            engineio_logger=False,
        )
        self.sio.attach(app, socketio_path="socket.io")
        self.locks = KeyedLocks()
        self.limiter = RateLimiter(settings.secret_key)
        self.grace_tasks: set[asyncio.Task[None]] = set()
        # Staff watching the waiting room on this process: sid -> staff id. Each gets their own list.
        self.watchers: dict[str, int] = {}
        self.lobby = LobbyFanout(
            partial(admission.refresh_watchers, self), redis_url=settings.redis_url, channel=settings.redis_channel
        )
        # Citizens waiting on this process: sid -> (member, told that the clerk runs late, since).
        self.waiting: dict[str, tuple[Member, bool, str | None]] = {}
        self.sio.on("connect", self.connect)
        self.sio.on("disconnect", self.disconnect)
        self.sio.on("*", self.unknown)
        # The client events of docs/signaling.md, each behind the gate.
        self.event("room.join", RoomJoin, staff_only=True, needs_room=False)(membership.room_join)
        self.event("lobby.watch", Empty, staff_only=True, needs_room=False)(admission.lobby_watch)
        self.event("admit", Admit, staff_only=True, needs_room=False)(admission.admit)
        self.event("deny", Deny, staff_only=True, needs_room=False)(admission.deny)
        self.event("signal", Signal)(relay.signal)
        self.event("chat.send", ChatSend)(chat.chat)
        self.event("identity.confirm", IdentityConfirm, staff_only=True)(call.identity_confirm)
        self.event("call.end", CallEnd, staff_only=True)(call.call_end)
        self.event("hangup", Empty)(membership.hangup)
        self.event("ice.refresh", Empty)(relay.ice_refresh)
        self.event("interpreter.invite", Empty, staff_only=True)(call.interpreter_invite)

    def event(
        self, name: str, model: type[BaseModel], *, staff_only: bool = False, needs_room: bool = True
    ) -> Callable[[gate.Handler], None]:
        """Register a handler for client event `name` behind the gate (gate.py)."""

        def register(handler: gate.Handler) -> None:
            gate.register(self, name, model, handler, staff_only=staff_only, needs_room=needs_room)

        return register

    # ------------------------------------------------------------------ who a connection is

    @property
    def now(self) -> datetime:
        return self.app[CLOCK].now()

    def ice_servers(self, participant_id: int | None = None) -> list[dict[str, Any]]:
        """STUN for everyone, and TURN for a participant (an admitted member)."""
        return turn.ice_servers(self.app[SETTINGS], participant_id=participant_id, now=self.now)

    async def member(self, sid: str) -> Member | None:
        """Who this connection is in a room, or None (staff before room.join, after hangup)."""
        data = await self.sio.get_session(sid)
        member = data.get("member")
        return Member(**member) if member else None

    async def remember(
        self, sid: str, member: Member | None, staff_id: int | None, staff_session: str | None = None
    ) -> None:
        """Keep who this socket is; a staff socket keeps its sign-in session's hash across rooms."""
        if staff_id is not None and staff_session is None:
            staff_session = (await self.sio.get_session(sid)).get("staff_session")
        await self.sio.save_session(
            sid,
            {"member": asdict(member) if member else None, "staff_id": staff_id, "staff_session": staff_session},
        )

    async def staff(self, session: AsyncSession, sid: str) -> Staff | None:
        """The staff member behind this socket while their sign-in session lasts.

        Checked on every event, not only at connect: signing out, an expired session, a password
        reset or a deactivated account end the socket's powers at once (ASVS 3.3.1).
        """
        digest = (await self.sio.get_session(sid)).get("staff_session")
        staff = await staff_sessions.resolve_digest(session=session, digest=digest, now=self.now) if digest else None
        return staff if staff is not None and staff.role in rooms.CALL_ROLES else None

    # ------------------------------------------------------------------ server → client events
    # Every emit of the server is one of these, so the events of docs/signaling.md are in one place.

    async def send_waiting(self, reply: WaitingNotice, *, to: str) -> None:
        await self.sio.emit("waiting", reply.wire(), to=to)

    async def send_admitted(self, reply: Admitted, *, to: str) -> None:
        await self.sio.emit("admitted", reply.wire(), to=to)

    async def send_denied(self, reply: Denied, *, to: str) -> None:
        await self.sio.emit("denied", reply.wire(), to=to)

    async def send_room_updated(self, reply: RoomUpdated, *, to: str) -> None:
        await self.sio.emit("room.updated", reply.wire(), to=to)

    async def send_lobby_updated(self, reply: LobbyUpdated, *, to: str) -> None:
        await self.sio.emit("lobby.updated", reply.wire(), to=to)

    async def send_signal(self, reply: SignalRelayed, *, to: str) -> None:
        await self.sio.emit("signal", reply.wire(), to=to)

    async def send_peer_reconnecting(self, reply: PeerReconnecting, *, to: str) -> None:
        await self.sio.emit("peer.reconnecting", reply.wire(), to=to)

    async def send_peer_left(self, reply: PeerLeft, *, to: str, skip_sid: str | None = None) -> None:
        await self.sio.emit("peer.left", reply.wire(), to=to, skip_sid=skip_sid)

    async def send_chat(self, reply: ChatMessage, *, to: str) -> None:
        await self.sio.emit("chat", reply.wire(), to=to)

    async def send_call_ended(self, reply: CallEnded, *, to: str) -> None:
        await self.sio.emit("call.ended", reply.wire(), to=to)

    async def send_error(self, reply: ErrorNotice, *, to: str) -> None:
        await self.sio.emit("error", reply.wire(), to=to)

    # ------------------------------------------------------------------ connect and disconnect

    async def connect(self, sid: str, environ: Any, auth: Any = None) -> None:
        await connect(self, sid, environ, auth)

    async def unknown(self, event: str, sid: str, *args: Any) -> dict[str, Any]:
        return await gate.unknown(self, event, sid)

    async def disconnect(self, sid: str, *_: Any) -> None:
        # python-socketio also dispatches a client's own event named "disconnect" here; a real
        # disconnect is already pending when this runs, so a still-connected sid is a fake one.
        if self.sio.manager.is_connected(sid, "/"):
            return
        self.limiter.forget(sid)  # counters are per connection; this one is gone
        self.watchers.pop(sid, None)
        self.waiting.pop(sid, None)
        member = await self.member(sid)
        if member is None:
            return
        now = self.now
        async with self.locks.hold(member.appointment_id), self.app[SESSIONS].begin() as session:
            started = await rooms.disconnected(session, participant_id=member.participant_id, sid=sid, now=now)
        if not started:
            return
        await self.send_peer_reconnecting(PeerReconnecting(member.participant_id), to=room_name(member.appointment_id))
        await self.lobby.changed()
        task = asyncio.create_task(self._grace(member, sid))
        self.grace_tasks.add(task)
        task.add_done_callback(self.grace_tasks.discard)

    async def _grace(self, member: Member, sid: str) -> None:
        await asyncio.sleep(self.app[SETTINGS].reconnect_grace_seconds)
        async with self.locks.hold(member.appointment_id), self.app[SESSIONS].begin() as session:
            gone = await rooms.expire(session, participant_id=member.participant_id, sid=sid, now=self.now)
        if gone:
            await self.send_peer_left(PeerLeft(member.participant_id), to=room_name(member.appointment_id))
            await membership.room_updated(self, member.appointment_id)

    # ------------------------------------------------------------------ lifetime

    async def tell_late(self) -> int:
        """Tell waiting citizens once when their clerk runs late (late.py); returns how many."""
        return await late.tell_late(self)

    async def close(self) -> None:
        for task in list(self.grace_tasks):
            task.cancel()
        await asyncio.gather(*self.grace_tasks, return_exceptions=True)


async def _lifetime(app: web.Application) -> AsyncIterator[None]:
    late_notices = asyncio.create_task(late.late_loop(app[SIGNALING]), name="vibue-late-notices")
    await app[SIGNALING].lobby.start()
    yield
    await app[SIGNALING].lobby.close()
    late_notices.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await late_notices
    await app[SIGNALING].close()


async def _on_shutdown(app: web.Application) -> None:
    """Before the web server stops: close every client's connection (they reconnect to another
    process or after a restart, within the grace period) and stop Socket.IO's service task."""
    server = app[SIGNALING]
    # Bounded: a stuck client must not hold up the process's exit.
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(5):
            if server.sio.eio.sockets:  # engine.io's disconnect-all fails on an empty set
                await server.sio.eio.disconnect()
            await server.sio.shutdown()


def setup(app: web.Application) -> None:
    """Plug the signaling server into an app built by vibue.app.create_app."""
    app[SIGNALING] = Signaling(app)
    app.on_shutdown.append(_on_shutdown)
    app.cleanup_ctx.append(_lifetime)
    connection_test.setup(app, lobby_changed=app[SIGNALING].lobby.changed)
