"""Staff sign-in sessions: an opaque random cookie; the database keeps only its SHA-256."""

from __future__ import annotations

import secrets
from collections.abc import Collection
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from vibue.core import after_commit
from vibue.core.db import in_lists
from vibue.core.references import token_hash
from vibue.models import Staff, StaffSession

COOKIE = "vibue_staff"


async def open_session(*, session: AsyncSession, staff: Staff, now: datetime, hours: int) -> str:
    """Create a session for `staff` and return the cookie value (shown to the browser only)."""
    token = secrets.token_urlsafe(32)
    session.add(
        StaffSession(
            token_hash=token_hash(token), staff_id=staff.id, created_at=now, expires_at=now + timedelta(hours=hours)
        )
    )
    return token


async def resolve(*, session: AsyncSession, token: str, now: datetime) -> Staff | None:
    """The active staff member behind a cookie, or None when unknown, expired or deactivated."""
    if not token or len(token) > 100:
        return None
    return await resolve_digest(session=session, digest=token_hash(token), now=now)


async def resolve_digest(*, session: AsyncSession, digest: str, now: datetime) -> Staff | None:
    """As resolve(), from the cookie's hash (what a long-lived socket keeps instead of the cookie)."""
    row = await session.scalar(
        select(StaffSession).options(joinedload(StaffSession.staff)).where(StaffSession.token_hash == digest)
    )
    return row.staff if row is not None and _lasts(row.expires_at, row.staff.active, now) else None


async def lasting(*, session: AsyncSession, digests: Collection[str], now: datetime) -> dict[str, tuple[str, datetime]]:
    """Of these sessions (by the cookie's hash), the ones that last, of active staff: the staff
    member's role and the session's end. In one statement per IN_LIST_LIMIT."""
    found: dict[str, tuple[str, datetime]] = {}
    for hashes in in_lists(digests):
        rows = await session.execute(
            select(StaffSession.token_hash, StaffSession.expires_at, Staff.role, Staff.active)
            .join(Staff, Staff.id == StaffSession.staff_id)
            .where(StaffSession.token_hash.in_(hashes))
        )
        for digest, expires_at, role, active in rows:
            if _lasts(expires_at, active, now):
                found[digest] = (role, expires_at)
    return found


def _lasts(expires_at: datetime, active: bool, now: datetime) -> bool:
    # Compared in Python, not in SQL: SQLite keeps the times as text.
    return active and expires_at > now


async def close_session(*, session: AsyncSession, token: str) -> None:
    # Copies of the session (a staff socket's, signaling/membership_cache.py) are dropped on commit.
    after_commit.changed(session, after_commit.STAFF_SESSIONS, token_hash(token))
    await session.execute(delete(StaffSession).where(StaffSession.token_hash == token_hash(token)))


async def close_all(*, session: AsyncSession, staff_id: int) -> None:
    after_commit.changed(session, after_commit.STAFF_SESSIONS, staff_id)
    await session.execute(delete(StaffSession).where(StaffSession.staff_id == staff_id))
