"""Wire models of the video appointment's pages: pre-call, identity code, the interpreter's join,
and the connection test."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, field_validator

from vibue.core.fields import PRINTABLE_PATTERN, Strict, printable


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


SIX_DIGITS = "^ *(?:[0-9] *){6}$"  # spaces allowed, as the citizen may copy "123 456"


class VerifyIn(Strict):
    code: str = Field(json_schema_extra={"pattern": SIX_DIGITS})

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
    name: str = Field(min_length=1, max_length=120, json_schema_extra={"pattern": PRINTABLE_PATTERN})
    language: str = Field(min_length=1, max_length=60, json_schema_extra={"pattern": PRINTABLE_PATTERN})

    # Shown to the clerk and the citizen: no control or bidi-override characters (and NUL would
    # make PostgreSQL fail the insert).
    @field_validator("name", "language")
    @classmethod
    def _printable(cls, value: str) -> str:
        if not printable(value):
            raise ValueError("field.invalid")
        return value


# --- connection test ---
# The pre-call connection test (signaling/connection_test.py serves it, vibue/video/connection_tests.py
# keeps its records): the browser's WebRTC offer, the echo peer's answer, and the verdict.

MAX_SDP = 60_000
REASON = re.compile(r"[a-z][a-z0-9_]{0,63}")
# JSON numbers only: strict, so true/false or "12" are refused instead of coerced.
Number = Annotated[float, Field(strict=True, ge=0)]


class OfferIn(Strict):
    sdp: str = Field(min_length=1, max_length=MAX_SDP)
    type: Literal["offer"]


class AnswerOut(BaseModel):
    sdp: str
    type: Literal["answer"] = "answer"
    test_id: str


class ResultIn(Strict):
    test_id: str = Field(min_length=1, max_length=200)
    verdict: Literal["good", "limited", "none"]
    reason: str = Field(max_length=200, json_schema_extra={"pattern": f"^{REASON.pattern}$"})
    rtt_ms: Annotated[Number, Field(le=600_000)] | None
    loss: Annotated[Number, Field(le=1)] | None
    bitrate_kbps: Annotated[Number, Field(le=1_000_000)] | None

    @field_validator("reason")
    @classmethod
    def _code(cls, value: str) -> str:
        if not REASON.fullmatch(value):
            raise ValueError("field.reason_code")
        return value


class ServerView(BaseModel):
    rtt_ms: int | None
    loss: float | None
    packets: int


class ResultOut(BaseModel):
    verdict: str
    reason: str
    rtt_ms: int | None
    loss: float | None
    bitrate_kbps: float | None
    tested_at: datetime
    server: ServerView | None
