"""Issuing documents in the call: the clerk's templates, preview, issue, list and revoke.

Rendering and sealing take a while and must not hold a transaction open, so issuing is two
units of work around it: the first checks the appointment (the clerk serves its unit, its call
is running) and finds an earlier answer to the same idempotency key; the second stores the row
and the audit entry after the file is on disk. Two requests racing with the same key both seal,
the unique (appointment, key) lets one row in, the loser removes its file and answers with the
winner's document. A clerk of another unit learns nothing: every refusal is `*_not_found`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from vibue.core import after_commit, audit
from vibue.core.errors import Conflict, NotFound, Unavailable
from vibue.core.settings import Settings
from vibue.core.urls import public_url
from vibue.issued import check_codes, storage
from vibue.issued.ports import BookingFacts, DocumentFactory, IssueFacts, TemplateInfo
from vibue.models import Appointment, IssuedDocument, Staff
from vibue.staff import units

# The call is running: the clerk admitted the citizen and has not ended it.
ISSUING_STATUS = "in_call"


@dataclass(frozen=True)
class Issued:
    document: IssuedDocument
    created: bool  # False: the same request again, answered with the document it made


def verify_path(document_id: str) -> str:
    return f"/v/{document_id}"


def verify_url(settings: Settings, document_id: str) -> str:
    """The absolute link of the verification page with the check code after '#' (never sent to the server)."""
    code = check_codes.check_code(settings.secret_key, document_id)
    return f"{public_url(settings, verify_path(document_id))}#{code}"


def masked_holder(name: str) -> str:
    """ "Erika Mustermann" -> "E*** M***": enough to compare with the paper, not to learn the name."""
    return " ".join(f"{part[0]}***" for part in name.split())


def request_hash(template_id: str, fields: dict[str, str]) -> str:
    canonical = json.dumps({"template_id": template_id, "fields": fields}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def booking_facts(appointment: Appointment) -> BookingFacts:
    return BookingFacts(
        citizen_name=appointment.citizen_name,
        citizen_email=appointment.citizen_email,
        citizen_phone=appointment.citizen_phone,
        concern_slug=appointment.concern.slug,
        concern_name=appointment.concern.name_de,
        appointment_start=appointment.start_at,
        reference=appointment.reference,
    )


def issue_facts(*, settings: Settings, document_id: str, clerk: Staff, now: datetime) -> IssueFacts:
    return IssueFacts(
        document_id=document_id,
        check_code=check_codes.check_code(settings.secret_key, document_id),
        verify_url=verify_url(settings, document_id),
        issued_at=now,
        city=f"Stadt {settings.city_name}",
        office=settings.office_name,
        clerk_name=clerk.display_name,
        clerk_phone=clerk.phone,
        clerk_email=clerk.email,
    )


def ordered_templates(factory: DocumentFactory, concern_slug: str) -> list[tuple[TemplateInfo, bool]]:
    """Every template with whether it is suggested for the concern; suggested ones first, else in order."""
    infos = factory.templates()
    return sorted(((info, concern_slug in info.concerns) for info in infos), key=lambda pair: not pair[1])


async def clerk_appointment(
    *, session: AsyncSession, viewer: Staff, appointment_id: int, for_update: bool = False
) -> Appointment:
    """The video appointment if `viewer` serves its unit; otherwise as if it did not exist."""
    query = (
        select(Appointment)
        .options(selectinload(Appointment.concern))
        .where(Appointment.id == appointment_id, Appointment.channel == "video", units.serves(viewer))
    )
    if for_update:
        query = query.with_for_update(of=Appointment)
    appointment = await session.scalar(query)
    if appointment is None:
        raise NotFound("appointment_not_found")
    return appointment


async def clerk_document(*, session: AsyncSession, viewer: Staff, document_id: str) -> IssuedDocument:
    """The document if `viewer` serves its appointment's unit; otherwise as if it did not exist."""
    document = await session.scalar(
        select(IssuedDocument)
        .join(Appointment, Appointment.id == IssuedDocument.appointment_id)
        .where(IssuedDocument.id == document_id, units.serves(viewer))
    )
    if document is None:
        raise NotFound("document_not_found")
    return document


