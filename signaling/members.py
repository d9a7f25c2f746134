"""Who a connection is, and the Socket.IO rooms that reach it: transport identity, not database state."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Member:
    """Who a connection is: kept in the Socket.IO session of the connection."""

    participant_id: int
    appointment_id: int
    role: str
    staff_id: int | None = None


def room_name(appointment_id: int) -> str:
    """The Socket.IO room of a call: its admitted members."""
    return f"appointment:{appointment_id}"


def participant_room(participant_id: int) -> str:
    """The Socket.IO room of one participant: whichever connection they use now, on any process."""
    return f"participant:{participant_id}"
