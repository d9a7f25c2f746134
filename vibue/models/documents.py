"""Documents issued during a video call: the record of each sealed PDF (the file is under the data dir)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from vibue.models.base import Base, UTCDateTime


class IssuedDocument(Base):
    """One issued PDF. Its check code is derived from the id and the secret key, never stored."""

    __tablename__ = "issued_documents"
    __table_args__ = (UniqueConstraint("appointment_id", "idempotency_key"),)
    # secrets.token_urlsafe(16): 128 random bits, the /v/<id> of the verification page.
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    # No cascade: the retention job deletes a document's file with its row, before the appointment.
    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointments.id"), index=True)
    template_id: Mapped[str] = mapped_column(String(64))
    title_de: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(8))
    sha256: Mapped[str] = mapped_column(String(64))
    # Relative to the data dir ("documents/<id>.pdf").
    file_name: Mapped[str] = mapped_column(String(200))
    issued_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"), nullable=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    # A retry or a double click with the same key gets the same document; the body's hash tells a
    # retry from a different request under the same key.
    idempotency_key: Mapped[str] = mapped_column(String(64))
    request_hash: Mapped[str] = mapped_column(String(64))
    # What the verification page shows of the holder: already masked ("E*** M***"), never the name.
    holder_masked: Mapped[str] = mapped_column(String(200), default="")
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"), nullable=True)
    revocation_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
