"""Video calls: one-time identity codes and who is in (or waiting for) an appointment's room."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from vibue.models.base import Base, UTCDateTime

PARTICIPANT_ROLES = ("citizen", "clerk", "interpreter")
PARTICIPANT_STATES = ("waiting", "admitted", "denied", "left")


class IdentityCode(Base):
    """A 6-digit code mailed to the booking's address; only an HMAC of it is stored."""

    __tablename__ = "identity_codes"
    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointments.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class CallParticipant(Base):
    """A member of an appointment's room. State lives here, not in a process, so any server
    process (and a restarted one) knows who was admitted."""

    __tablename__ = "call_participants"
    __table_args__ = (UniqueConstraint("appointment_id", "role", "staff_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointments.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"), nullable=True)
    state: Mapped[str] = mapped_column(String(16))
    code_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    waiting_since: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    admitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The live Socket.IO connection: a reload connects anew before the old socket's disconnect
    # arrives, and only the disconnect of the live one may start the grace period.
    connection_sid: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # The server process holding that connection (SignalingProcess.id): when the process stops
    # beating, its participants count as disconnected (signaling/liveness.py).
    process_id: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    # Set while the connection is gone; cleared when it comes back within the grace period.
    disconnected_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The grace deadline: past it, whichever process sweeps first makes the participant leave.
    grace_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True, index=True)
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Interpreters only: the name and language they gave when joining by invitation.
    display_name: Mapped[str | None] = mapped_column(String(120), nullable=True)
    language: Mapped[str | None] = mapped_column(String(60), nullable=True)
    # Result of the pre-call connection test: verdict, rtt_ms, loss, bitrate_kbps (no addresses).
    connection_test: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class InterpreterInvitation(Base):
    """A one-time link a clerk hands to an interpreter; only the link secret's hash is stored."""

    __tablename__ = "interpreter_invitations"
    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointments.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class SignalingProcess(Base):
    """A running signaling server process and when it last said it is alive (wall-clock time)."""

    __tablename__ = "signaling_processes"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
