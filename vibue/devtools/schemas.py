"""Wire models of the /dev page's helpers (development mode only)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class DemoAccount(BaseModel):
    username: str
    password: str
    role: str
    display_name: str
    totp_enrolled: bool
    totp_code: str
    seconds_left: int


class AccountsOut(BaseModel):
    accounts: list[DemoAccount]


class OutboxMessage(BaseModel):
    file: str = Field(description="File name in the outbox folder.")
    to: str
    subject: str
    date: datetime | None
    size: int
    text: str


class OutboxOut(BaseModel):
    folder: str
    messages: list[OutboxMessage]


class DemoCallOut(BaseModel):
    reference: str
    video_url: str
    manage_url: str
    start: datetime
