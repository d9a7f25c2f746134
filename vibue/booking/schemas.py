"""Wire models of the booking API: the reservation (step 5) and the booking behind an email link."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from vibue.core.fields import (
    EMAIL,
    EMAIL_PATTERN,
    NAME_PATTERN,
    PHONE,
    PHONE_PATTERN,
    Moment,
    Named,
    RowId,
    Strict,
    mail_address,
    plain_name,
)


class ReservationIn(Strict):
    unit_id: RowId
    concern_id: RowId
    location_id: RowId
    start: Moment
    # The validators below give each field its own message; the document states the same rules.
    name: str = Field(json_schema_extra={"minLength": 1, "maxLength": 120, "pattern": NAME_PATTERN})
    email: str = Field(
        description="The domain may be internationalised (umlauts): it must then have an IDNA 2008 form.",
        json_schema_extra={"maxLength": 254, "pattern": EMAIL_PATTERN},
    )
    phone: str = Field(default="", json_schema_extra={"maxLength": 40, "pattern": PHONE_PATTERN})
    privacy_consent: bool = Field(json_schema_extra={"const": True})
    lang: Literal["de", "en"] = "de"

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not 1 <= len(value) <= 120 or not plain_name(value):
            raise ValueError("field.name")
        return value

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        if len(value) > 254 or not EMAIL.match(value):
            raise ValueError("field.email")
        mail_address(value)  # the domain must have an IDNA form for the mail's envelope
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