async def documents_of(*, session: AsyncSession, appointment_id: int) -> list[IssuedDocument]:
    """The appointment's documents, newest first."""
    rows = await session.scalars(
        select(IssuedDocument)
        .where(IssuedDocument.appointment_id == appointment_id)
        .order_by(IssuedDocument.issued_at.desc(), IssuedDocument.id)
    )
    return list(rows)


async def _by_key(session: AsyncSession, appointment_id: int, key: str) -> IssuedDocument | None:
    return await session.scalar(
        select(IssuedDocument).where(
            IssuedDocument.appointment_id == appointment_id, IssuedDocument.idempotency_key == key
        )
    )


def _same_request(document: IssuedDocument, digest: str) -> IssuedDocument:
    if document.request_hash != digest:
        raise Conflict("idempotency_conflict")
    return document


async def issue(
    *,
    sessions: async_sessionmaker[AsyncSession],
    factory: DocumentFactory | None,
    settings: Settings,
    viewer: Staff,
    appointment_id: int,
    template_id: str,
    fields: dict[str, str],
    idempotency_key: str,
    now: datetime,
) -> Issued:
    """Validate, seal, store file then row: one document per (appointment, idempotency key).

    Takes the session maker, not a session: sealing runs between two units of work (module docstring).
    """
    digest = request_hash(template_id, fields)
    async with sessions() as session:
        appointment = await clerk_appointment(session=session, viewer=viewer, appointment_id=appointment_id)
        earlier = await _by_key(session, appointment.id, idempotency_key)
        if earlier is not None:
            return Issued(_same_request(earlier, digest), created=False)
        if appointment.status != ISSUING_STATUS:
            raise Conflict("status_conflict", status=appointment.status)
        holder = masked_holder(appointment.citizen_name)
    if factory is None:  # no documents.setup in this server
        raise Unavailable("documents_unavailable")
    normalised = factory.validate(template_id, fields)
    info = next(info for info in factory.templates() if info.id == template_id)
    document_id = check_codes.new_document_id()
    facts = issue_facts(settings=settings, document_id=document_id, clerk=viewer, now=now)
    sealed = await factory.issue(template_id, normalised, facts)  # SealUnavailable: nothing written yet
    name = storage.file_name(document_id)
    await storage.write(settings.data_path, name, sealed.pdf)
    document = IssuedDocument(
        id=document_id,
        appointment_id=appointment.id,
        template_id=template_id,
        title_de=info.title_de,
        title_en=info.title_en,
        level=sealed.level,
        sha256=hashlib.sha256(sealed.pdf).hexdigest(),
        file_name=name,
        issued_by=viewer.id,
        issued_at=now,
        idempotency_key=idempotency_key,
        request_hash=digest,
        holder_masked=holder,
    )
    try:
        async with sessions.begin() as session:
            session.add(document)
            await session.flush()
            audit.record(
                session=session,
                at=now,
                actor=f"staff:{viewer.id}",
                action="document.issued",
                subject=f"appointment:{appointment.id}",
                document_id=document_id,
                template_id=template_id,
                level=sealed.level,
            )
            after_commit.changed(session, after_commit.DOCUMENTS, ("ready", document_id))
    except IntegrityError:
        # Another request with the same key got its row in first: that one is the document.
        await storage.remove(settings.data_path, [name])
        async with sessions() as session:
            winner = await _by_key(session, appointment.id, idempotency_key)
        if winner is None:
            raise
        return Issued(_same_request(winner, digest), created=False)
    return Issued(document, created=True)


async def revoke(
    *, session: AsyncSession, viewer: Staff, document_id: str, reason: str, now: datetime
) -> IssuedDocument:
    document = await clerk_document(session=session, viewer=viewer, document_id=document_id)
    locked = await session.scalar(
        select(IssuedDocument)
        .where(IssuedDocument.id == document.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert locked is not None
    if locked.revoked_at is not None:
        raise Conflict("document_revoked")
    locked.revoked_at = now
    locked.revoked_by = viewer.id
    locked.revocation_reason = reason
    # The reason may name the citizen: it stays in the row (deleted with it), not in the audit log.
    audit.record(
        session=session,
        at=now,
        actor=f"staff:{viewer.id}",
        action="document.revoked",
        subject=f"appointment:{locked.appointment_id}",
        document_id=locked.id,
    )
    after_commit.changed(session, after_commit.DOCUMENTS, ("revoked", locked.id))
    return locked
