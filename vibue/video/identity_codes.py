"""One-time identity codes: proof that the person at the pre-call page reads the booking's mailbox.

Codes come from pyotp (a fresh random secret each time), are valid 10 minutes, single-use and
bound to one appointment; a new code voids the previous one; 5 wrong entries void the code.
Only an HMAC of the code is stored.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
from sqlalchemy import ColumnElement, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from vibue.booking.lifecycle import transition
from vibue.core.audit import record
from vibue.core.errors import Conflict, DomainError, Invalid
from vibue.models import Appointment, CallParticipant, IdentityCode

CODE_LIFETIME = timedelta(minutes=10)
MAX_ATTEMPTS = 5
OPENS_BEFORE = timedelta(minutes=15)
CLOSES_AFTER = timedelta(minutes=30)
CALL_STATUSES = ("confirmed", "checked_in", "in_call")


def opens_at(appointment: Appointment) -> datetime:
    return appointment.start_at - OPENS_BEFORE


def is_open(appointment: Appointment, now: datetime) -> bool:
    return opens_at(appointment) <= now <= appointment.end_at + CLOSES_AFTER


def ensure_joinable(appointment: Appointment, now: datetime) -> None:
    if appointment.channel != "video":
        raise Conflict("not_a_video_appointment")
    if appointment.status not in CALL_STATUSES:
        raise Conflict("status_conflict", status=appointment.status)
    if not is_open(appointment, now):
        raise Conflict("video_not_open")


def code_hash(secret: str, appointment_id: int, code: str) -> str:
    return hmac.new(secret.encode(), f"identity:{appointment_id}:{code}".encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class IssuedCode:
    plain: str  # for the mail only; the database keeps its HMAC
    expires_at: datetime


async def issue_code(*, session: AsyncSession, appointment: Appointment, now: datetime, secret: str) -> IssuedCode:
    """Void any open code of the appointment, store a new one and return it."""
    ensure_joinable(appointment, now)
    await session.execute(
        update(IdentityCode)
        .where(
            IdentityCode.appointment_id == appointment.id,
            IdentityCode.used_at.is_(None),
            IdentityCode.voided_at.is_(None),
        )
        .values(voided_at=now)
    )
    plain = pyotp.HOTP(pyotp.random_base32(), digits=6).at(0)
    code = IdentityCode(
        appointment_id=appointment.id,
        code_hash=code_hash(secret, appointment.id, plain),
        created_at=now,
        expires_at=now + CODE_LIFETIME,
        attempts=0,
    )
    session.add(code)
    record(
        session=session,
        at=now,
        actor=f"citizen:{appointment.reference}",
        action="identity_code.sent",
        subject=f"appointment:{appointment.id}",
    )
    return IssuedCode(plain, code.expires_at)


def _still_open(code_id: int, now: datetime) -> tuple[ColumnElement[bool], ...]:
    """The conditions under which a code may still be tried, checked inside the write itself."""
    return (
        IdentityCode.id == code_id,
        IdentityCode.used_at.is_(None),
        IdentityCode.voided_at.is_(None),
        IdentityCode.expires_at > now,
        IdentityCode.attempts < MAX_ATTEMPTS,
    )


async def verify_code(
    *, session: AsyncSession, appointment: Appointment, code: str, now: datetime, secret: str
) -> CallParticipant:
    """Check a code and admit its holder to the waiting room.

    Counting a miss and using the code are each one conditional UPDATE, so guesses sent at once
    cannot all read the same counter (SQLite has no row locks): at most MAX_ATTEMPTS are
    evaluated and one right code yields one admission, on both databases.
    Refusals are raised with keeping_changes(): the attempt counter and the audit must commit.
    """
    ensure_joinable(appointment, now)
    actor = f"citizen:{appointment.reference}"
    subject = f"appointment:{appointment.id}"

    def refused(error: DomainError) -> DomainError:
        # Replays and late tries are audited too: they may be someone else's attempts.
        record(session=session, at=now, actor=actor, action="identity_code.refused", subject=subject, reason=error.code)
        return error.keeping_changes()

    async def current() -> IdentityCode | None:
        found: IdentityCode | None = await session.scalar(
            select(IdentityCode)
            .where(IdentityCode.appointment_id == appointment.id)
            .order_by(IdentityCode.id.desc())
            .limit(1)
            .execution_options(populate_existing=True)
        )
        return found

    def closed(latest: IdentityCode | None) -> DomainError:
        """Why `latest` cannot be tried (read after a conditional write found it closed)."""
        if latest is None:
            return refused(Invalid("identity_code_missing", fields={"code": "field.code_request_first"}))
        if latest.used_at is not None:
            return refused(Conflict("identity_code_used"))
        if latest.voided_at is not None or latest.expires_at > now:  # voided, or five misses
            return refused(Conflict("identity_code_voided"))
        return refused(Conflict("identity_code_expired"))

    latest = await current()
    if latest is None or latest.used_at is not None or latest.voided_at is not None or latest.expires_at <= now:
        raise closed(latest)
    if not hmac.compare_digest(latest.code_hash, code_hash(secret, appointment.id, code)):
        attempts = await session.scalar(
            update(IdentityCode)
            .where(*_still_open(latest.id, now))
            .values(attempts=IdentityCode.attempts + 1)
            .returning(IdentityCode.attempts)
            .execution_options(synchronize_session=False)
        )
        if attempts is None:  # closed meanwhile by another try, a new code or the clock
            raise closed(await current())
        left = MAX_ATTEMPTS - attempts
        record(session=session, at=now, actor=actor, action="identity_code.failed", subject=subject, left=left)
        if left <= 0:
            await session.execute(
                update(IdentityCode)
                .where(IdentityCode.id == latest.id, IdentityCode.voided_at.is_(None))
                .values(voided_at=now)
                .execution_options(synchronize_session=False)
            )
            raise Conflict("identity_code_voided").keeping_changes()
        raise Invalid("identity_code_wrong", fields={"code": "field.code_wrong"}, count=left).keeping_changes()
    used = await session.scalar(
        update(IdentityCode)
        .where(*_still_open(latest.id, now))
        .values(used_at=now)
        .returning(IdentityCode.id)
        .execution_options(synchronize_session=False)
    )
    if used is None:  # another request used it first (or five misses voided it)
        raise closed(await current())
    participant = await session.scalar(
        select(CallParticipant).where(
            CallParticipant.appointment_id == appointment.id, CallParticipant.role == "citizen"
        )
    )
    if participant is None:
        participant = CallParticipant(appointment_id=appointment.id, role="citizen", state="waiting")
        session.add(participant)
    participant.code_verified_at = now
    if appointment.status == "confirmed":
        transition(appointment, "checked_in", now=now)
    await session.flush()
    record(session=session, at=now, actor=actor, action="identity_code.verified", subject=subject)
    return participant
