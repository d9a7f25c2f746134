"""Entering and leaving a call: room.join (staff) and hangup (anyone), and the room.updated
broadcast every change of who is in the room ends with."""

from __future__ import annotations

from typing import TYPE_CHECKING

from signaling import rooms
from signaling.gate import staff_or_refuse
from signaling.members import Member, participant_room, room_name
from signaling.payloads import Empty, RoomJoin
from signaling.replies import Ack, Joined, PeerLeft, RoomUpdated
from vibue.web.appkeys import SESSIONS

if TYPE_CHECKING:
    from signaling.server import Signaling


async def room_join(server: Signaling, sid: str, member: Member | None, payload: RoomJoin) -> Joined:
    """Staff enter a room directly (staff do not wait), leaving the room they were in."""
    async with server.app[SESSIONS].begin() as session:
        staff = await staff_or_refuse(server, session, sid)
        participant = await rooms.join_staff(
            session,
            staff=staff,
            appointment_id=payload.appointment_id,
            sid=sid,
            process_id=server.process_id,
            now=server.now,
        )
        joined = Member(participant.id, payload.appointment_id, "clerk", staff.id)
        snapshot = await rooms.room(
            session,
            appointment_id=joined.appointment_id,
            me=joined.participant_id,
            ice_servers=server.ice_servers(participant.id),
        )
    if member is not None and member.appointment_id != joined.appointment_id:
        await _leave_old_room(server, sid, member)
    await server.remember(sid, joined, joined.staff_id)
    await server.sio.enter_room(sid, participant_room(joined.participant_id))
    await server.sio.enter_room(sid, room_name(joined.appointment_id))
    await room_updated(server, joined.appointment_id)
    return Joined(room=snapshot)


async def _leave_old_room(server: Signaling, sid: str, member: Member) -> None:
    """A staff socket moving on leaves its previous room for good: the others there hear peer.left."""
    # The gate holds the old room's lock for this event already.
    async with server.app[SESSIONS].begin() as session:
        left = await rooms.leave(session, participant_id=member.participant_id, now=server.now, sid=sid)
    await server.sio.leave_room(sid, room_name(member.appointment_id))
    await server.sio.leave_room(sid, participant_room(member.participant_id))
    if left:
        await server.send_peer_left(PeerLeft(member.participant_id), to=room_name(member.appointment_id))
        await room_updated(server, member.appointment_id)


async def hangup(server: Signaling, sid: str, member: Member, payload: Empty) -> Ack:
    """A member leaves the call for good; the others get peer.left."""
    async with server.app[SESSIONS].begin() as session:
        await rooms.leave(session, participant_id=member.participant_id, now=server.now)
    await server.send_peer_left(PeerLeft(member.participant_id), to=room_name(member.appointment_id), skip_sid=sid)
    await server.sio.leave_room(sid, room_name(member.appointment_id))
    await server.remember(sid, None, (await server.sio.get_session(sid)).get("staff_id"))
    await room_updated(server, member.appointment_id)
    await server.lobby.changed()
    return Ack()


async def room_updated(server: Signaling, appointment_id: int) -> None:
    """Tell the room's members who is in it now (me 0, no ICE servers: those are per member)."""
    async with server.app[SESSIONS]() as session:
        snapshot = await rooms.room(session, appointment_id=appointment_id, me=0, ice_servers=[])
    await server.send_room_updated(RoomUpdated(snapshot), to=room_name(appointment_id))
