"""The late-clerk notice: a waiting citizen hears once when their clerk runs late (5 minutes past
the start and not admitted). Each process checks the citizens waiting on it every 30 seconds."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from signaling import rooms
from signaling.replies import WaitingNotice
from vibue.web.appkeys import SESSIONS

if TYPE_CHECKING:
    from signaling.server import Signaling

log = logging.getLogger("vibue.signaling")

# How often each process looks whether a waiting citizen's clerk is late.
LATE_CHECK_SECONDS = 30.0


async def tell_late(server: Signaling) -> int:
    """Tell waiting citizens once when their clerk runs late; returns how many were told."""
    told = 0
    for sid, (member, already, since) in list(server.waiting.items()):
        if already:
            continue
        async with server.app[SESSIONS]() as session:
            # Admitted (maybe by a clerk on another process) or gone meanwhile: forget them.
            waiting = await rooms.is_waiting(session, participant_id=member.participant_id)
            late = waiting and await rooms.clerk_late(session, appointment_id=member.appointment_id, now=server.now)
            checklist = await rooms.checklist(session, appointment_id=member.appointment_id) if late else []
        if not waiting:
            server.waiting.pop(sid, None)
        elif late and sid in server.waiting:
            server.waiting[sid] = (member, True, since)
            await server.send_waiting(WaitingNotice(since, clerk_late=True, checklist=checklist), to=sid)
            told += 1
    return told


async def late_loop(server: Signaling) -> None:
    """Run tell_late every LATE_CHECK_SECONDS for the process's lifetime; a failed round is logged."""
    while True:
        await asyncio.sleep(LATE_CHECK_SECONDS)
        try:
            await tell_late(server)
        except Exception:
            log.exception("late notice check failed")
