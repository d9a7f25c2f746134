"""Grace periods and endings as database facts, enforced by whichever process sweeps first.

A dropped connection (or one whose process died, see liveness.py) gets a deadline,
`grace_until`; past it the participant has left. A call with nobody left in it is abandoned, and
when a room's window closes its waiting citizens leave and an unserved check-in is abandoned too.
Each function is one unit of work on rows it locks first, so two processes sweeping at once
act once. These and rooms.py are the only places room membership changes.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from signaling.membership_cache import room_changed
from vibue.booking.lifecycle import transition
from vibue.core.audit import record
from vibue.models import Appointment, CallParticipant
from vibue.video.identity_codes import CLOSES_AFTER

ACTIVE = ("waiting", "admitted")


def start_grace(participant: CallParticipant, *, now: datetime, grace: timedelta) -> None:
    participant.disconnected_at = now
    participant.grace_until = now + grace


def end_grace(participant: CallParticipant) -> None:
    """The connection is back (or the participant is gone): no deadline runs."""
    participant.disconnected_at = None
    participant.grace_until = None


async def disconnected(
    session: AsyncSession, *, participant_id: int, sid: str, now: datetime, grace: timedelta
) -> bool:
    """Start the grace period, unless this socket was already replaced (a reload reconnects first)
    or the participant already counts as disconnected (its process was found dead)."""
    participant = await session.get(CallParticipant, participant_id, with_for_update=True)
    if participant is None or participant.connection_sid != sid or participant.state not in ACTIVE:
        return False
    if participant.disconnected_at is not None:
        return False
    room_changed(session, participant.appointment_id)  # the relay refuses signals to it now
    start_grace(participant, now=now, grace=grace)
    return True


async def orphaned(
    session: AsyncSession, *, participant_id: int, process_id: str, now: datetime, grace: timedelta
) -> bool:
    """Start the grace period of a participant whose process stopped beating, if it is still
    connected through that process (it may have come back on a live one meanwhile)."""
    participant = await session.get(CallParticipant, participant_id, with_for_update=True)
    if participant is None or participant.state not in ACTIVE or participant.disconnected_at is not None:
        return False
    if participant.process_id != process_id:
        return False
    room_changed(session, participant.appointment_id)
    start_grace(participant, now=now, grace=grace)
    return True


async def reclaim(session: AsyncSession, *, participant_id: int, sid: str) -> bool:
    """The process was only slow, not dead: its socket `sid` is still here, so the grace period
    that was started for it ends (unless another connection took over meanwhile)."""
    participant = await session.get(CallParticipant, participant_id, with_for_update=True)
    if participant is None or participant.state not in ACTIVE or participant.disconnected_at is None:
        return False
    if participant.connection_sid != sid:
        return False
    room_changed(session, participant.appointment_id)
    end_grace(participant)
    return True


async def due(session: AsyncSession, *, now: datetime) -> list[tuple[int, int]]:
    """(appointment id, participant id) of everyone whose grace deadline has passed."""
    rows = await session.execute(
        select(CallParticipant.appointment_id, CallParticipant.id)
        .where(CallParticipant.grace_until <= now, CallParticipant.state.in_(ACTIVE))
        .order_by(CallParticipant.appointment_id, CallParticipant.id)
    )
    return [(appointment_id, participant_id) for appointment_id, participant_id in rows]


async def expire(session: AsyncSession, *, participant_id: int, now: datetime) -> bool:
    """Past the deadline and still away: gone for good (a citizen may wait again later)."""
    participant = await session.get(CallParticipant, participant_id, with_for_update=True)
    if participant is None or participant.state not in ACTIVE or participant.disconnected_at is None:
        return False
    if participant.grace_until is None or participant.grace_until > now:
        return False
    room_changed(session, participant.appointment_id)
    participant.state = "left"
    participant.left_at = now
    participant.grace_until = None
    return True


async def abandon_empty_calls(session: AsyncSession, *, now: datetime) -> list[int]:
    """Calls in progress that nobody is in any more end as `abandoned`; returns their ids.

    Only after everyone's grace period (or hang-up): a reconnecting participant is still in.
    """
    someone_in = exists().where(CallParticipant.appointment_id == Appointment.id, CallParticipant.state.in_(ACTIVE))
    query = select(Appointment).where(Appointment.status == "in_call", ~someone_in).order_by(Appointment.id)
    # Another process sweeping (or a connect) holds the row: it is handled there or next round.
    abandoned = list(await session.scalars(query.with_for_update(of=Appointment, skip_locked=True)))
    for appointment in abandoned:
        _abandon(session, appointment, now=now, reason="everyone_left")
    return [appointment.id for appointment in abandoned]


async def close_windows(session: AsyncSession, *, now: datetime) -> tuple[list[str], list[int]]:
    """When a room's window has closed (end + 30 min): its waiting citizens leave and a check-in
    nobody admitted is abandoned. Returns the waiting connections to close and the appointments."""
    closed_before = now - CLOSES_AFTER
    waiting = list(
        await session.scalars(
            select(CallParticipant)
            .join(Appointment, Appointment.id == CallParticipant.appointment_id)
            .where(CallParticipant.state == "waiting", Appointment.end_at < closed_before)
            .order_by(CallParticipant.id)
            .with_for_update(of=CallParticipant, skip_locked=True)
        )
    )
    sids = [p.connection_sid for p in waiting if p.connection_sid and p.disconnected_at is None]
    for participant in waiting:
        room_changed(session, participant.appointment_id)
        participant.state = "left"
        participant.left_at = now
        participant.grace_until = None
    unserved = list(
        await session.scalars(
            select(Appointment)
            .where(
                Appointment.status == "checked_in", Appointment.channel == "video", Appointment.end_at < closed_before
            )
            .order_by(Appointment.id)
            .with_for_update(of=Appointment, skip_locked=True)
        )
    )
    for appointment in unserved:
        _abandon(session, appointment, now=now, reason="window_closed")
    return sids, [appointment.id for appointment in unserved]


def _abandon(session: AsyncSession, appointment: Appointment, *, now: datetime, reason: str) -> None:
    room_changed(session, appointment.id)
    transition(appointment, "abandoned", now=now)
    appointment.call_ended_at = now
    record(
        session=session,
        at=now,
        actor="system",
        action="call.abandoned",
        subject=f"appointment:{appointment.id}",
        reason=reason,
    )
