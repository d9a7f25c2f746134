"""The clerk's side of the waiting room: lobby.watch, admit and deny, and the lobby.updated
refresh of the staff watching on this process."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from signaling import rooms
from signaling.gate import staff_or_refuse
from signaling.members import Member, participant_room, room_name
from signaling.membership import room_updated
from signaling.payloads import Admit, Deny, Empty
from signaling.replies import Ack, Admitted, Denied, LobbyUpdated, Waiting, Watching
from vibue.web.appkeys import SESSIONS, SETTINGS

if TYPE_CHECKING:
    from signaling.server import Signaling


@dataclass
class Watcher:
    """A staff connection watching the waiting room, and the list as it last got it: pushes
    carry what changed since, so a change costs one entry, not the whole list per watcher."""

    staff_id: int
    sent: dict[int, Waiting] = field(default_factory=dict)  # appointment id -> entry


async def lobby_watch(server: Signaling, sid: str, member: Member | None, payload: Empty) -> Watching:
    """Today's waiting citizens for this staff member; from now on lobby.updated tells changes."""
    async with server.app[SESSIONS]() as session:
        staff = await staff_or_refuse(server, session, sid)
        waiting = await rooms.lobby(session, staff=staff, now=server.now, tz=_tz(server))
    server.watchers[sid] = Watcher(staff.id, {entry["appointment_id"]: entry for entry in waiting})
    return Watching(waiting=waiting)


async def admit(server: Signaling, sid: str, member: Member | None, payload: Admit) -> Ack:
    """The waiting citizen joins the call: `admitted` to them, room.updated to the room."""
    async with server.app[SESSIONS].begin() as session:
        staff = await staff_or_refuse(server, session, sid)
        citizen = await rooms.admit(session, staff=staff, appointment_id=payload.appointment_id, now=server.now)
        snapshot = await rooms.room(
            session, appointment_id=payload.appointment_id, me=citizen.id, ice_servers=server.ice_servers(citizen.id)
        )
    sid_elsewhere_or_here = citizen.connection_sid and (
        # The Redis manager reaches a connection on another process; without Redis there is
        # none, and a connection that closed a moment ago has no room to enter.
        server.app[SETTINGS].redis_url or server.sio.manager.is_connected(citizen.connection_sid, "/")
    )
    if sid_elsewhere_or_here:
        await server.sio.enter_room(citizen.connection_sid, room_name(payload.appointment_id))
    await server.send_admitted(Admitted(room=snapshot, resumed=False), to=participant_room(citizen.id))
    for waiting_sid, (waiting, _, _) in list(server.waiting.items()):
        if waiting.participant_id == citizen.id:
            del server.waiting[waiting_sid]
    await room_updated(server, payload.appointment_id)
    await server.lobby.changed()
    return Ack()


async def deny(server: Signaling, sid: str, member: Member | None, payload: Deny) -> Ack:
    """The waiting citizen is sent away (`denied`), and their connection closed."""
    async with server.app[SESSIONS].begin() as session:
        staff = await staff_or_refuse(server, session, sid)
        citizen = await rooms.deny(
            session, staff=staff, appointment_id=payload.appointment_id, reason=payload.reason, now=server.now
        )
    await server.send_denied(Denied(payload.reason), to=participant_room(citizen.id))
    if citizen.connection_sid:
        # Nothing more for this connection (a citizen sent away as too early connects anew).
        # In the background: our disconnect handler takes this room's lock, held right now.
        server.sio.start_background_task(server.sio.disconnect, citizen.connection_sid)
    await server.lobby.changed()
    return Ack()


async def refresh_watchers(server: Signaling) -> None:
    """Tell every staff member watching on this process what changed among the waiting citizens
    of the rooms they serve (LobbyFanout calls this on every process when the waiting room changed);
    a watcher whose list did not change hears nothing."""
    async with server.app[SESSIONS]() as session:
        for sid, watcher in list(server.watchers.items()):
            staff = await server.staff(session, sid)
            if staff is None:  # signed out or expired: no more names of waiting citizens
                server.watchers.pop(sid, None)
                continue
            waiting = await rooms.lobby(session, staff=staff, now=server.now, tz=_tz(server))
            now = {entry["appointment_id"]: entry for entry in waiting}
            changed = [entry for key, entry in now.items() if watcher.sent.get(key) != entry]
            removed = [key for key in watcher.sent if key not in now]
            watcher.sent = now
            if changed or removed:
                await server.send_lobby_updated(LobbyUpdated(changed, removed), to=sid)


def _tz(server: Signaling) -> ZoneInfo:
    return ZoneInfo(server.app[SETTINGS].timezone)
