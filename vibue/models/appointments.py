"""Appointments: booked (video or on site) and walk-ins, with their status lifecycle."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, ForeignKey, Index, String, and_, or_
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vibue.models.base import Base, UTCDateTime
from vibue.models.catalog import Concern, Location, ServiceUnit

CHANNELS = ("video", "on_site", "walk_in")
# abandoned: the call (or the wait) ended without an outcome: everyone gone past the grace period,
# or the room's window closed; the clerk records the outcome afterwards.
STATUSES = ("reserved", "confirmed", "checked_in", "in_call", "completed", "no_show", "cancelled", "abandoned")
# Statuses that hold a slot: everything but the end states that free it.
HOLDING = ("reserved", "confirmed", "checked_in", "in_call")
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "reserved": ("confirmed", "cancelled"),
    "confirmed": ("checked_in", "in_call", "no_show", "cancelled"),
    "checked_in": ("in_call", "completed", "no_show", "cancelled", "abandoned"),
    "in_call": ("completed", "no_show", "abandoned"),
    "abandoned": ("completed", "no_show"),
    "completed": (),
    "no_show": (),
    "cancelled": (),
}


class Appointment(Base):
    __tablename__ = "appointments"
    __table_args__ = (Index("ix_appointments_location_start", "location_id", "start_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    # SHA-256 of the secret in the citizen's email links (confirm, cancel, reschedule).
    manage_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("service_units.id"))
    concern_id: Mapped[int] = mapped_column(ForeignKey("concerns.id"))
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    channel: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), index=True)
    start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    end_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reserved_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Personal data: blanked by the retention job when the policy says so.
    citizen_name: Mapped[str] = mapped_column(String(200), default="")
    citizen_email: Mapped[str] = mapped_column(String(254), default="", index=True)
    citizen_phone: Mapped[str] = mapped_column(String(40), default="")
    lang: Mapped[str] = mapped_column(String(2), default="de")
    clerk_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The video call: which kind of ID document the clerk checked (never its number or an image),
    # and how the appointment ended ("completed", "no_show", "on_site_needed").
    identity_document: Mapped[str | None] = mapped_column(String(32), nullable=True)
    identity_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(32), nullable=True)
    call_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    call_ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    concern: Mapped[Concern] = relationship()
    unit: Mapped[ServiceUnit] = relationship()
    location: Mapped[Location] = relationship()

    # The one rule for "the reservation lapsed": unconfirmed, and its hold ran out (decisions.md #3).
    # Its Python and SQL forms side by side, so checks and filters (free slots, the clerk's day)
    # cannot drift apart.
    def lapsed(self, now: datetime) -> bool:
        return self.status == "reserved" and (self.reserved_until is None or self.reserved_until <= now)

    @classmethod
    def lapsed_at(cls, now: datetime) -> ColumnElement[bool]:
        """SQL condition: the appointment is a lapsed reservation at `now`."""
        return and_(cls.status == "reserved", or_(cls.reserved_until.is_(None), cls.reserved_until <= now))
