"""Between the members of a call: signal (SDP, ICE candidates, restarts) relayed to one member,
and ice.refresh for fresh TURN credentials. The hot path: membership is read from this process's
copy of the room (membership_cache.py), not from the database on every message."""

from __future__ import annotations

from typing import TYPE_CHECKING

from signaling.gate import Refused
from signaling.members import Member, participant_room
from signaling.payloads import Empty, Signal
from signaling.replies import Ack, IceRefreshed, SignalRelayed

if TYPE_CHECKING:
    from signaling.server import Signaling


async def signal(server: Signaling, sid: str, member: Member, payload: Signal) -> Ack:
    """Relay the sender's payload, with `from`, to one other member of the same call."""
    # Participant id -> whether it is connected now, from this process's copy of the room.
    members = await server.cache.in_call(member.appointment_id)
    if member.participant_id not in members:
        raise Refused("not_admitted")
    if payload.to == member.participant_id or payload.to not in members:
        raise Refused("wrong_room")
    if not members[payload.to]:
        # In its grace period (or its process died): nobody would receive it. The sender learns
        # so instead of an `ok` for a signal that goes nowhere; the peer renegotiates on return.
        raise Refused("peer_not_connected")
    await server.send_signal(SignalRelayed(payload, member.participant_id), to=participant_room(payload.to))
    return Ack()


async def ice_refresh(server: Signaling, sid: str, member: Member, payload: Empty) -> IceRefreshed:
    """Fresh TURN credentials for an admitted member, before the old ones expire."""
    # The stored state, not the room view: that shows a waiting citizen who dropped as
    # "reconnecting" too, and TURN is for admitted members only.
    members = await server.cache.in_call(member.appointment_id)
    if member.participant_id not in members:
        raise Refused("not_admitted")
    return IceRefreshed(ice_servers=server.ice_servers(member.participant_id))
