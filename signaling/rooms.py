"""Room and admission state, kept in the database so every server process sees the same room.

One room per video appointment. Each function is one unit of work and returns plain data for
the event layer to send; domain errors (vibue.core.errors) say why something is refused.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from signaling.grace import end_grace
from signaling.membership_cache import room_changed
from signaling.replies import Identity, Participant, Room, Waiting
from vibue.booking.lifecycle import OUTCOME_STATUS, transition
from vibue.core.audit import record
from vibue.core.db import in_lists
from vibue.core.errors import Conflict, Forbidden, NotFound
from vibue.core.i18n import localized
from vibue.models import Appointment, CallParticipant, Capacity, Staff
from vibue.staff import units
from vibue.video import interpreters
from vibue.video.identity_codes import CALL_STATUSES, is_open

CALL_ROLES = ("clerk", "admin")


async def _appointment(session: AsyncSession, appointment_id: int, *, lock: bool = False) -> Appointment:
    """The video appointment; with `lock`, its row stays locked until the transaction ends.

    Every change of a room's state locks the appointment (or the participant) first, so changes
    of one room happen one after the other across server processes too (PostgreSQL; SQLite has
    one writer anyway and serves one process).
    """
    query = select(Appointment).options(selectinload(Appointment.concern)).where(Appointment.id == appointment_id)
    appointment = await session.scalar(query.with_for_update(of=Appointment) if lock else query)
    if appointment is None or appointment.channel != "video":
        raise NotFound("appointment_not_found")
    return appointment


async def may_serve(session: AsyncSession, staff: Staff, appointment: Appointment) -> bool:
    """Admins serve every room; a clerk the rooms of units and locations they have shifts for."""
    return await units.may_serve(session, staff, appointment)


async def connect_citizen(
    session: AsyncSession, *, participant_id: int, appointment_id: int, sid: str, process_id: str, now: datetime
) -> tuple[CallParticipant, bool, bool, str | None]:
    """A citizen's or interpreter's connection arrives; returns the participant, whether it is in
    the call (interpreters are, by their invitation), whether this is a reconnection, and the
    older connection this one takes over (still live, to be closed)."""
    participant = await session.get(CallParticipant, participant_id)
    if participant is None:  # the token is genuine: its room went with the appointment (retention)
        await _appointment(session, appointment_id)  # appointment_not_found when that is gone
    if (
        participant is None
        or participant.appointment_id != appointment_id
        or participant.role not in ("citizen", "interpreter")
    ):
        raise Forbidden("unauthorized")
    appointment = await _appointment(session, appointment_id, lock=True)
    # Read again under the room's lock: another process may have changed it in between.
    await session.refresh(participant, with_for_update=True)
    if appointment.status not in CALL_STATUSES or participant.state == "denied":
        raise Conflict("call_over")
    if participant.state == "left":
        if participant.role != "citizen":
            raise Conflict("call_over")  # an interpreter's invitation is for one visit
        # A citizen who hung up, was sent away as too early or stayed away beyond the grace
        # period may wait again while the appointment lasts; the clerk admits them anew.
        participant.state = "waiting"
        participant.waiting_since = None
        participant.admitted_at = None
        participant.left_at = None
    room_changed(session, appointment_id)
    in_call = participant.state == "admitted"
    returning = participant.connection_sid is not None
    live = participant.connection_sid is not None and participant.disconnected_at is None
    replaced = participant.connection_sid if live and participant.connection_sid != sid else None
    if participant.state == "waiting" and participant.waiting_since is None:
        participant.waiting_since = now
    _connected(participant, sid=sid, process_id=process_id)
    return participant, in_call, returning, replaced


def _connected(participant: CallParticipant, *, sid: str, process_id: str) -> None:
    """`sid` on process `process_id` is now the participant's live connection."""
    participant.connection_sid = sid
    participant.process_id = process_id
    end_grace(participant)


async def join_staff(
    session: AsyncSession, *, staff: Staff, appointment_id: int, sid: str, process_id: str, now: datetime
) -> CallParticipant:
    """Staff enter a room directly: they never wait."""
    appointment = await _appointment(session, appointment_id, lock=True)
    if appointment.status not in CALL_STATUSES:
        raise Conflict("call_over")  # ended (call.end), or cancelled: no room to enter any more
    if not is_open(appointment, now):
        raise Conflict("video_not_open")
    if not await may_serve(session, staff, appointment):
        raise Forbidden("forbidden_room")
    participant = await session.scalar(
        select(CallParticipant).where(
            CallParticipant.appointment_id == appointment_id,
            CallParticipant.role == "clerk",
            CallParticipant.staff_id == staff.id,
        )
    )
    if participant is None:
        participant = CallParticipant(appointment_id=appointment_id, role="clerk", staff_id=staff.id)
        session.add(participant)
        record(
            session=session,
            at=now,
            actor=f"staff:{staff.id}",
            action="call.joined",
            subject=f"appointment:{appointment_id}",
        )
    room_changed(session, appointment_id)
    participant.state = "admitted"
    participant.admitted_at = participant.admitted_at or now
    _connected(participant, sid=sid, process_id=process_id)
    participant.left_at = None
    if appointment.clerk_id is None:
        appointment.clerk_id = staff.id
    await session.flush()
    return participant


