"""Interpreters: a clerk invites one by a one-time link; whoever opens it joins the call directly.

The link carries a random secret (only its hash is stored), works once, is voided by a newer
invitation, and expires when the video room closes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from vibue.core import after_commit
from vibue.core.audit import record
from vibue.core.errors import Conflict, NotFound
from vibue.core.references import new_manage_token, token_hash
from vibue.models import Appointment, CallParticipant, InterpreterInvitation
from vibue.video.identity_codes import CALL_STATUSES, CLOSES_AFTER


@dataclass(frozen=True)
class Invitation:
    secret: str
    expires_at: datetime


async def invite(*, session: AsyncSession, appointment: Appointment, staff_id: int, now: datetime) -> Invitation:
    if appointment.status not in CALL_STATUSES:
        raise Conflict("status_conflict", status=appointment.status)
    await session.execute(
        update(InterpreterInvitation)
        .where(
            InterpreterInvitation.appointment_id == appointment.id,
            InterpreterInvitation.used_at.is_(None),
            InterpreterInvitation.voided_at.is_(None),
        )
        .values(voided_at=now)
    )
    secret = new_manage_token()
    expires = appointment.end_at + CLOSES_AFTER
    session.add(
        InterpreterInvitation(
            appointment_id=appointment.id,
            token_hash=token_hash(secret),
            created_by=staff_id,
            created_at=now,
            expires_at=expires,
        )
    )
    record(
        session=session,
        at=now,
        actor=f"staff:{staff_id}",
        action="interpreter.invited",
        subject=f"appointment:{appointment.id}",
    )
    return Invitation(secret, expires)


async def find(*, session: AsyncSession, secret: str) -> tuple[InterpreterInvitation, Appointment]:
    invitation = await session.scalar(
        select(InterpreterInvitation).where(InterpreterInvitation.token_hash == token_hash(secret))
    )
    if invitation is None:
        raise NotFound("invitation_not_found")
    appointment = await session.scalar(
        select(Appointment)
        .options(selectinload(Appointment.concern))
        .where(Appointment.id == invitation.appointment_id)
    )
    if appointment is None:
        raise NotFound("invitation_not_found")
    return invitation, appointment


def state(invitation: InterpreterInvitation, appointment: Appointment, now: datetime) -> str:
    if invitation.used_at is not None:
        return "used"
    if invitation.voided_at is not None or invitation.expires_at <= now or appointment.status not in CALL_STATUSES:
        return "expired"
    return "open"


async def join(
    *, session: AsyncSession, secret: str, name: str, language: str, now: datetime
) -> tuple[CallParticipant, Appointment]:
    """Use the invitation (once): the interpreter is admitted to the room straight away."""
    invitation, appointment = await find(session=session, secret=secret)
    current = state(invitation, appointment, now)
    if current == "used":
        raise Conflict("invitation_used")
    if current == "expired":
        raise Conflict("invitation_expired")
    # Claimed by one conditional UPDATE: of simultaneous joins with the same link only one finds
    # it unused (a read-then-write let all of them in).
    claimed = await session.execute(
        update(InterpreterInvitation)
        .where(InterpreterInvitation.id == invitation.id, InterpreterInvitation.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("invitation_used")
    participant = CallParticipant(
        appointment_id=appointment.id,
        role="interpreter",
        state="admitted",
        admitted_at=now,
        display_name=name,
        language=language,
    )
    session.add(participant)
    # A new member of the call: signaling's copies of the room are dropped on commit.
    after_commit.changed(session, after_commit.ROOM, appointment.id)
    await session.flush()
    record(
        session=session,
        at=now,
        actor=f"interpreter:{participant.id}",
        action="interpreter.joined",
        subject=f"appointment:{appointment.id}",
    )
    return participant, appointment
