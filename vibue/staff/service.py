"""Staff sign-in: password (argon2id) plus a one-time code, lockout, enrolment of the authenticator.

Failures change the database (failure counter, lockout, audit entry), so refusals are raised with
keeping_changes(): the unit of work commits the bookkeeping first, or lockout would be useless.
Who is locked out is decided by account (or unknown name) and source (`lockout.py`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from vibue.core import audit, fields
from vibue.core.errors import DomainError, Invalid, Locked, Unauthorized
from vibue.models import Staff
from vibue.staff import passwords, totp
from vibue.staff import sessions as staff_sessions
from vibue.staff.lockout import ACCOUNT_FAILURES, LOCK, SOURCE_FAILURES, Lockouts

LOCK_MINUTES = int(LOCK.total_seconds() // 60)
ENROLMENT_MINUTES = 10

# (password hash, password) -> matches; injectable so tests can see that it ran.
Verifier = Callable[[str, str], Awaitable[bool]]


@dataclass(frozen=True)
class Enrolment:
    """What the browser needs to set up an authenticator app."""

    token: str
    secret: str
    otpauth_uri: str
    qr_svg: str


@dataclass(frozen=True)
class Outcome:
    """Exactly one of: signed in (`staff`) or enrolment needed (`enrolment`).

    Refusals are raised with keeping_changes(): failures must be counted and audited.
    """

    staff: Staff | None = None
    enrolment: Enrolment | None = None


def actor(staff: Staff | None) -> str:
    return "anonymous" if staff is None else f"staff:{staff.id}"


def issuer(city_name: str) -> str:
    return f"ViBü {city_name}"


# --- enrolment tokens: staff id, expiry and the new secret, signed with the app's secret key ---


def _signature(secret_key: str, staff_id: int, expires: int, totp_secret: str) -> str:
    message = f"enrol|{staff_id}|{expires}|{totp_secret}".encode()
    digest = hmac.new(secret_key.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def enrolment_token(*, secret_key: str, staff_id: int, totp_secret: str, now: datetime) -> str:
    expires = int((now + timedelta(minutes=ENROLMENT_MINUTES)).timestamp())
    return f"{staff_id}.{expires}.{_signature(secret_key, staff_id, expires, totp_secret)}"


def parse_enrolment_token(token: str) -> tuple[int, int, str] | None:
    """(staff id, expiry timestamp, signature) or None when the token is malformed."""
    parts = token.split(".")
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit() or len(parts[0]) > 12:
        return None
    return int(parts[0]), int(parts[1]), parts[2]


def enrolment_token_valid(token: str, *, secret_key: str, staff: Staff, now: datetime) -> bool:
    parsed = parse_enrolment_token(token)
    if parsed is None:
        return False
    staff_id, expires, signature = parsed
    expected = _signature(secret_key, staff_id, expires, staff.totp_secret)
    return (
        staff_id == staff.id
        and hmac.compare_digest(expected, signature)
        and now.timestamp() < expires
        and not staff.totp_enrolled
    )


# --- bookkeeping ---


def is_locked(staff: Staff, now: datetime) -> bool:
    return staff.locked_until is not None and staff.locked_until > now


async def _fail(
    *, session: AsyncSession, staff: Staff, now: datetime, reason: str, lockouts: Lockouts, source: str
) -> None:
    """Count a failure for this source and for the account (atomically: concurrent attempts must not
    lose counts); lock the source at SOURCE_FAILURES, the whole account at ACCOUNT_FAILURES."""
    audit.record(
        session=session, at=now, actor="anonymous", action="staff.sign_in_failed", subject=actor(staff), reason=reason
    )
    if await lockouts.fail(lockouts.account(staff.id), source, now, whole=False):
        _record_lock(session=session, staff=staff, now=now, scope="source", failures=SOURCE_FAILURES)
    failures = await session.scalar(
        update(Staff)
        .where(Staff.id == staff.id)
        .values(failed_attempts=Staff.failed_attempts + 1)
        .returning(Staff.failed_attempts)
        .execution_options(synchronize_session=False)
    )
    if failures is not None and failures >= ACCOUNT_FAILURES:
        # The counter restarts, so the first failure after the lock ends does not lock again at once.
        await session.execute(
            update(Staff)
            .where(Staff.id == staff.id)
            .values(failed_attempts=0, locked_until=now + LOCK)
            .execution_options(synchronize_session=False)
        )
        _record_lock(session=session, staff=staff, now=now, scope="account", failures=failures)


def _record_lock(*, session: AsyncSession, staff: Staff, now: datetime, scope: str, failures: int) -> None:
    audit.record(
        session=session,
        at=now,
        actor="system",
        action="staff.locked",
        subject=actor(staff),
        scope=scope,
        minutes=LOCK_MINUTES,
        failures=failures,
    )


def _refuse_locked(*, session: AsyncSession, staff: Staff | None, now: datetime) -> DomainError:
    """Audit a refused attempt on a locked account (or locked unknown name) and say so."""
    subject = "" if staff is None else actor(staff)
    audit.record(
        session=session, at=now, actor="anonymous", action="staff.sign_in_refused", subject=subject, reason="locked"
    )
    return Locked("account_locked").keeping_changes()


async def _accept_step(*, session: AsyncSession, staff: Staff, step: int) -> bool:
    """Store `step` as the last accepted one unless a newer or equal step was accepted meanwhile."""
    result: Any = await session.execute(
        update(Staff)
        .where(Staff.id == staff.id, Staff.totp_last_step < step)
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)


async def _succeed(
    *, session: AsyncSession, staff: Staff, now: datetime, action: str, lockouts: Lockouts, source: str
) -> None:
    await lockouts.forget(lockouts.account(staff.id), source)
    await session.execute(
        update(Staff)
        .where(Staff.id == staff.id)
        .values(failed_attempts=0, locked_until=None)
        .execution_options(synchronize_session=False)
    )
    audit.record(session=session, at=now, actor=actor(staff), action=action, subject=actor(staff))


async def find_staff(*, session: AsyncSession, username: str) -> Staff | None:
    if not fields.storable(username):  # no account has one, and PostgreSQL refuses NUL in a query
        return None
    # User names are compared case-insensitively: "Clerk" and "clerk" are the same person.
    found: Staff | None = await session.scalar(
        select(Staff).where(func.lower(Staff.username) == username.strip().lower())
    )
    return found


async def _check_code(*, session: AsyncSession, staff: Staff, code: str, now: datetime) -> str | None:
    """None when `code` is fresh and valid (and is now used up), else the failure reason."""
    step = totp.matching_step(staff.totp_secret, code, now)
    if step is None:
        return "wrong_code"
    if step <= staff.totp_last_step or not await _accept_step(session=session, staff=staff, step=step):
        return "replayed_code"
    return None


# --- the two entry points ---


def _unreadable(**values: str) -> dict[str, str]:
    """Fields no database can store (NUL, lone surrogates): no account has them, so they cannot match."""
    return {name: "field.nul" for name, value in values.items() if not fields.storable(value)}


async def sign_in(
    *,
    session: AsyncSession,
    username: str,
    password: str,
    code: str,
    now: datetime,
    secret_key: str,
    city_name: str,
    lockouts: Lockouts,
    source: str,
    verify: Verifier = passwords.verify_password,
) -> Outcome:
    """Check user name, password and code. Staff without an authenticator get an enrolment instead.

    The password is always verified first (against a dummy hash for names without an active
    account), so refusals of every kind cost the same time and do not reveal which names exist.
    `source` is the client's key (an HMAC of its address): lockouts count per account and source.
    """
    unreadable = _unreadable(username=username, password=password)
    found = await find_staff(session=session, username=username)
    staff = found if found is not None and found.active else None
    # Hashed all the same (a lone surrogate has no bytes to hash), so the refusal costs the same time.
    typed = "" if "password" in unreadable else password
    password_ok = await verify(passwords.DUMMY_HASH if staff is None else staff.password_hash, typed)
    # A failure is a failure; a NUL in a field is one too, answered with the field's message.
    refusal = Invalid("validation_failed", fields=unreadable) if unreadable else Unauthorized("invalid_credentials")
    if staff is None:
        name = lockouts.unknown(username)
        if await lockouts.is_locked(name, source, now, whole=True):
            raise _refuse_locked(session=session, staff=None, now=now)
        reason = "unknown_user" if found is None else "inactive"
        audit.record(session=session, at=now, actor="anonymous", action="staff.sign_in_failed", reason=reason)
        if await lockouts.fail(name, source, now, whole=True):
            audit.record(
                session=session, at=now, actor="system", action="staff.locked", reason=reason, minutes=LOCK_MINUTES
            )
        raise refusal.keeping_changes()
    if is_locked(staff, now) or await lockouts.is_locked(lockouts.account(staff.id), source, now, whole=False):
        raise _refuse_locked(session=session, staff=staff, now=now)
    if not password_ok or unreadable:
        await _fail(session=session, staff=staff, now=now, reason="wrong_password", lockouts=lockouts, source=source)
        raise refusal.keeping_changes()
    if not staff.totp_enrolled:
        return Outcome(
            enrolment=await start_enrolment(
                session=session, staff=staff, now=now, secret_key=secret_key, city_name=city_name
            )
        )
    refused = await _check_code(session=session, staff=staff, code=code, now=now)
    if refused is not None:
        await _fail(session=session, staff=staff, now=now, reason=refused, lockouts=lockouts, source=source)
        raise Unauthorized("invalid_credentials").keeping_changes()
    await _succeed(session=session, staff=staff, now=now, action="staff.signed_in", lockouts=lockouts, source=source)
    return Outcome(staff=staff)


async def start_enrolment(
    *, session: AsyncSession, staff: Staff, now: datetime, secret_key: str, city_name: str
) -> Enrolment:
    """Give the staff member a fresh secret (not yet active) and what the browser shows for it."""
    staff.totp_secret = totp.new_secret()
    staff.totp_enrolled = False
    await session.flush()
    audit.record(session=session, at=now, actor=actor(staff), action="staff.enrolment_started", subject=actor(staff))
    uri = totp.provisioning_uri(staff.totp_secret, account=staff.username, issuer=issuer(city_name))
    return Enrolment(
        token=enrolment_token(secret_key=secret_key, staff_id=staff.id, totp_secret=staff.totp_secret, now=now),
        secret=staff.totp_secret,
        otpauth_uri=uri,
        qr_svg=totp.qr_svg(uri, title=issuer(city_name)),
    )


async def finish_enrolment(
    *, session: AsyncSession, token: str, code: str, now: datetime, secret_key: str, lockouts: Lockouts, source: str
) -> Outcome:
    """Activate the authenticator when the first code from it is right; that also signs in."""
    parsed = parse_enrolment_token(token)
    staff = None if parsed is None else await session.get(Staff, parsed[0])
    if (
        staff is None
        or not staff.active
        or not enrolment_token_valid(token, secret_key=secret_key, staff=staff, now=now)
    ):
        audit.record(session=session, at=now, actor="anonymous", action="staff.enrolment_failed", reason="token")
        raise Unauthorized("enrolment_invalid").keeping_changes()
    if is_locked(staff, now) or await lockouts.is_locked(lockouts.account(staff.id), source, now, whole=False):
        raise _refuse_locked(session=session, staff=staff, now=now)
    reason = await _check_code(session=session, staff=staff, code=code, now=now)
    if reason is not None:
        await _fail(
            session=session, staff=staff, now=now, reason=f"enrolment_{reason}", lockouts=lockouts, source=source
        )
        raise Unauthorized("code_invalid").keeping_changes()
    staff.totp_enrolled = True
    await _succeed(session=session, staff=staff, now=now, action="staff.enrolled", lockouts=lockouts, source=source)
    audit.record(session=session, at=now, actor=actor(staff), action="staff.signed_in", subject=actor(staff))
    return Outcome(staff=staff)


async def sign_out(*, session: AsyncSession, staff: Staff, token: str, now: datetime) -> None:
    await staff_sessions.close_session(session=session, token=token)
    audit.record(session=session, at=now, actor=actor(staff), action="staff.signed_out", subject=actor(staff))
