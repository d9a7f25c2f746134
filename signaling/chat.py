"""chat.send: a text message to everyone in the call, from an admitted member only."""

from __future__ import annotations

from typing import TYPE_CHECKING

from signaling import rooms
from signaling.gate import Refused
from signaling.members import Member, room_name
from signaling.payloads import ChatSend
from signaling.replies import Ack, ChatMessage
from vibue.web.appkeys import SESSIONS

if TYPE_CHECKING:
    from signaling.server import Signaling


async def chat(server: Signaling, sid: str, member: Member, payload: ChatSend) -> Ack:
    """Send `chat` to the room; the gate has counted it against the chat budget already."""
    async with server.app[SESSIONS]() as session:
        snapshot = await rooms.room(
            session, appointment_id=member.appointment_id, me=member.participant_id, ice_servers=[]
        )
    me = next((p for p in snapshot["participants"] if p["id"] == member.participant_id), None)
    if me is None or me["state"] != "admitted":
        raise Refused("not_admitted")
    message = ChatMessage(sender=member.participant_id, role=member.role, text=payload.text, at=server.now.isoformat())
    await server.send_chat(message, to=room_name(member.appointment_id))
    return Ack()
