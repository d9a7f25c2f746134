"""Typed payloads of every client event (docs/signaling.md), parsed before any logic runs."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from vibue.core.fields import RowId

MAX_EVENT_BYTES = 64 * 1024


class Payload(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Empty(Payload):
    pass


class RoomJoin(Payload):
    appointment_id: RowId


class Admit(Payload):
    appointment_id: RowId


class Deny(Payload):
    appointment_id: RowId
    reason: Literal["wrong_person", "too_early", "other"] = "other"


class Description(Payload):
    type: Literal["offer", "answer", "rollback"]
    sdp: str = Field(default="", max_length=60_000)


class Candidate(Payload):
    candidate: str = Field(max_length=2_000)
    sdpMid: str | None = Field(default=None, max_length=64)  # noqa: N815 (the browser's name)
    sdpMLineIndex: int | None = Field(default=None, ge=0, le=64)  # noqa: N815
    usernameFragment: str | None = Field(default=None, max_length=256)  # noqa: N815


class Signal(Payload):
    to: RowId
    description: Description | None = None
    candidate: Candidate | None = None
    restart: bool = False

    @model_validator(mode="after")
    def _exactly_one(self) -> Signal:
        kinds = [self.description is not None, self.candidate is not None, self.restart]
        if sum(kinds) != 1:
            raise ValueError("a signal carries exactly one of description, candidate or restart")
        return self


class ChatSend(Payload):
    text: str = Field(min_length=1, max_length=1_000)


class IdentityConfirm(Payload):
    document: Literal["personalausweis", "reisepass", "aufenthaltstitel", "ankunftsnachweis", "other"]


class CallEnd(Payload):
    outcome: Literal["completed", "no_show", "on_site_needed"]
