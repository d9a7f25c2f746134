"""Between the members of a call: signal (SDP, ICE candidates, restarts) relayed to one member,
and ice.refresh for fresh TURN credentials. The hot path: one indexed query per message."""

from __future__ import annotations

from typing import TYPE_CHECKING

from signaling import rooms
from signaling.gate import Refused
from signaling.members import Member, participant_room
from signaling.payloads import Empty, Signal
from signaling.replies import Ack, IceRefreshed, SignalRelayed
from vibue.web.appkeys import SESSIONS

if TYPE_CHECKING:
    from signaling.server import Signaling


async def signal(server: Signaling, sid: str, member: Member, payload: Signal) -> Ack:
    """Relay the sender's payload, with `from`, to one other member of the same call."""
    async with server.app[SESSIONS]() as session:
        members = await rooms.in_call(
            session, appointment_id=member.appointment_id, participant_ids=(member.participant_id, payload.to)
        )
    if member.participant_id not in members:
        raise Refused("not_admitted")
    if payload.to == member.participant_id or payload.to not in members:
        raise Refused("wrong_room")
    await server.send_signal(SignalRelayed(payload, member.participant_id), to=participant_room(payload.to))
    return Ack()


async def ice_refresh(server: Signaling, sid: str, member: Member, payload: Empty) -> IceRefreshed:
    """Fresh TURN credentials for an admitted member, before the old ones expire."""
    async with server.app[SESSIONS]() as session:
        # The stored state, not the room view: that shows a waiting citizen who dropped as
        # "reconnecting" too, and TURN is for admitted members only.
        members = await rooms.in_call(
            session, appointment_id=member.appointment_id, participant_ids=(member.participant_id,)
        )
    if member.participant_id not in members:
        raise Refused("not_admitted")
    return IceRefreshed(ice_servers=server.ice_servers(member.participant_id))
