"""The Socket.IO signaling server on the aiohttp app (docs/signaling.md is its contract): wiring.

Here: the Socket.IO server, the table of client events with their gate settings (handlers live
in one module per event family), every server → client emit, disconnect, and the lifetimes. The
grace period is a deadline in the database that every process's sweep enforces (grace.py,
liveness.py). Connect auth is in connect.py, the gate in gate.py, the messages in replies.py.
Events of one room run one at a time: a lock per appointment within a process, and every change
of room state locks the appointment's row in the database, across processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from aiohttp import web
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from signaling import (
    admission,
    call,
    chat,
    connection_test,
    gate,
    grace,
    late,
    liveness,
    membership,
    relay,
    rooms,
    turn,
)
from signaling.connect import connect, origin
from signaling.documents import DocumentPush
from signaling.frames import GuardedServer
from signaling.lobby_fanout import LobbyFanout
from signaling.members import Member, room_name
from signaling.membership_cache import MembershipCache
from signaling.payloads import Admit, CallEnd, ChatSend, Deny, Empty, IdentityConfirm, RoomJoin, Signal
from signaling.redis_manager import ClosingRedisManager
from signaling.replies import (
    Admitted,
    CallEnded,
    ChatMessage,
    Denied,
    DocumentReady,
    DocumentRevoked,
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
# The transport closes on frames above this; frames.py refuses events above MAX_EVENT_BYTES.
FRAME_LIMIT = 256 * 1024


class Signaling:
    """One process's signaling server: the Socket.IO server and what this process keeps in memory."""

    def __init__(self, app: web.Application) -> None:
        self.app = app
        settings = app[SETTINGS]
        # With Redis, emits to a room reach its members on every process; without, one process.
        manager = (
            ClosingRedisManager(settings.redis_url, channel=settings.redis_channel) if settings.redis_url else None
        )
        self.limiter = RateLimiter(settings.secret_key)
        self.sio = GuardedServer(
            # Every frame counts against the connection's event budget, refused ones too (frames.py).
            limiter=lambda: self.limiter,
            budget=(gate.EVENTS_PER_WINDOW, gate.EVENT_WINDOW),
            unknown=partial(gate.unknown, self),
            too_large=partial(gate.too_large, self),
            undecodable=partial(gate.undecodable, self),
            client_manager=manager,
            async_mode="aiohttp",
            transports=["websocket"],
            # Cross-site WebSocket hijacking: only pages of this app may connect.
            cors_allowed_origins=[origin(settings.base_url)],
            max_http_buffer_size=FRAME_LIMIT,
            # A dead connection is noticed within 20 s (defaults: 45 s), well inside the grace
            # period, so the other side sees "Verbindung wird wiederhergestellt" promptly.
            ping_interval=10,
            ping_timeout=10,
            logger=False,
            engineio_logger=False,
        )
        self.sio.attach(app, socketio_path="socket.io")
        self.locks = KeyedLocks()
        # This process in the liveness table (liveness.py), and the wall clock its heartbeat uses.
        self.process_id = uuid.uuid4().hex
        self.wall: Callable[[], datetime] = liveness.wall_now
        # Staff watching the waiting room on this process, each with their own list (admission.py).
        self.watchers: dict[str, admission.Watcher] = {}
        self.lobby = LobbyFanout(
            partial(admission.refresh_watchers, self), redis_url=settings.redis_url, channel=settings.redis_channel
        )
        # This process's copies of who is in each call and of staff sessions (the relay's hot path).
        self.cache = MembershipCache(app, admitted=rooms.presence, staff_roles=rooms.CALL_ROLES)
        # Issued and revoked documents, told to the room once their transaction ended (documents.py).
        self.documents = DocumentPush(self)
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
        member: Member | None = (await self.sio.get_session(sid)).get("member")
        return member

    async def remember(
        self, sid: str, member: Member | None, staff_id: int | None, staff_session: str | None = None
    ) -> None:
        """Keep who this socket is; a staff socket keeps its sign-in session's hash across rooms."""
        if staff_id is not None and staff_session is None:
            staff_session = (await self.sio.get_session(sid)).get("staff_session")
        await self.sio.save_session(
            sid,
            {"member": member, "staff_id": staff_id, "staff_session": staff_session},
        )

    async def staff(self, session: AsyncSession, sid: str) -> Staff | None:
        """The staff member behind this socket while their sign-in session lasts.

        Read from the database: the handlers of staff events use it. The gate checks every event
        against this process's copy of the session (membership_cache.py, decision #16): signing out,
        an expired session, a password reset or a deactivated account end the socket's powers at
        once on the process that made the change, within STALE_SECONDS elsewhere (ASVS 3.3.1).
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

    async def send_document_ready(self, reply: DocumentReady, *, to: str) -> None:
        await self.sio.emit("document.ready", reply.wire(), to=to)

    async def send_document_revoked(self, reply: DocumentRevoked, *, to: str) -> None:
        await self.sio.emit("document.revoked", reply.wire(), to=to)

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
        length = timedelta(seconds=self.app[SETTINGS].reconnect_grace_seconds)
        async with self.locks.hold(member.appointment_id), self.app[SESSIONS].begin() as session:
            started = await grace.disconnected(
                session, participant_id=member.participant_id, sid=sid, now=self.now, grace=length
            )
        if not started:
            return
        await self.send_peer_reconnecting(PeerReconnecting(member.participant_id), to=room_name(member.appointment_id))
        await self.lobby.changed()

    # ------------------------------------------------------------------ lifetime

    async def tell_late(self) -> int:
        """Tell waiting citizens once when their clerk runs late (late.py); returns how many."""
        return await late.tell_late(self)

    async def sweep(self) -> None:
        """One round of the room sweep (liveness.py); every process runs it every room_sweep_seconds."""
        await liveness.sweep(self)


async def _lifetime(app: web.Application) -> AsyncIterator[None]:
    server = app[SIGNALING]
    # Registered before the first connection: a participant is never held by an unknown process.
    await liveness.heartbeat(server)
    late_notices = asyncio.create_task(late.late_loop(server), name="vibue-late-notices")
    beats = asyncio.create_task(liveness.run(server), name="vibue-liveness")
    await server.cache.start()
    await server.lobby.start()
    server.documents.start()
    yield
    await server.documents.close()
    await server.lobby.close()
    await server.cache.close()
    for task in (late_notices, beats):
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    # A clean stop: what this process still holds counts as disconnected at once elsewhere.
    try:
        async with app[SESSIONS].begin() as session:
            await liveness.forget(session, process_id=server.process_id)
    except Exception:  # the database may be gone too; then the heartbeat simply goes stale
        liveness.log.exception("could not deregister this signaling process")
    # Last: until here the loops and the disconnect handlers still emit, and an emit reopens a
    # closed client's connection.
    if isinstance(server.sio.manager, ClosingRedisManager):
        await server.sio.manager.aclose()


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
