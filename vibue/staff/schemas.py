"""Wire models of staff sign-in, authenticator enrolment and "who am I"."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from vibue.models import Staff


def _clean_code(value: str) -> str:
    # Authenticator apps show "123 456"; people paste it like that.
    code = value.replace(" ", "").strip()
    if code and (len(code) != 6 or not code.isascii() or not code.isdigit()):
        raise ValueError("field.code")
    return code


# What _clean_code takes, for the OpenAPI document: six digits, spaces anywhere.
SIX_DIGITS = "^ *(?:[0-9] *){6}$"


class LoginBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=60)
    password: str = Field(min_length=1, max_length=200)
    code: str = Field(
        default="",
        max_length=20,
        description='"" or the 6 digits from the authenticator app',
        json_schema_extra={"pattern": "^ *$|" + SIX_DIGITS},
    )

    _code = field_validator("code")(_clean_code)


class EnrolBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: str = Field(min_length=1, max_length=200)
    code: str = Field(min_length=1, max_length=20, json_schema_extra={"pattern": SIX_DIGITS})

    _code = field_validator("code")(_clean_code)


class StaffOut(BaseModel):
    id: int
    username: str
    display_name: str
    role: str

    @classmethod
    def of(cls, staff: Staff) -> StaffOut:
        return cls(id=staff.id, username=staff.username, display_name=staff.display_name, role=staff.role)


class EnrolmentOut(BaseModel):
    token: str = Field(description="Send back with the first code to POST /api/staff/enrol (valid 10 minutes).")
    secret: str = Field(description="Base32 secret for typing into an authenticator app.")
    otpauth_uri: str
    qr_svg: str = Field(description="The otpauth URI as an inline SVG QR code.")


class LoginResult(BaseModel):
    staff: StaffOut | None = Field(default=None, description="Set when signed in.")
    enrolment: EnrolmentOut | None = Field(default=None, description="Set when an authenticator must be set up first.")


class Me(BaseModel):
    staff: StaffOut
