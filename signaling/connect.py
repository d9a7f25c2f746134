"""Connect auth: who may open a socket (docs/signaling.md, "Connecting").

A citizen or interpreter brings a join token and is bound to its appointment; staff bring their
sign-in session cookie and choose a room later with room.join. Anything else is refused with a
`connect_error` whose data carries the code.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import socketio
from aiohttp import web

from signaling import rooms
from signaling.members import Member, participant_room, room_name
from signaling.membership import room_updated
from signaling.replies import Admitted, Room, WaitingNotice, message
from vibue.core.errors import DomainError
from vibue.core.references import token_hash
from vibue.staff import sessions as staff_sessions
from vibue.video import join_tokens
from vibue.web.appkeys import SESSIONS, SETTINGS

if TYPE_CHECKING:
    from signaling.server import Signaling


def origin(url: str) -> str:
    """scheme://host[:port] of a URL: what a browser sends as the Origin header."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


async def connect(server: Signaling, sid: str, environ: Any, auth: Any) -> None:
    """Accept a citizen's join token or a staff member's session cookie; refuse everything else."""
    request = environ.get("aiohttp.request") if isinstance(environ, dict) else None
    if not isinstance(request, web.Request):
        return  # a client's own event named "connect" (python-socketio dispatches it here): ignored
    settings = server.app[SETTINGS]
    sent_origin = request.headers.get("Origin")
    if sent_origin is not None and sent_origin != origin(settings.base_url):
        raise _refusal("forbidden_origin")
    token = auth.get("join_token") if isinstance(auth, dict) else None
    sessions = server.app[SESSIONS]
    if token:
        try:
            claims = join_tokens.verify(settings.secret_key, token, server.now)
        except join_tokens.TokenError as exc:
            raise _refusal(exc.code) from None
        try:
            async with server.locks.hold(claims.appointment_id), sessions.begin() as session:
                participant, resumed, returning, replaced = await rooms.connect_citizen(
                    session,
                    participant_id=claims.participant_id,
                    appointment_id=claims.appointment_id,
                    sid=sid,
                    process_id=server.process_id,
                    now=server.now,
                )
                member = Member(participant.id, claims.appointment_id, participant.role)
                snapshot = await rooms.room(
                    session,
                    appointment_id=member.appointment_id,
                    me=member.participant_id,
                    ice_servers=server.ice_servers(participant.id) if resumed else [],
                )
                late = await rooms.clerk_late(session, appointment_id=member.appointment_id, now=server.now)
                checklist = await rooms.checklist(session, appointment_id=member.appointment_id)
                waiting_since = participant.waiting_since
        except DomainError as exc:
            raise _refusal(exc.code) from None
        await server.remember(sid, member, None)
        if replaced is not None:
            # A second tab or device with the same join token takes over: the older connection
            # is closed wherever it is (the Redis manager hands the disconnect to its process),
            # so it neither receives nor relays any more. Its disconnect starts no grace period:
            # it is no longer the participant's connection.
            server.sio.start_background_task(server.sio.disconnect, replaced)
        await server.sio.enter_room(sid, participant_room(member.participant_id))
        if resumed:
            # The room's broadcasts (chat, room.updated, peer.*) reach members in the call
            # only; a waiting citizen joins the room when admitted.
            await server.sio.enter_room(sid, room_name(member.appointment_id))
        # Greeted once the handshake is complete, not from inside it.
        server.sio.start_background_task(
            _greet_citizen, server, sid, member, snapshot, resumed, returning, late, checklist, waiting_since
        )
        return
    cookie = request.cookies.get(settings.cookie_name(staff_sessions.COOKIE))
    if cookie:
        async with sessions() as session:
            staff = await staff_sessions.resolve(session=session, token=cookie, now=server.now)
        if staff is not None:
            if staff.role not in rooms.CALL_ROLES:
                raise _refusal("forbidden")
            await server.remember(sid, None, staff.id, token_hash(cookie))
            return
    raise _refusal("unauthorized")


def _refusal(code: str) -> socketio.exceptions.ConnectionRefusedError:
    # Two arguments: the message, and the data the client reads as `connect_error`'s
    # err.data ({code, message}); a single dict would arrive flattened into the message.
    text = message(f"socket_{code}")
    return socketio.exceptions.ConnectionRefusedError(text, {"code": code, "message": text})


async def _greet_citizen(
    server: Signaling,
    sid: str,
    member: Member,
    snapshot: Room,
    resumed: bool,
    returning: bool,
    late: bool,
    checklist: list[str],
    waiting_since: datetime | None,
) -> None:
    if resumed:
        # Back within the grace period: the call continues without a new admission.
        await server.send_admitted(Admitted(room=snapshot, resumed=returning), to=sid)
        await room_updated(server, member.appointment_id)
    else:
        since = waiting_since.isoformat() if waiting_since else None
        await server.send_waiting(WaitingNotice(since, clerk_late=late, checklist=checklist), to=sid)
        server.waiting[sid] = (member, late, since)
        await server.lobby.changed()
