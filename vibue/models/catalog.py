"""What the office offers: service units, concerns, locations, opening hours and closures."""

from __future__ import annotations

from datetime import date, time

from sqlalchemy import JSON, Boolean, Column, Date, ForeignKey, Integer, String, Table, Text, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship, synonym

from vibue.models.base import Base

unit_concerns = Table(
    "unit_concerns",
    Base.metadata,
    Column("unit_id", ForeignKey("service_units.id", ondelete="CASCADE"), primary_key=True),
    Column("concern_id", ForeignKey("concerns.id", ondelete="CASCADE"), primary_key=True),
)


class ServiceUnit(Base):
    """A Funktionseinheit such as "Bürgeramt Virtuell" or "Pflegestützpunkt"."""

    __tablename__ = "service_units"
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    name_de: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))
    description_de: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    concerns: Mapped[list[Concern]] = relationship(secondary=unit_concerns, back_populates="units")


class Concern(Base):
    """An Anliegen: what the citizen comes for, how long it takes, what to bring."""

    __tablename__ = "concerns"
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    name_de: Mapped[str] = mapped_column(String(160))
    name_en: Mapped[str] = mapped_column(String(160))
    description_de: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    duration_minutes: Mapped[int] = mapped_column(Integer)
    # Channels this concern can be handled on: "video", "on_site".
    channels: Mapped[list[str]] = mapped_column(JSON, default=list)
    checklist_de: Mapped[list[str]] = mapped_column(JSON, default=list)
    checklist_en: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    units: Mapped[list[ServiceUnit]] = relationship(secondary=unit_concerns, back_populates="concerns")


class Location(Base):
    """A Standort. kind "virtual" hosts video appointments, "physical" on-site visits."""

    __tablename__ = "locations"
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(160))
    kind: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(300), default="")
    # English name and address; empty reads the German (vibue.core.i18n.localized via name_de/address_de).
    name_en: Mapped[str] = mapped_column(String(160), default="", server_default="")
    address_en: Mapped[str] = mapped_column(String(300), default="", server_default="")
    name_de = synonym("name")
    address_de = synonym("address")
    # Bumped by every booking at this location: the first write of a booking transaction,
    # so bookings at one location serialise on SQLite and PostgreSQL alike (no over-booking).
    booking_version: Mapped[int] = mapped_column(Integer, default=0)
    hours: Mapped[list[OpeningHours]] = relationship(
        back_populates="location", cascade="all, delete-orphan", order_by="OpeningHours.weekday"
    )

    @property
    def channel(self) -> str:
        return "video" if self.kind == "virtual" else "on_site"


class OpeningHours(Base):
    """One opening interval on a weekday (0 = Monday)."""

    __tablename__ = "opening_hours"
    id: Mapped[int] = mapped_column(primary_key=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id", ondelete="CASCADE"))
    weekday: Mapped[int] = mapped_column(Integer)
    opens: Mapped[time] = mapped_column(Time)
    closes: Mapped[time] = mapped_column(Time)
    location: Mapped[Location] = relationship(back_populates="hours")


class Closure(Base):
    """Days a location is closed (holidays, staff training), inclusive."""

    __tablename__ = "closures"
    __table_args__ = (UniqueConstraint("location_id", "first_day"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id", ondelete="CASCADE"))
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(200), default="")