async def room(session: AsyncSession, *, appointment_id: int, me: int, ice_servers: list[dict[str, Any]]) -> Room:
    """The Room object of docs/signaling.md, as seen by participant `me`."""
    appointment = await _appointment(session, appointment_id)
    rows = (
        await session.execute(
            select(CallParticipant, Staff.display_name)
            .outerjoin(Staff, Staff.id == CallParticipant.staff_id)
            .where(CallParticipant.appointment_id == appointment_id, CallParticipant.state.in_(("waiting", "admitted")))
            .order_by(CallParticipant.id)
        )
    ).all()
    participants: list[Participant] = [
        {
            "id": p.id,
            "role": p.role,
            "name": name or p.display_name or appointment.citizen_name,
            "language": p.language,
            "state": "reconnecting" if p.disconnected_at is not None else p.state,
            # Perfect negotiation: citizens and interpreters roll back on glare, staff do not.
            "polite": p.role != "clerk",
        }
        for p, name in rows
    ]
    identity: Identity | None = (
        {"checked_at": appointment.identity_checked_at.isoformat(), "document": appointment.identity_document}
        if appointment.identity_checked_at is not None
        else None
    )
    return {
        "appointment_id": appointment.id,
        "reference": appointment.reference,
        "me": me,
        "participants": participants,
        "ice_servers": ice_servers,
        "identity": identity,
    }


async def admit(session: AsyncSession, *, staff: Staff, appointment_id: int, now: datetime) -> CallParticipant:
    appointment = await _appointment(session, appointment_id, lock=True)
    if not await may_serve(session, staff, appointment):
        raise Forbidden("forbidden_room")
    citizen = await _citizen(session, appointment_id)
    if citizen is None or citizen.state != "waiting" or citizen.disconnected_at is not None:
        raise Conflict("not_waiting")
    room_changed(session, appointment_id)
    citizen.state = "admitted"
    citizen.admitted_at = now
    if appointment.status == "checked_in":
        transition(appointment, "in_call", now=now)
    appointment.call_started_at = appointment.call_started_at or now
    appointment.clerk_id = staff.id
    record(
        session=session,
        at=now,
        actor=f"staff:{staff.id}",
        action="call.admitted",
        subject=f"appointment:{appointment_id}",
    )
    return citizen


async def deny(
    session: AsyncSession, *, staff: Staff, appointment_id: int, reason: str, now: datetime
) -> CallParticipant:
    appointment = await _appointment(session, appointment_id, lock=True)
    if not await may_serve(session, staff, appointment):
        raise Forbidden("forbidden_room")
    citizen = await _citizen(session, appointment_id)
    if citizen is None or citizen.state != "waiting":
        raise Conflict("not_waiting")
    room_changed(session, appointment_id)
    # Too early: they may come back to the waiting room; otherwise their part is over.
    citizen.state = "left" if reason == "too_early" else "denied"
    citizen.left_at = now
    record(
        session=session,
        at=now,
        actor=f"staff:{staff.id}",
        action="call.denied",
        subject=f"appointment:{appointment_id}",
        reason=reason,
    )
    return citizen


async def confirm_identity(
    session: AsyncSession, *, staff: Staff, appointment_id: int, document: str, now: datetime
) -> None:
    appointment = await _appointment(session, appointment_id, lock=True)
    if appointment.status != "in_call":
        raise Conflict("status_conflict", status=appointment.status)
    # Only the kind of document and the time: never its number or an image (recordings-policy).
    appointment.identity_document = document
    appointment.identity_checked_at = now
    record(
        session=session,
        at=now,
        actor=f"staff:{staff.id}",
        action="call.identity_checked",
        subject=f"appointment:{appointment_id}",
        document=document,
    )


async def end_call(
    session: AsyncSession, *, staff: Staff, appointment_id: int, outcome: str, now: datetime
) -> list[int]:
    """End the call with its outcome; returns the participants that were still in the room."""
    appointment = await _appointment(session, appointment_id, lock=True)
    if appointment.status not in CALL_STATUSES:
        raise Conflict("status_conflict", status=appointment.status)
    if appointment.status == "confirmed" and outcome != "no_show":
        raise Conflict("status_conflict", status=appointment.status)
    room_changed(session, appointment_id)
    transition(appointment, OUTCOME_STATUS[outcome], now=now)
    appointment.outcome = outcome
    appointment.call_ended_at = now
    members = list(
        await session.scalars(
            select(CallParticipant).where(
                CallParticipant.appointment_id == appointment_id, CallParticipant.state.in_(("waiting", "admitted"))
            )
        )
    )
    for member in members:
        member.state = "left"
        member.left_at = now
    record(
        session=session,
        at=now,
        actor=f"staff:{staff.id}",
        action="call.ended",
        subject=f"appointment:{appointment_id}",
        outcome=outcome,
    )
    return [member.id for member in members]


