"""Writing to the append-only audit log. Never put personal data in `details`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from vibue.models import AuditEntry


def record(*, session: AsyncSession, at: datetime, actor: str, action: str, subject: str = "", **details: Any) -> None:
    """Add an audit entry to the current unit of work; it commits with the change it describes."""
    session.add(AuditEntry(at=at, actor=actor, action=action, subject=subject, details=details))
