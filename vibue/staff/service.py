"""Staff sign-in: password (argon2id) plus a one-time code, lockout, enrolment of the authenticator.

Failures change the database (failure counter, lockout, audit entry), so the functions here do not
raise them: they return an `Outcome` whose `error` the caller raises *after* committing the unit of
work. Raising inside the transaction would roll the bookkeeping back and make lockout useless.
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

from vibue.core import audit
from vibue.core.errors import DomainError, Locked, Unauthorized
from vibue.models import Staff
from vibue.staff import passwords, totp
from vibue.staff import sessions as staff_sessions

MAX_FAILURES = 5
LOCK_MINUTES = 15
ENROLMENT_MINUTES = 10
# Names without an active account tracked at once; beyond it the oldest entries are dropped.
MAX_UNKNOWN_NAMES = 10_000

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


# --- lockout for names without an active account ---


@dataclass
class _Strikes:
    failures: int
    last: datetime
    locked_until: datetime | None = None


class UnknownNames:
    """Failure counts for user names without an active account, so they lock like real ones.

    Otherwise "423 after five tries" would tell an attacker which names exist. Kept in process
    memory (one instance per app), bounded, keyed by an HMAC of the case-folded name: the name
    itself is never stored. An entry expires LOCK_MINUTES after its last failure or lock.
    """

    def __init__(self, secret_key: str, *, max_entries: int = MAX_UNKNOWN_NAMES) -> None:
        self._secret = secret_key.encode()
        self._max = max_entries
        self._strikes: dict[str, _Strikes] = {}

    def __len__(self) -> int:
        return len(self._strikes)

    def _key(self, username: str) -> str:
        return hmac.new(self._secret, username.strip().casefold().encode(), hashlib.sha256).hexdigest()

    def _current(self, key: str, now: datetime) -> _Strikes | None:
        strikes = self._strikes.get(key)
        if strikes is None:
            return None
        ends = strikes.locked_until or strikes.last + timedelta(minutes=LOCK_MINUTES)
        if ends <= now:
            del self._strikes[key]
            return None
        return strikes

    def is_locked(self, username: str, now: datetime) -> bool:
        strikes = self._current(self._key(username), now)
        return strikes is not None and strikes.locked_until is not None

    def fail(self, username: str, now: datetime) -> bool:
        """Count one failure; True when it locks the name for LOCK_MINUTES."""
        key = self._key(username)
        strikes = self._current(key, now)
        if strikes is None:
            self._make_room(now)
            strikes = self._strikes[key] = _Strikes(failures=0, last=now)
        strikes.failures += 1
        strikes.last = now
        if strikes.failures >= MAX_FAILURES:
            strikes.locked_until = now + timedelta(minutes=LOCK_MINUTES)
            return True
        return False

    def _make_room(self, now: datetime) -> None:
        if len(self._strikes) < self._max:
            return
        for key in list(self._strikes):
            self._current(key, now)  # drops the expired ones
        while len(self._strikes) >= self._max:  # a flood of names: forget the oldest
            del self._strikes[next(iter(self._strikes))]


# --- bookkeeping ---


def is_locked(staff: Staff, now: datetime) -> bool:
    return staff.locked_until is not None and staff.locked_until > now


async def _fail(*, session: AsyncSession, staff: Staff, now: datetime, reason: str) -> None:
    """Count a failure atomically (concurrent attempts must not lose counts); lock at the limit."""
    failures = await session.scalar(
        update(Staff)
        .where(Staff.id == staff.id)
        .values(failed_attempts=Staff.failed_attempts + 1)
        .returning(Staff.failed_attempts)
        .execution_options(synchronize_session=False)
    )
    audit.record(
        session=session, at=now, actor="anonymous", action="staff.sign_in_failed", subject=actor(staff), reason=reason
    )
    if failures is not None and failures >= MAX_FAILURES:
        until = now + timedelta(minutes=LOCK_MINUTES)
        # The counter restarts, so the first failure after the lock ends does not lock again at once.
        await session.execute(
            update(Staff)
            .where(Staff.id == staff.id)
            .values(failed_attempts=0, locked_until=until)
            .execution_options(synchronize_session=False)
        )
        audit.record(
            session=session,
            at=now,
            actor="system",
            action="staff.locked",
            subject=actor(staff),
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


async def _succeed(*, session: AsyncSession, staff: Staff, now: datetime, action: str) -> None:
    await session.execute(
        update(Staff)
        .where(Staff.id == staff.id)
        .values(failed_attempts=0, locked_until=None)
        .execution_options(synchronize_session=False)
    )
    audit.record(session=session, at=now, actor=actor(staff), action=action, subject=actor(staff))


async def find_staff(*, session: AsyncSession, username: str) -> Staff | None:
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


async def sign_in(
    *,
    session: AsyncSession,
    username: str,
    password: str,
    code: str,
    now: datetime,
    secret_key: str,
    city_name: str,
    unknown_names: UnknownNames,
    verify: Verifier = passwords.verify_password,
) -> Outcome:
    """Check user name, password and code. Staff without an authenticator get an enrolment instead.

    The password is always verified first (against a dummy hash for names without an active
    account), so refusals of every kind cost the same time and do not reveal which names exist.
    """
    found = await find_staff(session=session, username=username)
    staff = found if found is not None and found.active else None
    password_ok = await verify(passwords.DUMMY_HASH if staff is None else staff.password_hash, password)
    if staff is None:
        if unknown_names.is_locked(username, now):
            raise _refuse_locked(session=session, staff=None, now=now)
        reason = "unknown_user" if found is None else "inactive"
        audit.record(session=session, at=now, actor="anonymous", action="staff.sign_in_failed", reason=reason)
        if unknown_names.fail(username, now):
            audit.record(
                session=session, at=now, actor="system", action="staff.locked", reason=reason, minutes=LOCK_MINUTES
            )
        raise Unauthorized("invalid_credentials").keeping_changes()
    if is_locked(staff, now):
        raise _refuse_locked(session=session, staff=staff, now=now)
    if not password_ok:
        await _fail(session=session, staff=staff, now=now, reason="wrong_password")
        raise Unauthorized("invalid_credentials").keeping_changes()
    if not staff.totp_enrolled:
        return Outcome(
            enrolment=await start_enrolment(
                session=session, staff=staff, now=now, secret_key=secret_key, city_name=city_name
            )
        )
    refused = await _check_code(session=session, staff=staff, code=code, now=now)
    if refused is not None:
        await _fail(session=session, staff=staff, now=now, reason=refused)
        raise Unauthorized("invalid_credentials").keeping_changes()
    await _succeed(session=session, staff=staff, now=now, action="staff.signed_in")
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


async def finish_enrolment(*, session: AsyncSession, token: str, code: str, now: datetime, secret_key: str) -> Outcome:
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
    if is_locked(staff, now):
        raise _refuse_locked(session=session, staff=staff, now=now)
    reason = await _check_code(session=session, staff=staff, code=code, now=now)
    if reason is not None:
        await _fail(session=session, staff=staff, now=now, reason=f"enrolment_{reason}")
        raise Unauthorized("code_invalid").keeping_changes()
    staff.totp_enrolled = True
    await _succeed(session=session, staff=staff, now=now, action="staff.enrolled")
    audit.record(session=session, at=now, actor=actor(staff), action="staff.signed_in", subject=actor(staff))
    return Outcome(staff=staff)


async def sign_out(*, session: AsyncSession, staff: Staff, token: str, now: datetime) -> None:
    await staff_sessions.close_session(session=session, token=token)
    audit.record(session=session, at=now, actor=actor(staff), action="staff.signed_out", subject=actor(staff))
