"""Wire models of the citizen-facing JSON API (booking flow). Validation messages are catalog keys."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, field_validator

# Local part: RFC 5322 atext and dots only, so no comma, quote, angle bracket or space can smuggle a
# second recipient or a header into the mail. Domain: letters (also umlauts), digits and hyphens.
EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@(?:[^\W_](?:(?:[^\W_]|-){0,61}[^\W_])?\.)+[^\W\d_]{2,63}$")
# Dates outside this range are never bookable; refusing them here keeps arithmetic from overflowing.
EARLIEST = date(2000, 1, 1)
LATEST = date(2099, 12, 31)
PHONE = re.compile(r"^\+?[0-9 ()/.-]{5,40}$")
Id = Field(ge=1, le=2**31 - 1)


def _bounded_day(value: date) -> date:
    if not EARLIEST <= value <= LATEST:
        raise ValueError("field.date_range")
    return value


def _bounded_moment(value: datetime) -> datetime:
    try:
        day = value.astimezone(UTC).date()
    except OverflowError:
        raise ValueError("field.date_range") from None
    _bounded_day(day)
    return value


Day = Annotated[date, AfterValidator(_bounded_day)]
Moment = Annotated[AwareDatetime, AfterValidator(_bounded_moment)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class UnitOut(BaseModel):
    id: int
    slug: str
    name: str
    description: str


class UnitsOut(BaseModel):
    units: list[UnitOut]


class ConcernOut(BaseModel):
    id: int
    slug: str
    name: str
    description: str
    duration_minutes: int
    channels: list[str]
    checklist: list[str]


class ConcernsOut(BaseModel):
    concerns: list[ConcernOut]


class HoursOut(BaseModel):
    weekday: int
    opens: str
    closes: str


class LocationOut(BaseModel):
    id: int
    slug: str
    name: str
    kind: str
    channel: str
    address: str
    opening_hours: list[HoursOut]


class LocationsOut(BaseModel):
    locations: list[LocationOut]


class SlotsQuery(Strict):
    unit: int = Id
    concern: int = Id
    location: int = Id
    from_: Day | None = Field(default=None, alias="from")
    days: int = Field(default=7, ge=1, le=31)


class SlotOut(BaseModel):
    start: datetime
    end: datetime


class DayOut(BaseModel):
    date: date
    slots: list[SlotOut]


class SlotsOut(BaseModel):
    timezone: str
    next_free: SlotOut | None
    days: list[DayOut]
    horizon_end: date


def no_control_chars(value: str) -> bool:
    return not any(unicodedata.category(ch).startswith("C") for ch in value)


class ReservationIn(Strict):
    unit_id: int = Id
    concern_id: int = Id
    location_id: int = Id
    start: Moment
    name: str
    email: str
    phone: str = ""
    privacy_consent: bool
    lang: Literal["de", "en"] = "de"

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not 1 <= len(value) <= 120 or not no_control_chars(value):
            raise ValueError("field.name")
        return value

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        if len(value) > 254 or not EMAIL.match(value) or not no_control_chars(value):
            raise ValueError("field.email")
        return value.lower()

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str) -> str:
        if value and (not PHONE.match(value) or sum(ch.isdigit() for ch in value) < 5):
            raise ValueError("field.phone")
        return value

    @field_validator("privacy_consent")
    @classmethod
    def _consent(cls, value: bool) -> bool:
        if value is not True:
            raise ValueError("field.privacy_consent")
        return value


class ReservationOut(BaseModel):
    reference: str
    status: str
    reserved_until: datetime | None
    start: datetime
    end: datetime
    channel: str


class RescheduleIn(Strict):
    start: Moment


class Named(BaseModel):
    id: int
    name: str


class BookingConcern(BaseModel):
    id: int
    name: str
    checklist: list[str]
    duration_minutes: int


class BookingLocation(BaseModel):
    id: int
    name: str
    address: str
    kind: str


class BookingCitizen(BaseModel):
    name: str
    email: str


class BookingOut(BaseModel):
    reference: str
    status: str
    channel: str
    start: datetime
    end: datetime
    reserved_until: datetime | None
    unit: Named
    concern: BookingConcern
    location: BookingLocation
    citizen: BookingCitizen
    join_url: str | None
    can_cancel: bool
    can_reschedule: bool
