"""Wire models of the video appointment's pages: pre-call, identity code and the interpreter's join."""

from __future__ import annotations

import re
from datetime import datetime

from pydantic import BaseModel, Field, field_validator

from vibue.core.fields import Strict, no_control_chars


class VideoOut(BaseModel):
    reference: str
    status: str
    start: datetime
    end: datetime
    opens_at: datetime
    open: bool
    concern: str
    checklist: list[str]
    code_verified: bool
    # The server's clock: the countdown runs by it, not by a device clock that may be off.
    server_time: datetime


class CodeSentOut(BaseModel):
    sent_to: str
    expires_at: datetime


class VerifyIn(Strict):
    code: str

    @field_validator("code")
    @classmethod
    def _six_digits(cls, value: str) -> str:
        value = value.replace(" ", "")
        if not re.fullmatch(r"[0-9]{6}", value):
            raise ValueError("field.six_digits")
        return value


class JoinOut(BaseModel):
    join_token: str
    expires_at: datetime


class InvitationOut(BaseModel):
    reference: str
    start: datetime
    end: datetime
    concern: str
    status: str


class InterpreterJoinIn(Strict):
    name: str = Field(min_length=1, max_length=120)
    language: str = Field(min_length=1, max_length=60)

    # Shown to the clerk and the citizen: no control or bidi-override characters (and NUL would
    # make PostgreSQL fail the insert).
    @field_validator("name", "language")
    @classmethod
    def _printable(cls, value: str) -> str:
        if not no_control_chars(value):
            raise ValueError("field.invalid")
        return value
