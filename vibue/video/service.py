"""The video appointment's rules before the call: the pre-call view, identity codes by mail, and
the join credential for citizens (after the code) and interpreters (by their one-time link)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from vibue.booking import service as booking
from vibue.booking.context import Context
from vibue.booking.mails import identity_code_mail
from vibue.core.audit import record
from vibue.core.errors import RateLimited
from vibue.models import Appointment, CallParticipant, InterpreterInvitation
from vibue.video import identity_codes, interpreters, join_tokens

# A join token lasts through the appointment (reloads reconnect with it), and never longer than this.
JOIN_TOKEN_LIMIT = timedelta(hours=3)


@dataclass(frozen=True)
class CodeSent:
    to: str  # the masked address
    expires_at: datetime


@dataclass(frozen=True)
class JoinCredential:
    token: str
    expires_at: datetime


def masked(email: str) -> str:
    """e***@example.org: enough to recognise one's own address, not enough to learn it."""
    name, _, domain = email.partition("@")
    return f"{name[:1]}***@{domain}"


def join_credential(
    *, secret: str, appointment: Appointment, participant: CallParticipant, now: datetime
) -> JoinCredential:
    """The signed token the call page connects with, valid until the room closes."""
    expires = min(appointment.end_at + identity_codes.CLOSES_AFTER, now + JOIN_TOKEN_LIMIT)
    claims = join_tokens.JoinClaims(appointment.id, participant.id, participant.role, expires)
    return JoinCredential(join_tokens.issue(secret, claims), expires)


async def code_verified(*, session: AsyncSession, appointment: Appointment) -> bool:
    """Whether the citizen of this appointment has entered a right identity code."""
    verified = await session.scalar(
        select(CallParticipant.code_verified_at).where(
            CallParticipant.appointment_id == appointment.id, CallParticipant.role == "citizen"
        )
    )
    return verified is not None


async def mail_identity_code(
    *, session: AsyncSession, ctx: Context, token: str, allow: Callable[[Appointment], Awaitable[None]]
) -> CodeSent:
    """Issue a code and queue its mail; returns the masked address it goes to and its expiry.

    `allow` applies the per-appointment limit; a refusal is audited and kept (someone may be
    flooding the citizen's mailbox).
    """
    appointment = await booking.find(session=session, token=token)
    try:
        await allow(appointment)
    except RateLimited as refused:
        record(
            session=session,
            at=ctx.now,
            actor=f"citizen:{appointment.reference}",
            action="identity_code.rate_limited",
            subject=f"appointment:{appointment.id}",
        )
        raise refused.keeping_changes() from None
    code = await identity_codes.issue_code(
        session=session, appointment=appointment, now=ctx.now, secret=ctx.settings.secret_key
    )
    data = booking.mail_data(ctx, appointment, token)
    ctx.mail.enqueue(session=session, message=identity_code_mail(data, code.plain, now=ctx.now))
    return CodeSent(masked(appointment.citizen_email), code.expires_at)


async def verify_citizen(*, session: AsyncSession, token: str, code: str, now: datetime, secret: str) -> JoinCredential:
    """Check the identity code; a wrong one is counted even though this raises."""
    appointment = await booking.find(session=session, token=token)
    participant = await identity_codes.verify_code(
        session=session, appointment=appointment, code=code, now=now, secret=secret
    )
    return join_credential(secret=secret, appointment=appointment, participant=participant, now=now)


async def invitation(
    *, session: AsyncSession, secret: str, now: datetime
) -> tuple[InterpreterInvitation, Appointment, str]:
    """The invitation behind an interpreter's link, its appointment and its state."""
    found, appointment = await interpreters.find(session=session, secret=secret)
    return found, appointment, interpreters.state(found, appointment, now)


async def join_interpreter(
    *, session: AsyncSession, link: str, name: str, language: str, now: datetime, secret: str
) -> JoinCredential:
    """Claim the one-time invitation and hand out the interpreter's join credential."""
    participant, appointment = await interpreters.join(
        session=session, secret=link, name=name, language=language, now=now
    )
    return join_credential(secret=secret, appointment=appointment, participant=participant, now=now)
