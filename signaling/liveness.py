"""Which signaling processes are alive, and the sweep every process runs.

Each process records a heartbeat (wall-clock time: it is about real processes, not the app's
clock) every `heartbeat_seconds`. A participant connected through a process silent for
`process_dead_seconds` counts as disconnected: its grace period starts and the others see
peer.reconnecting, even though the process that held it can no longer say so (`kill -9`). The
sweep (every `room_sweep_seconds`, on every process) also ends grace periods, abandoned calls and
closed waiting rooms (grace.py); whichever process is first does each once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from signaling import grace
from signaling.members import room_name
from signaling.membership import room_updated
from signaling.replies import PeerLeft, PeerReconnecting
from vibue.models import CallParticipant, SignalingProcess
from vibue.web.appkeys import SESSIONS, SETTINGS

if TYPE_CHECKING:
    from signaling.server import Signaling

log = logging.getLogger("vibue.signaling")


def wall_now() -> datetime:
    return datetime.now(UTC)


async def beat(session: AsyncSession, *, process_id: str, at: datetime) -> None:
    """Record that this process is alive (the first beat registers it)."""
    result = await session.execute(
        update(SignalingProcess).where(SignalingProcess.id == process_id).values(heartbeat_at=at)
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        session.add(SignalingProcess(id=process_id, started_at=at, heartbeat_at=at))


async def forget(session: AsyncSession, *, process_id: str) -> None:
    """A process that stops cleanly says so: whatever it still held counts as disconnected at once."""
    await session.execute(delete(SignalingProcess).where(SignalingProcess.id == process_id))


async def orphans(session: AsyncSession, *, alive_since: datetime) -> list[tuple[int, int, str]]:
    """(appointment, participant, process) of participants still counted as connected through a
    process that has not beaten since `alive_since` (or never registered)."""
    live = select(SignalingProcess.id).where(SignalingProcess.heartbeat_at >= alive_since)
    rows = await session.execute(
        select(CallParticipant.appointment_id, CallParticipant.id, CallParticipant.process_id)
        .where(
            CallParticipant.state.in_(grace.ACTIVE),
            CallParticipant.disconnected_at.is_(None),
            CallParticipant.process_id.is_not(None),
            CallParticipant.process_id.not_in(live),
        )
        .order_by(CallParticipant.appointment_id, CallParticipant.id)
    )
    return [(a, p, process) for a, p, process in rows if process is not None]


async def heartbeat(server: Signaling) -> None:
    """Beat; and if others took this process for dead meanwhile, take back its live connections."""
    async with server.app[SESSIONS].begin() as session:
        await beat(session, process_id=server.process_id, at=server.wall())
        held = (
            await session.execute(
                select(CallParticipant.appointment_id, CallParticipant.id, CallParticipant.connection_sid).where(
                    CallParticipant.process_id == server.process_id,
                    CallParticipant.disconnected_at.is_not(None),
                    CallParticipant.state.in_(grace.ACTIVE),
                )
            )
        ).all()
    for appointment_id, participant_id, sid in held:
        if sid is None or not server.sio.manager.is_connected(sid, "/"):
            continue  # really gone: its grace period runs
        async with server.locks.hold(appointment_id), server.app[SESSIONS].begin() as session:
            back = await grace.reclaim(session, participant_id=participant_id, sid=sid)
        if back:
            log.warning("this process was taken for dead; participant %s is connected here still", participant_id)
            await room_updated(server, appointment_id)
            await server.lobby.changed()


async def sweep(server: Signaling) -> None:
    """One round: dead processes' participants disconnected, deadlines enforced, calls ended."""
    settings = server.app[SETTINGS]
    sessions = server.app[SESSIONS]
    length = timedelta(seconds=settings.reconnect_grace_seconds)
    touched: set[int] = set()
    lobby_changed = False
    async with sessions() as session:
        found = await orphans(session, alive_since=server.wall() - timedelta(seconds=settings.process_dead_seconds))
    for appointment_id, participant_id, process_id in found:
        async with server.locks.hold(appointment_id), sessions.begin() as session:
            started = await grace.orphaned(
                session, participant_id=participant_id, process_id=process_id, now=server.now, grace=length
            )
        if started:
            await server.send_peer_reconnecting(PeerReconnecting(participant_id), to=room_name(appointment_id))
            touched.add(appointment_id)
            lobby_changed = True
    async with sessions() as session:
        expired = await grace.due(session, now=server.now)
    for appointment_id, participant_id in expired:
        async with server.locks.hold(appointment_id), sessions.begin() as session:
            gone = await grace.expire(session, participant_id=participant_id, now=server.now)
        if gone:
            await server.send_peer_left(PeerLeft(participant_id), to=room_name(appointment_id))
            touched.add(appointment_id)
            lobby_changed = True
    async with sessions.begin() as session:
        abandoned = await grace.abandon_empty_calls(session, now=server.now)
    async with sessions.begin() as session:
        closing, unserved = await grace.close_windows(session, now=server.now)
    for sid in closing:
        # Nothing to wait for any more; the owning process (any, with Redis) closes it.
        server.sio.start_background_task(server.sio.disconnect, sid)
    for appointment_id in sorted(touched):
        await room_updated(server, appointment_id)
    if lobby_changed or abandoned or closing or unserved:
        await server.lobby.changed()


async def run(server: Signaling) -> None:
    """Heartbeat and sweep for the process's lifetime, each on its own period; a failed round is logged."""
    settings = server.app[SETTINGS]

    async def loop(seconds: float, name: str, step: Callable[[Signaling], Awaitable[None]]) -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                await step(server)
            except Exception:
                log.exception("%s failed", name)

    # Named tasks, not bare coroutines in gather (which would run them as anonymous tasks): whoever
    # looks at the running tasks (a log, a test telling background work from the signaling path)
    # sees what each one is. Cancelling this task cancels both.
    await asyncio.gather(
        asyncio.create_task(loop(settings.heartbeat_seconds, "heartbeat", heartbeat), name="vibue-liveness-heartbeat"),
        asyncio.create_task(loop(settings.room_sweep_seconds, "room sweep", sweep), name="vibue-liveness-sweep"),
    )