async def presence(session: AsyncSession, appointment_ids: Collection[int]) -> dict[int, dict[int, bool]]:
    """For each of these calls, its members right now (admitted, maybe reconnecting), each with
    whether it is connected; a call without any maps to {}.

    The relay's hot path reads it through signaling/membership_cache.py, which every change of
    room state here and in grace.py tells (`room_changed`), and which reads the rooms in use
    again together, in one statement per IN_LIST_LIMIT of them.
    """
    found: dict[int, dict[int, bool]] = {appointment_id: {} for appointment_id in appointment_ids}
    for ids in in_lists(found):
        rows = await session.execute(
            select(CallParticipant.appointment_id, CallParticipant.id, CallParticipant.disconnected_at).where(
                CallParticipant.appointment_id.in_(ids),
                CallParticipant.state == "admitted",
            )
        )
        for appointment_id, participant_id, dropped in rows:
            found[appointment_id][participant_id] = dropped is None
    return found


async def invite_interpreter(
    session: AsyncSession, *, staff: Staff, appointment_id: int, now: datetime
) -> interpreters.Invitation:
    appointment = await _appointment(session, appointment_id, lock=True)
    if not await may_serve(session, staff, appointment):
        raise Forbidden("forbidden_room")
    return await interpreters.invite(session=session, appointment=appointment, staff_id=staff.id, now=now)


async def leave(session: AsyncSession, *, participant_id: int, now: datetime, sid: str | None = None) -> bool:
    """The participant leaves the call for good; with `sid`, only if that is still its connection
    (a staff socket moving rooms leaves its old row, unless another tab took it over)."""
    participant = await session.get(CallParticipant, participant_id, with_for_update=True)
    if participant is None or participant.state not in ("waiting", "admitted"):
        return False
    if sid is not None and participant.connection_sid != sid:
        return False
    room_changed(session, participant.appointment_id)
    participant.state = "left"
    participant.left_at = now
    participant.connection_sid = None
    end_grace(participant)
    return True


async def _citizen(session: AsyncSession, appointment_id: int) -> CallParticipant | None:
    return await session.scalar(
        select(CallParticipant).where(
            CallParticipant.appointment_id == appointment_id, CallParticipant.role == "citizen"
        )
    )


async def lobby(session: AsyncSession, *, staff: Staff, now: datetime, tz: ZoneInfo) -> list[Waiting]:
    """Citizens waiting today in rooms this staff member serves, longest waiting first."""
    day_start = datetime.combine(now.astimezone(tz).date(), datetime.min.time(), tzinfo=tz)
    query = (
        select(CallParticipant, Appointment)
        .join(Appointment, Appointment.id == CallParticipant.appointment_id)
        .options(selectinload(Appointment.concern))
        .where(
            CallParticipant.role == "citizen",
            CallParticipant.state == "waiting",
            CallParticipant.disconnected_at.is_(None),
            CallParticipant.waiting_since.is_not(None),
            Appointment.start_at >= day_start,
            Appointment.start_at < day_start + timedelta(days=1),
        )
        .order_by(CallParticipant.waiting_since)
    )
    if staff.role != "admin":
        served = select(Capacity.unit_id, Capacity.location_id).where(Capacity.staff_id == staff.id)
        pairs = [
            and_(Appointment.unit_id == u, Appointment.location_id == loc) for u, loc in await session.execute(served)
        ]
        if not pairs:
            return []
        query = query.where(or_(*pairs))
    rows = (await session.execute(query)).all()
    return [
        {
            "appointment_id": appointment.id,
            "reference": appointment.reference,
            "concern": localized(appointment.concern, "name", "de"),
            "start": appointment.start_at.astimezone(tz).isoformat(),
            "citizen_name": appointment.citizen_name,
            "waiting_since": participant.waiting_since.isoformat() if participant.waiting_since else None,
            "code_verified_at": participant.code_verified_at.isoformat() if participant.code_verified_at else None,
            "connection_test": participant.connection_test,
        }
        for participant, appointment in rows
    ]


async def checklist(session: AsyncSession, *, appointment_id: int) -> list[str]:
    """What the citizen should have at hand, in the appointment's language (German where it has none)."""
    appointment = await _appointment(session, appointment_id)
    return list(localized(appointment.concern, "checklist", appointment.lang))


async def is_waiting(session: AsyncSession, *, participant_id: int) -> bool:
    participant = await session.get(CallParticipant, participant_id)
    return participant is not None and participant.state == "waiting"


async def clerk_late(session: AsyncSession, *, appointment_id: int, now: datetime) -> bool:
    appointment = await _appointment(session, appointment_id)
    return now > appointment.start_at + timedelta(minutes=5)
