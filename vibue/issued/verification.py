"""What the citizen and any third party may see of issued documents.

The citizen reaches their appointment's documents through the booking link, and only after the
identity code was accepted for that appointment. Verification answers one verdict: an unknown id
and a wrong check code run the same query and the same constant-time comparison and get the same
neutral answer.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from vibue.booking import service as booking
from vibue.core.errors import Invalid, NotFound
from vibue.issued import check_codes
from vibue.models import Appointment, CallParticipant, IssuedDocument

# A real id's code is compared with the given one; a made-up id with the code of this one, so
# both paths do the same work.
_NO_DOCUMENT = "0" * 22


@dataclass(frozen=True)
class Verdict:
    verdict: str  # "valid", "revoked" or "unverifiable"
    document: IssuedDocument | None


async def citizen_appointment(*, session: AsyncSession, token: str) -> Appointment:
    """The booking link's appointment once its citizen has entered a right identity code."""
    appointment = await booking.find(session=session, token=token)
    verified = await session.scalar(
        select(CallParticipant.code_verified_at).where(
            CallParticipant.appointment_id == appointment.id, CallParticipant.role == "citizen"
        )
    )
    if verified is None:
        raise Invalid("identity_code_missing", fields={"code": "field.code_request_first"})
    return appointment


async def citizen_document(*, session: AsyncSession, appointment: Appointment, document_id: str) -> IssuedDocument:
    document = await session.scalar(
        select(IssuedDocument).where(IssuedDocument.id == document_id, IssuedDocument.appointment_id == appointment.id)
    )
    if document is None:
        raise NotFound("document_not_found")
    return document


async def verify(*, session: AsyncSession, secret: str, document_id: str, check_code: str) -> Verdict:
    document = await session.scalar(select(IssuedDocument).where(IssuedDocument.id == document_id))
    compared_id = document.id if document is not None else _NO_DOCUMENT
    right = check_codes.matches(secret, compared_id, check_code)
    if document is None or not right:
        return Verdict("unverifiable", None)
    return Verdict("revoked" if document.revoked_at is not None else "valid", document)
