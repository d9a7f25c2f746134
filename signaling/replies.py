"""Typed outgoing messages: one class per acknowledgement shape and per server → client event
of docs/signaling.md. Handlers return an `Ack`; `wire()` gives the JSON object that is sent.

The data types Room, Participant and Waiting are the dicts of docs/signaling.md as typed dicts:
rooms.py builds them, and they travel as they are (no copy, no conversion on the hot path).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, TypedDict

from signaling.payloads import Signal
from vibue.core.i18n import translate


class Identity(TypedDict):
    checked_at: str
    document: str | None


class Participant(TypedDict):
    id: int
    role: str
    name: str
    language: str | None
    state: str
    polite: bool


class Room(TypedDict):
    appointment_id: int
    reference: str
    me: int
    participants: list[Participant]
    ice_servers: list[dict[str, Any]]
    identity: Identity | None


class Waiting(TypedDict):
    appointment_id: int
    reference: str
    concern: str
    start: str
    citizen_name: str
    waiting_since: str | None
    code_verified_at: str | None
    # As stored by the connection test (vibue.video.schemas.ResultOut), passed on as it is.
    connection_test: dict[str, Any] | None


def message(code: str, **params: Any) -> str:
    """The German text of an error code, as events and refused connections carry it."""
    return translate("de", f"error.{code}", **params)


@dataclass(frozen=True, slots=True)
class Reply:
    """A message to a client; its fields are the JSON object's keys, in order."""

    def wire(self) -> dict[str, Any]:
        """The JSON object to send (shallow: nested data goes out as it is)."""
        kind = type(self)
        keys = _KEYS.get(kind)
        if keys is None:  # dataclasses.fields() builds its answer anew on each call: once per class
            keys = _KEYS[kind] = tuple(f.name for f in fields(self))
        return {name: getattr(self, name) for name in keys}


_KEYS: dict[type[Reply], tuple[str, ...]] = {}


# ---------------------------------------------------------------- acknowledgements


@dataclass(frozen=True, slots=True)
class Ack(Reply):
    """`{"ok": true}`: the event was done."""

    ok: bool = field(default=True, init=False)


@dataclass(frozen=True, slots=True)
class Joined(Ack):
    """room.join: the room as the joining staff member sees it, with their ICE servers."""

    room: Room


@dataclass(frozen=True, slots=True)
class Watching(Ack):
    """lobby.watch: today's waiting citizens in the rooms this staff member serves."""

    waiting: list[Waiting]


@dataclass(frozen=True, slots=True)
class Invited(Ack):
    """interpreter.invite: the one-time link for an interpreter."""

    url: str
    expires_at: str


@dataclass(frozen=True, slots=True)
class IceRefreshed(Ack):
    """ice.refresh: fresh TURN credentials."""

    ice_servers: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Failure(Ack):
    """`{"ok": false, "error": {"code", "message"}}`: the event was refused."""

    ok: bool = field(default=False, init=False)
    code: str
    message: str

    def wire(self) -> dict[str, Any]:
        return {"ok": False, "error": {"code": self.code, "message": self.message}}


# ---------------------------------------------------------------- server → client events


@dataclass(frozen=True, slots=True)
class WaitingNotice(Reply):
    """`waiting`: the citizen is in the waiting room (again, with clerk_late, when the clerk is late)."""

    since: str | None
    clerk_late: bool
    checklist: list[str]


@dataclass(frozen=True, slots=True)
class Admitted(Reply):
    """`admitted`: the citizen is in the call; `resumed` when they came back within the grace period."""

    room: Room
    resumed: bool


@dataclass(frozen=True, slots=True)
class Denied(Reply):
    reason: str


@dataclass(frozen=True, slots=True)
class RoomUpdated(Reply):
    """`room.updated`: the payload is the Room itself, with me 0 and without `ice_servers`
    (those are per member: `admitted`, `room.join` and `ice.refresh` carry them)."""

    room: Room

    def wire(self) -> dict[str, Any]:
        return {key: value for key, value in self.room.items() if key != "ice_servers"}


@dataclass(frozen=True, slots=True)
class LobbyUpdated(Reply):
    """`lobby.updated`: what changed since this connection's last lobby.watch or lobby.updated,
    not the whole list: new or changed entries, and the appointments no longer waiting."""

    changed: list[Waiting]
    removed: list[int]


@dataclass(frozen=True, slots=True)
class SignalRelayed(Reply):
    """`signal`: the sender's payload as sent (no nulls, no defaults), with `from`."""

    signal: Signal
    sender: int

    def wire(self) -> dict[str, Any]:
        relayed = self.signal.model_dump(exclude_none=True, exclude_defaults=True)
        relayed["from"] = self.sender
        if self.signal.restart:
            relayed["restart"] = True
        return relayed


@dataclass(frozen=True, slots=True)
class PeerReconnecting(Reply):
    participant_id: int


@dataclass(frozen=True, slots=True)
class PeerLeft(Reply):
    participant_id: int


@dataclass(frozen=True, slots=True)
class ChatMessage(Reply):
    sender: int
    role: str
    text: str
    at: str

    def wire(self) -> dict[str, Any]:
        return {"from": self.sender, "role": self.role, "text": self.text, "at": self.at}


@dataclass(frozen=True, slots=True)
class CallEnded(Reply):
    outcome: str


@dataclass(frozen=True, slots=True)
class ErrorNotice(Reply):
    """`error`: a refused event, for clients that sent it without an acknowledgement callback."""

    code: str
    message: str
    event: str


@dataclass(frozen=True, slots=True)
class DocumentReady(Reply):
    """`document.ready`: a document was issued in the call; the citizen's page then lists them."""

    document: dict[str, Any]  # {"id", "title", "issued_at", "level"}


@dataclass(frozen=True, slots=True)
class DocumentRevoked(Reply):
    document_id: str
    revoked_at: str
