"""The Socket.IO signaling server on the aiohttp app (docs/signaling.md is its contract).

Every event passes one gate (`Signaling.event`): size, per-connection rate, schema, role and room
membership are checked before any handler runs; a refused event is answered with an error and
never relayed. Events of one room run one at a time: a lock per appointment within a process,
and every change of room state locks the appointment's row in the database, across processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import socketio
from aiohttp import web
from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from signaling import connection_test, rooms, turn
from signaling.lobby_fanout import LobbyFanout
from signaling.members import Member, participant_room, room_name
from signaling.packets import JsonOnlyPacket
from signaling.payloads import (
    MAX_EVENT_BYTES,
    Admit,
    CallEnd,
    ChatSend,
    Deny,
    Empty,
    IdentityConfirm,
    RoomJoin,
    Signal,
)
from vibue.core.errors import DomainError
from vibue.core.i18n import translate
from vibue.core.locks import KeyedLocks
from vibue.core.ratelimit import RateLimiter
from vibue.core.references import token_hash
from vibue.core.urls import public_url
from vibue.models import Staff
from vibue.staff import sessions as staff_sessions
from vibue.video import join_tokens
from vibue.web.appkeys import CLOCK, SESSIONS, SETTINGS

log = logging.getLogger("vibue.signaling")

SIGNALING: web.AppKey[Signaling] = web.AppKey("signaling")
# The transport closes on frames above this; our own gate refuses events above MAX_EVENT_BYTES.
FRAME_LIMIT = 256 * 1024
# How often each process looks whether a waiting citizen's clerk is late.
LATE_CHECK_SECONDS = 30.0
Handler = Callable[[str, Member, Any], Awaitable[dict[str, Any]]]


class Refused(Exception):
    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class Signaling:
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
            cors_allowed_origins=[_origin(settings.base_url)],
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
        self.lobby = LobbyFanout(self._refresh_watchers, redis_url=settings.redis_url, channel=settings.redis_channel)
        # Citizens waiting on this process: sid -> (member, told that the clerk runs late, since).
        self.waiting: dict[str, tuple[Member, bool, str | None]] = {}
        self.sio.on("connect", self.connect)
        self.sio.on("disconnect", self.disconnect)
        self.sio.on("*", self.unknown)
        self.event("room.join", RoomJoin, staff_only=True, needs_room=False)(self.room_join)
        self.event("lobby.watch", Empty, staff_only=True, needs_room=False)(self.lobby_watch)
        self.event("admit", Admit, staff_only=True, needs_room=False)(self.admit)
        self.event("deny", Deny, staff_only=True, needs_room=False)(self.deny)
        self.event("signal", Signal)(self.signal)
        self.event("chat.send", ChatSend)(self.chat)
        self.event("identity.confirm", IdentityConfirm, staff_only=True)(self.identity_confirm)
        self.event("call.end", CallEnd, staff_only=True)(self.call_end)
        self.event("hangup", Empty)(self.hangup)
        self.event("ice.refresh", Empty)(self.ice_refresh)
        self.event("interpreter.invite", Empty, staff_only=True)(self.interpreter_invite)

    # ------------------------------------------------------------------ helpers

    @property
    def now(self) -> datetime:
        return self.app[CLOCK].now()

    def ice_servers(self, participant_id: int | None = None) -> list[dict[str, Any]]:
        return turn.ice_servers(self.app[SETTINGS], participant_id=participant_id, now=self.now)

    def message(self, code: str, **params: Any) -> str:
        return translate("de", f"error.{code}", **params)

    def failure(self, code: str, **params: Any) -> dict[str, Any]:
        return {"ok": False, "error": {"code": code, "message": self.message(code, **params)}}

    async def member(self, sid: str) -> Member | None:
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

    # ------------------------------------------------------------------ connect

    async def connect(self, sid: str, environ: Any, auth: Any = None) -> None:
        request = environ.get("aiohttp.request") if isinstance(environ, dict) else None
        if not isinstance(request, web.Request):
            return  # a client's own event named "connect" (python-socketio dispatches it here): ignored
        settings = self.app[SETTINGS]
        origin = request.headers.get("Origin")
        if origin is not None and origin != _origin(settings.base_url):
            raise self._refusal("forbidden_origin")
        token = auth.get("join_token") if isinstance(auth, dict) else None
        sessions = self.app[SESSIONS]
        if token:
            try:
                claims = join_tokens.verify(settings.secret_key, token, self.now)
            except join_tokens.TokenError as exc:
                raise self._refusal(exc.code) from None
            try:
                async with self.locks.hold(claims.appointment_id), sessions.begin() as session:
                    participant, resumed, returning = await rooms.connect_citizen(
                        session,
                        participant_id=claims.participant_id,
                        appointment_id=claims.appointment_id,
                        sid=sid,
                        now=self.now,
                    )
                    member = Member(participant.id, claims.appointment_id, participant.role)
                    snapshot = await rooms.room(
                        session,
                        appointment_id=member.appointment_id,
                        me=member.participant_id,
                        ice_servers=self.ice_servers(participant.id) if resumed else [],
                    )
                    late = await rooms.clerk_late(session, appointment_id=member.appointment_id, now=self.now)
                    checklist = await rooms.checklist(session, appointment_id=member.appointment_id)
                    waiting_since = participant.waiting_since
            except DomainError as exc:
                raise self._refusal(exc.code) from None
            await self.remember(sid, member, None)
            await self.sio.enter_room(sid, participant_room(member.participant_id))
            if resumed:
                # The room's broadcasts (chat, room.updated, peer.*) reach members in the call
                # only; a waiting citizen joins the room when admitted.
                await self.sio.enter_room(sid, room_name(member.appointment_id))
            # Greeted once the handshake is complete, not from inside it.
            self.sio.start_background_task(
                self._greet_citizen, sid, member, snapshot, resumed, returning, late, checklist, waiting_since
            )
            return
        cookie = request.cookies.get(self.app[SETTINGS].cookie_name(staff_sessions.COOKIE))
        if cookie:
            async with sessions() as session:
                staff = await staff_sessions.resolve(session=session, token=cookie, now=self.now)
            if staff is not None:
                if staff.role not in rooms.CALL_ROLES:
                    raise self._refusal("forbidden")
                await self.remember(sid, None, staff.id, token_hash(cookie))
                return
        raise self._refusal("unauthorized")

    def _refusal(self, code: str) -> socketio.exceptions.ConnectionRefusedError:
        # Two arguments: the message, and the data the client reads as `connect_error`'s
        # err.data ({code, message}); a single dict would arrive flattened into the message.
        message = self.message(f"socket_{code}")
        return socketio.exceptions.ConnectionRefusedError(message, {"code": code, "message": message})

    async def _greet_citizen(
        self,
        sid: str,
        member: Member,
        snapshot: dict[str, Any],
        resumed: bool,
        returning: bool,
        late: bool,
        checklist: list[str],
        waiting_since: datetime | None,
    ) -> None:
        if resumed:
            # Back within the grace period: the call continues without a new admission.
            await self.sio.emit("admitted", {"room": snapshot, "resumed": returning}, to=sid)
            await self._room_updated(member.appointment_id)
        else:
            since = waiting_since.isoformat() if waiting_since else None
            await self.sio.emit("waiting", {"since": since, "clerk_late": late, "checklist": checklist}, to=sid)
            self.waiting[sid] = (member, late, since)
            await self.lobby.changed()

    async def tell_late(self) -> int:
        """Tell waiting citizens once when their clerk runs late (5 minutes past the start)."""
        told = 0
        for sid, (member, already, since) in list(self.waiting.items()):
            if already:
                continue
            async with self.app[SESSIONS]() as session:
                # Admitted (maybe by a clerk on another process) or gone meanwhile: forget them.
                waiting = await rooms.is_waiting(session, participant_id=member.participant_id)
                late = waiting and await rooms.clerk_late(session, appointment_id=member.appointment_id, now=self.now)
                checklist = await rooms.checklist(session, appointment_id=member.appointment_id) if late else []
            if not waiting:
                self.waiting.pop(sid, None)
            elif late and sid in self.waiting:
                self.waiting[sid] = (member, True, since)
                await self.sio.emit("waiting", {"since": since, "clerk_late": True, "checklist": checklist}, to=sid)
                told += 1
        return told

    async def _late_loop(self) -> None:
        while True:
            await asyncio.sleep(LATE_CHECK_SECONDS)
            try:
                await self.tell_late()
            except Exception:
                log.exception("late notice check failed")

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
        await self.sio.emit(
            "peer.reconnecting", {"participant_id": member.participant_id}, room=room_name(member.appointment_id)
        )
        await self.lobby.changed()
        task = asyncio.create_task(self._grace(member, sid))
        self.grace_tasks.add(task)
        task.add_done_callback(self.grace_tasks.discard)

    async def _grace(self, member: Member, sid: str) -> None:
        await asyncio.sleep(self.app[SETTINGS].reconnect_grace_seconds)
        async with self.locks.hold(member.appointment_id), self.app[SESSIONS].begin() as session:
            gone = await rooms.expire(session, participant_id=member.participant_id, sid=sid, now=self.now)
        if gone:
            await self.sio.emit(
                "peer.left", {"participant_id": member.participant_id}, room=room_name(member.appointment_id)
            )
            await self._room_updated(member.appointment_id)

    # ------------------------------------------------------------------ the gate

    def event(
        self, name: str, model: type[BaseModel], *, staff_only: bool = False, needs_room: bool = True
    ) -> Callable[[Callable[..., Awaitable[dict[str, Any]]]], None]:
        def register(handler: Callable[..., Awaitable[dict[str, Any]]]) -> None:
            async def gate(sid: str, *args: Any) -> dict[str, Any]:
                try:
                    if len(args) > 1:  # the protocol sends one payload per event
                        raise Refused("invalid_payload")
                    data = args[0] if args else None
                    answer = await self._pass(name, model, handler, sid, data, staff_only, needs_room)
                except Refused as refused:
                    answer = self.failure(refused.code, **refused.params)
                except DomainError as exc:
                    answer = self.failure(exc.code, **exc.params)
                except Exception:
                    log.exception("signaling event %s failed", name)
                    answer = self.failure("internal", request_id="-")
                if not answer.get("ok"):
                    await self.sio.emit("error", {**answer["error"], "event": name}, to=sid)
                return answer

            self.sio.on(name, gate)

        return register

    async def _pass(
        self,
        name: str,
        model: type[BaseModel],
        handler: Callable[..., Awaitable[dict[str, Any]]],
        sid: str,
        data: Any,
        staff_only: bool,
        needs_room: bool,
    ) -> dict[str, Any]:
        try:
            self.limiter.hit("events", sid, limit=100, window=2.0)
            if name == "chat.send":
                self.limiter.hit("chat", sid, limit=20, window=60.0)
        except DomainError:
            raise Refused("rate_limited", retry_after=2) from None
        if data is None:
            data = {}
        if len(json.dumps(data, separators=(",", ":"), default=str)) > MAX_EVENT_BYTES:
            raise Refused("too_large")
        try:
            payload = model.model_validate(data)
        except ValidationError:
            raise Refused("invalid_payload") from None
        member = await self.member(sid)
        session_data = await self.sio.get_session(sid)
        is_staff = session_data.get("staff_id") is not None
        if staff_only and not is_staff:
            raise Refused("forbidden_role")
        if is_staff:
            async with self.app[SESSIONS]() as session:
                if await self.staff(session, sid) is None:  # signed out meanwhile, or expired
                    raise Refused("not_signed_in")
        if needs_room and member is None:
            raise Refused("not_admitted")
        key = member.appointment_id if member else getattr(payload, "appointment_id", sid)
        async with self.locks.hold(key):
            return await handler(sid, member, payload)

    async def unknown(self, event: str, sid: str, *args: Any) -> dict[str, Any]:
        try:
            self.limiter.hit("events", sid, limit=100, window=2.0)  # the same budget as known events
            answer = self.failure("unknown_event")
        except DomainError:
            answer = self.failure("rate_limited", retry_after=2)
        await self.sio.emit("error", {**answer["error"], "event": str(event)[:64]}, to=sid)
        return answer

    # ------------------------------------------------------------------ staff events

    async def room_join(self, sid: str, member: Member | None, payload: RoomJoin) -> dict[str, Any]:
        async with self.app[SESSIONS].begin() as session:
            staff = await self._staff_or_refuse(session, sid)
            participant = await rooms.join_staff(
                session, staff=staff, appointment_id=payload.appointment_id, sid=sid, now=self.now
            )
            joined = Member(participant.id, payload.appointment_id, "clerk", staff.id)
            snapshot = await rooms.room(
                session,
                appointment_id=joined.appointment_id,
                me=joined.participant_id,
                ice_servers=self.ice_servers(participant.id),
            )
        if member is not None and member.appointment_id != joined.appointment_id:
            await self.sio.leave_room(sid, room_name(member.appointment_id))
        await self.remember(sid, joined, joined.staff_id)
        await self.sio.enter_room(sid, participant_room(joined.participant_id))
        await self.sio.enter_room(sid, room_name(joined.appointment_id))
        await self._room_updated(joined.appointment_id)
        return {"ok": True, "room": snapshot}

    async def lobby_watch(self, sid: str, member: Member | None, payload: Empty) -> dict[str, Any]:
        async with self.app[SESSIONS]() as session:
            staff = await self._staff_or_refuse(session, sid)
            waiting = await rooms.lobby(session, staff=staff, now=self.now, tz=self._tz)
        self.watchers[sid] = staff.id
        return {"ok": True, "waiting": waiting}

    async def admit(self, sid: str, member: Member | None, payload: Admit) -> dict[str, Any]:
        async with self.app[SESSIONS].begin() as session:
            staff = await self._staff_or_refuse(session, sid)
            citizen = await rooms.admit(session, staff=staff, appointment_id=payload.appointment_id, now=self.now)
            snapshot = await rooms.room(
                session, appointment_id=payload.appointment_id, me=citizen.id, ice_servers=self.ice_servers(citizen.id)
            )
        sid_elsewhere_or_here = citizen.connection_sid and (
            # The Redis manager reaches a connection on another process; without Redis there is
            # none, and a connection that closed a moment ago has no room to enter.
            self.app[SETTINGS].redis_url or self.sio.manager.is_connected(citizen.connection_sid, "/")
        )
        if sid_elsewhere_or_here:
            await self.sio.enter_room(citizen.connection_sid, room_name(payload.appointment_id))
        await self.sio.emit("admitted", {"room": snapshot, "resumed": False}, room=participant_room(citizen.id))
        for waiting_sid, (waiting, _, _) in list(self.waiting.items()):
            if waiting.participant_id == citizen.id:
                del self.waiting[waiting_sid]
        await self._room_updated(payload.appointment_id)
        await self.lobby.changed()
        return {"ok": True}

    async def deny(self, sid: str, member: Member | None, payload: Deny) -> dict[str, Any]:
        async with self.app[SESSIONS].begin() as session:
            staff = await self._staff_or_refuse(session, sid)
            citizen = await rooms.deny(
                session, staff=staff, appointment_id=payload.appointment_id, reason=payload.reason, now=self.now
            )
        await self.sio.emit("denied", {"reason": payload.reason}, room=participant_room(citizen.id))
        if citizen.connection_sid:
            # Nothing more for this connection (a citizen sent away as too early connects anew).
            # In the background: our disconnect handler takes this room's lock, held right now.
            self.sio.start_background_task(self.sio.disconnect, citizen.connection_sid)
        await self.lobby.changed()
        return {"ok": True}

    async def identity_confirm(self, sid: str, member: Member, payload: IdentityConfirm) -> dict[str, Any]:
        async with self.app[SESSIONS].begin() as session:
            staff = await self._staff_or_refuse(session, sid)
            await rooms.confirm_identity(
                session, staff=staff, appointment_id=member.appointment_id, document=payload.document, now=self.now
            )
        await self._room_updated(member.appointment_id)
        return {"ok": True}

    async def call_end(self, sid: str, member: Member, payload: CallEnd) -> dict[str, Any]:
        async with self.app[SESSIONS].begin() as session:
            staff = await self._staff_or_refuse(session, sid)
            await rooms.end_call(
                session, staff=staff, appointment_id=member.appointment_id, outcome=payload.outcome, now=self.now
            )
        await self.sio.emit("call.ended", {"outcome": payload.outcome}, room=room_name(member.appointment_id))
        await self.lobby.changed()
        return {"ok": True}

    async def interpreter_invite(self, sid: str, member: Member, payload: Empty) -> dict[str, Any]:
        async with self.app[SESSIONS].begin() as session:
            staff = await self._staff_or_refuse(session, sid)
            invitation = await rooms.invite_interpreter(
                session, staff=staff, appointment_id=member.appointment_id, now=self.now
            )
        url = public_url(self.app[SETTINGS], f"/dolmetschen/{invitation.secret}")
        return {"ok": True, "url": url, "expires_at": invitation.expires_at.isoformat()}

    async def _staff_or_refuse(self, session: AsyncSession, sid: str) -> Staff:
        staff = await self.staff(session, sid)
        if staff is None:
            raise Refused("forbidden_role")
        return staff

    # ------------------------------------------------------------------ member events

    async def signal(self, sid: str, member: Member, payload: Signal) -> dict[str, Any]:
        async with self.app[SESSIONS]() as session:
            members = await rooms.in_call(
                session, appointment_id=member.appointment_id, participant_ids=(member.participant_id, payload.to)
            )
        if member.participant_id not in members:
            raise Refused("not_admitted")
        if payload.to == member.participant_id or payload.to not in members:
            raise Refused("wrong_room")
        relayed = payload.model_dump(exclude_none=True, exclude_defaults=True)
        relayed["from"] = member.participant_id
        if payload.restart:
            relayed["restart"] = True
        await self.sio.emit("signal", relayed, room=participant_room(payload.to))
        return {"ok": True}

    async def chat(self, sid: str, member: Member, payload: ChatSend) -> dict[str, Any]:
        async with self.app[SESSIONS]() as session:
            snapshot = await rooms.room(
                session, appointment_id=member.appointment_id, me=member.participant_id, ice_servers=[]
            )
        me = next((p for p in snapshot["participants"] if p["id"] == member.participant_id), None)
        if me is None or me["state"] != "admitted":
            raise Refused("not_admitted")
        message = {"from": member.participant_id, "role": member.role, "text": payload.text, "at": self.now.isoformat()}
        await self.sio.emit("chat", message, room=room_name(member.appointment_id))
        return {"ok": True}

    async def ice_refresh(self, sid: str, member: Member, payload: Empty) -> dict[str, Any]:
        """Fresh TURN credentials for an admitted member, before the old ones expire."""
        async with self.app[SESSIONS]() as session:
            # The stored state, not the room view: that shows a waiting citizen who dropped as
            # "reconnecting" too, and TURN is for admitted members only.
            members = await rooms.in_call(
                session, appointment_id=member.appointment_id, participant_ids=(member.participant_id,)
            )
        if member.participant_id not in members:
            raise Refused("not_admitted")
        return {"ok": True, "ice_servers": self.ice_servers(member.participant_id)}

    async def hangup(self, sid: str, member: Member, payload: Empty) -> dict[str, Any]:
        async with self.app[SESSIONS].begin() as session:
            await rooms.leave(session, participant_id=member.participant_id, now=self.now)
        await self.sio.emit(
            "peer.left", {"participant_id": member.participant_id}, room=room_name(member.appointment_id), skip_sid=sid
        )
        await self.sio.leave_room(sid, room_name(member.appointment_id))
        await self.remember(sid, None, (await self.sio.get_session(sid)).get("staff_id"))
        await self._room_updated(member.appointment_id)
        await self.lobby.changed()
        return {"ok": True}

    # ------------------------------------------------------------------ broadcasts

    @property
    def _tz(self) -> ZoneInfo:
        return ZoneInfo(self.app[SETTINGS].timezone)

    async def _room_updated(self, appointment_id: int) -> None:
        async with self.app[SESSIONS]() as session:
            snapshot = await rooms.room(session, appointment_id=appointment_id, me=0, ice_servers=[])
        await self.sio.emit("room.updated", snapshot, room=room_name(appointment_id))

    async def _refresh_watchers(self) -> None:
        """Send every staff member watching on this process the waiting citizens of the rooms
        they serve (LobbyFanout calls this on every process when the waiting room changed)."""
        async with self.app[SESSIONS]() as session:
            for sid in list(self.watchers):
                staff = await self.staff(session, sid)
                if staff is None:  # signed out or expired: no more names of waiting citizens
                    self.watchers.pop(sid, None)
                    continue
                waiting = await rooms.lobby(session, staff=staff, now=self.now, tz=self._tz)
                await self.sio.emit("lobby.updated", {"waiting": waiting}, to=sid)

    async def close(self) -> None:
        for task in list(self.grace_tasks):
            task.cancel()
        await asyncio.gather(*self.grace_tasks, return_exceptions=True)


async def _lifetime(app: web.Application) -> Any:
    late = asyncio.create_task(app[SIGNALING]._late_loop(), name="vibue-late-notices")
    await app[SIGNALING].lobby.start()
    yield
    await app[SIGNALING].lobby.close()
    late.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await late
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
