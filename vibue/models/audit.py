"""The append-only audit log: who did what, without personal data."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from vibue.models.base import Base, UTCDateTime


class AuditEntry(Base):
    # A database trigger (see the initial migration) refuses UPDATE on this table.
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(80))  # "staff:12", "citizen:VB-ABC123", "system"
    action: Mapped[str] = mapped_column(String(60))
    subject: Mapped[str] = mapped_column(String(80), default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
