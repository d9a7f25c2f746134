"""Field types shared by the wire models of every domain. Validation messages are catalog keys."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

# Local part: RFC 5322 atext and dots only, so no comma, quote, angle bracket or space can smuggle a
# second recipient or a header into the mail. Domain: letters (also umlauts), digits and hyphens.
EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@(?:[^\W_](?:(?:[^\W_]|-){0,61}[^\W_])?\.)+[^\W\d_]{2,63}$")
# Dates outside this range are never bookable; refusing them here keeps arithmetic from overflowing.
EARLIEST = date(2000, 1, 1)
LATEST = date(2099, 12, 31)
PHONE = re.compile(r"^\+?[0-9 ()/.-]{5,40}$")
# Row ids are 32-bit on both databases; larger numbers are refused before any query.
MAX_ID = 2**31 - 1
RowId = Annotated[int, Field(ge=1, le=MAX_ID)]


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


def no_control_chars(value: str) -> bool:
    return not any(unicodedata.category(ch).startswith("C") for ch in value)


class Named(BaseModel):
    id: int
    name: str
