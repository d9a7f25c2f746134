"""The clerk's controls of a running call: identity.confirm, call.end and interpreter.invite."""

from __future__ import annotations

from typing import TYPE_CHECKING

from signaling import rooms
from signaling.gate import staff_or_refuse
from signaling.members import Member, room_name
from signaling.membership import room_updated
from signaling.payloads import CallEnd, Empty, IdentityConfirm
from signaling.replies import Ack, CallEnded, Invited
from vibue.core.urls import public_url
from vibue.web.appkeys import SESSIONS, SETTINGS

if TYPE_CHECKING:
    from signaling.server import Signaling


async def identity_confirm(server: Signaling, sid: str, member: Member, payload: IdentityConfirm) -> Ack:
    """Record that the identity was checked, and with which kind of document."""
    async with server.app[SESSIONS].begin() as session:
        staff = await staff_or_refuse(server, session, sid)
        await rooms.confirm_identity(
            session, staff=staff, appointment_id=member.appointment_id, document=payload.document, now=server.now
        )
    await room_updated(server, member.appointment_id)
    return Ack()


async def call_end(server: Signaling, sid: str, member: Member, payload: CallEnd) -> Ack:
    """End the call for everyone with its outcome (`call.ended`)."""
    async with server.app[SESSIONS].begin() as session:
        staff = await staff_or_refuse(server, session, sid)
        await rooms.end_call(
            session, staff=staff, appointment_id=member.appointment_id, outcome=payload.outcome, now=server.now
        )
    await server.send_call_ended(CallEnded(payload.outcome), to=room_name(member.appointment_id))
    await server.lobby.changed()
    return Ack()


async def interpreter_invite(server: Signaling, sid: str, member: Member, payload: Empty) -> Invited:
    """A one-time link for an interpreter; it voids the previous unused one."""
    async with server.app[SESSIONS].begin() as session:
        staff = await staff_or_refuse(server, session, sid)
        invitation = await rooms.invite_interpreter(
            session, staff=staff, appointment_id=member.appointment_id, now=server.now
        )
    url = public_url(server.app[SETTINGS], f"/dolmetschen/{invitation.secret}")
    return Invited(url=url, expires_at=invitation.expires_at.isoformat())
