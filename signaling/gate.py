"""The event gate: every client event passes it before any handler runs (docs/signaling.md).

Per-connection rate, size, schema, role, a staff member's sign-in session and room membership
are checked in that order; a refused event is answered with a Failure (and an `error` event for
clients without an acknowledgement callback) and never relayed. Events of one room then run one
at a time under the room's lock.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from signaling.members import Member
from signaling.replies import Ack, ErrorNotice, Failure, message
from vibue.core.errors import DomainError
from vibue.models import Staff

if TYPE_CHECKING:
    from signaling.server import Signaling

log = logging.getLogger("vibue.signaling")

# A handler gets the server, the connection, who it is (None before room.join) and the parsed payload.
Handler = Callable[..., Awaitable[Ack]]

# Per connection (docs/signaling.md): 50 events a second on average with bursts to 100, and 20
# chat messages a minute. Fixed, not settings: they bound one socket, not a city's traffic.
EVENTS_PER_WINDOW = 100
EVENT_WINDOW = 2.0
CHATS_PER_MINUTE = 20


class Refused(Exception):
    """An event the gate or a handler refuses, with the error code of docs/signaling.md."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


def failure(code: str, **params: Any) -> Failure:
    """The acknowledgement of a refused event, with its German message."""
    return Failure(code=code, message=message(code, **params))


def register(
    server: Signaling, name: str, model: type[BaseModel], handler: Handler, *, staff_only: bool, needs_room: bool
) -> None:
    """Serve event `name` by `handler`, behind the gate."""

    async def gate(sid: str, *args: Any) -> dict[str, Any]:
        try:
            if len(args) > 1:  # the protocol sends one payload per event
                raise Refused("invalid_payload")
            data = args[0] if args else None
            answer = await _pass(server, name, model, handler, sid, data, staff_only, needs_room)
        except Refused as refused:
            answer = failure(refused.code, **refused.params)
        except DomainError as exc:
            answer = failure(exc.code, **exc.params)
        except RecursionError:  # nested past what json and pydantic walk: not the protocol's shape
            answer = failure("invalid_payload")
        except Exception:
            log.exception("signaling event %s failed", name)
            answer = failure("internal", request_id="-")
        if isinstance(answer, Failure):
            await server.send_error(ErrorNotice(answer.code, answer.message, name), to=sid)
        return answer.wire()

    server.sio.on(name, gate)


async def _pass(
    server: Signaling,
    name: str,
    model: type[BaseModel],
    handler: Handler,
    sid: str,
    data: Any,
    staff_only: bool,
    needs_room: bool,
) -> Ack:
    try:
        server.limiter.hit("events", sid, limit=EVENTS_PER_WINDOW, window=EVENT_WINDOW)
        if name == "chat.send":
            server.limiter.hit("chat", sid, limit=CHATS_PER_MINUTE, window=60.0)
    except DomainError:
        raise Refused("rate_limited", retry_after=2) from None
    # The size was checked as the frame arrived (frames.py): measuring the payload again here
    # would cost a second JSON encoding of every message.
    if data is None:
        data = {}
    try:
        payload = model.model_validate(data)
    except ValidationError:
        raise Refused("invalid_payload") from None
    session_data = await server.sio.get_session(sid)
    member: Member | None = session_data.get("member")
    is_staff = session_data.get("staff_id") is not None
    if staff_only and not is_staff:
        raise Refused("forbidden_role")
    # Signed out meanwhile, or expired: the process's copy of the session (decision #16); the
    # handlers of staff events read the staff member from the database again.
    if is_staff and not await server.cache.signed_in(session_data.get("staff_session") or ""):
        raise Refused("not_signed_in")
    if needs_room and member is None:
        raise Refused("not_admitted")
    key = member.appointment_id if member else getattr(payload, "appointment_id", sid)
    async with server.locks.hold(key):
        return await handler(server, sid, member, payload)


async def unknown(server: Signaling, event: str, sid: str) -> dict[str, Any]:
    """An event the protocol does not have: refused, and counted against the same budget."""
    return await _refused_frame(server, failure("unknown_event"), event, sid)


async def too_large(server: Signaling, event: str, sid: str) -> dict[str, Any]:
    """An event whose frame is over MAX_EVENT_BYTES, as frames.py measured it on arrival: refused
    after the rate, as the gate orders its checks, and never validated."""
    return await _refused_frame(server, failure("too_large"), event, sid)


async def _refused_frame(server: Signaling, refusal: Failure, event: str, sid: str) -> dict[str, Any]:
    try:
        server.limiter.hit("events", sid, limit=EVENTS_PER_WINDOW, window=EVENT_WINDOW)
        answer = refusal
    except DomainError:
        answer = failure("rate_limited", retry_after=2)
    await server.send_error(ErrorNotice(answer.code, answer.message, str(event)[:64]), to=sid)
    return answer.wire()


async def undecodable(server: Signaling, sid: str) -> dict[str, Any]:
    """An event frame whose payload could not be decoded (frames.py counted it already)."""
    answer = failure("invalid_payload")
    await server.send_error(ErrorNotice(answer.code, answer.message, ""), to=sid)
    return answer.wire()


async def staff_or_refuse(server: Signaling, session: AsyncSession, sid: str) -> Staff:
    """The staff member behind this socket, or the event is refused (forbidden_role)."""
    staff = await server.staff(session, sid)
    if staff is None:
        raise Refused("forbidden_role")
    return staff
