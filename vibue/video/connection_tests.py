"""Connection-test records: the signed test id, and the browser's verdict stored for the clerk.

The verdict is kept with the appointment's citizen participant, so the clerk's waiting list
shows it; no addresses and no SDP are kept. The test id is signed, not stored, so any process
can check it. signaling/connection_test.py serves the HTTP requests and drives the echo peer.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from vibue.booking import service as booking
from vibue.core.audit import record
from vibue.core.errors import Invalid
from vibue.models import Appointment, CallParticipant
from vibue.video import identity_codes
from vibue.video.schemas import ResultIn, ResultOut, ServerView


def sign(secret: str, appointment_id: int, nonce: str) -> str:
    """The test id for `nonce`: the nonce with an HMAC binding it to the appointment."""
    mac = hmac.new(secret.encode(), f"connection-test:{appointment_id}:{nonce}".encode(), hashlib.sha256)
    return f"{nonce}.{mac.hexdigest()[:32]}"


def new_test_id(secret: str, appointment_id: int) -> str:
    """A fresh test id for one connection test of this appointment."""
    return sign(secret, appointment_id, secrets.token_urlsafe(12))


def genuine(secret: str, appointment_id: int, test_id: str) -> bool:
    """A test id this server issued for this appointment (on any process: it is signed, not stored)."""
    nonce, _, _ = test_id.partition(".")
    return hmac.compare_digest(sign(secret, appointment_id, nonce).encode(), test_id.encode())  # bytes: any input


async def joinable(*, session: AsyncSession, token: str, now: datetime) -> Appointment:
    """The video appointment behind a booking link, while its room is open for the test."""
    appointment = await booking.find(session=session, token=token)
    identity_codes.ensure_joinable(appointment, now)
    return appointment


async def tested(*, session: AsyncSession, token: str, secret: str, test_id: str, now: datetime) -> Appointment:
    """The appointment a reported test belongs to; connection_test_unknown for a foreign test id."""
    appointment = await joinable(session=session, token=token, now=now)
    if not genuine(secret, appointment.id, test_id):
        raise Invalid("connection_test_unknown", fields={"test_id": "field.test_id"})
    return appointment


async def store_result(
    *,
    session: AsyncSession,
    appointment: Appointment,
    result: ResultIn,
    server: dict[str, Any] | None,
    now: datetime,
) -> tuple[ResultOut, bool]:
    """Keep the verdict (with the echo peer's own measurement) for the clerk's waiting list.

    Returns what was stored, and whether the citizen is in the waiting room (staff should hear).
    """
    stored = ResultOut(
        verdict=result.verdict,
        reason=result.reason,
        rtt_ms=None if result.rtt_ms is None else round(result.rtt_ms),
        loss=None if result.loss is None else round(result.loss, 4),
        bitrate_kbps=None if result.bitrate_kbps is None else round(result.bitrate_kbps, 1),
        tested_at=now,
        server=ServerView(**server) if server else None,
    )
    participant = await session.scalar(
        select(CallParticipant).where(
            CallParticipant.appointment_id == appointment.id, CallParticipant.role == "citizen"
        )
    )
    if participant is None:
        # The identity-code verification later fills in code_verified_at on this same row.
        participant = CallParticipant(appointment_id=appointment.id, role="citizen", state="waiting")
        session.add(participant)
    participant.connection_test = stored.model_dump(mode="json")
    in_lobby = participant.waiting_since is not None
    record(
        session=session,
        at=now,
        actor=f"citizen:{appointment.reference}",
        action="connection_test.result",
        subject=f"appointment:{appointment.id}",
        verdict=result.verdict,
    )
    return stored, in_lobby
