"""Field types shared by the wire models of every domain. Validation messages are catalog keys."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from typing import Annotated

import idna
from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, WithJsonSchema

# Local part: RFC 5322 atext and dots only, so no comma, quote, angle bracket or space can smuggle a
# second recipient or a header into the mail. Domain: letters (also umlauts), digits and hyphens.
EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@(?:[^\W_](?:(?:[^\W_]|-){0,61}[^\W_])?\.)+[^\W\d_]{2,63}$")
# EMAIL for the OpenAPI document (ECMA-262: Python's [^\W_] is letters and digits of any script).
EMAIL_PATTERN = (
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@(?:[\p{L}\p{N}](?:(?:[\p{L}\p{N}]|-){0,61}[\p{L}\p{N}])?\.)+\p{L}{2,63}$"
)
# An RFC 2047 encoded word ("=?utf-8?q?...?="): mail readers decode it, so in a name it could hide
# a line break and a header of its own.
ENCODED_WORD = re.compile(r"=\?[^?]*\?[bBqQ]\?[^?]*\?=")
# Dates outside this range are never bookable; refusing them here keeps arithmetic from overflowing.
EARLIEST = date(2000, 1, 1)
LATEST = date(2099, 12, 31)
PHONE = re.compile(r"^\+?[0-9 ()/.-]{5,40}$")
# PHONE and its five digits, or nothing, for the OpenAPI document.
PHONE_PATTERN = r"^$|^(?=(?:[^0-9]*[0-9]){5})\+?[0-9 ()/.\-]{5,40}$"
# Row ids are 32-bit on both databases; larger numbers are refused before any query.
MAX_ID = 2**31 - 1
RowId = Annotated[int, Field(ge=1, le=MAX_ID)]


def _bounded_day(value: date) -> date:
    if not EARLIEST <= value <= LATEST:
        raise ValueError("field.date_range")
    return value


def _bounded_moment(value: datetime) -> datetime:
    # The date as written, before any conversion: years 2000-2099 cannot overflow in any zone.
    _bounded_day(value.date())
    return value


# The OpenAPI document states the range as the year's first two digits (tests/web/test_openapi_schemathesis.py).
IN_RANGE = "^20[0-9]{2}-"
Day = Annotated[
    date, AfterValidator(_bounded_day), WithJsonSchema({"type": "string", "format": "date", "pattern": IN_RANGE})
]
Moment = Annotated[
    AwareDatetime,
    AfterValidator(_bounded_moment),
    WithJsonSchema({"type": "string", "format": "date-time", "pattern": IN_RANGE}),
]


def mail_address(address: str) -> str:
    """The address as SMTP carries it: an internationalised domain in its IDNA 2008 (xn--) form.

    ASCII domains pass unchanged. ValueError("field.email") when the domain is no valid IDN.
    """
    local, _, domain = address.rpartition("@")
    if domain.isascii():
        return address
    try:
        return f"{local}@{idna.encode(domain, uts46=True).decode('ascii')}"
    except idna.IDNAError:
        raise ValueError("field.email") from None


def storable(text: str) -> bool:
    """Whether any database can store `text`: PostgreSQL refuses NUL, and a lone surrogate (JSON
    allows "\\ud800") has no UTF-8 form."""
    return "\x00" not in text and not any("\ud800" <= ch <= "\udfff" for ch in text)


def plain_name(value: str) -> bool:
    """A name fit for a mail header (NAME_PATTERN): printable, and no "=?" to start an encoded word."""
    return printable(value) and "=?" not in value


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def no_control_chars(value: str) -> bool:
    return not any(unicodedata.category(ch).startswith("C") for ch in value)


# Text a person types (a name, a language): letters, marks, digits, punctuation, symbols and spaces,
# at least one of them not a space; so no control, format (bidi), private-use or unassigned
# character and no line break. PRINTABLE_PATTERN says the same in the OpenAPI document (ECMA-262).
_SPACES = " \u00a0\u1680\u2000-\u200a\u202f\u205f\u3000"
_VISIBLE = r"\p{L}\p{M}\p{N}\p{P}\p{S}"
PRINTABLE_PATTERN = f"^[{_SPACES}]*[{_VISIBLE}][{_VISIBLE}{_SPACES}]*$"
# A name also goes into a mail header: no "=?", which starts an RFC 2047 encoded word.
NAME_PATTERN = "^(?!.*=\\?)" + PRINTABLE_PATTERN[1:]


def printable(value: str) -> bool:
    """Matches PRINTABLE_PATTERN."""
    categories = [unicodedata.category(ch) for ch in value]
    return any(c[0] in "LMNPS" for c in categories) and all(c[0] in "LMNPS" or c == "Zs" for c in categories)


class Named(BaseModel):
    id: int
    name: str
