"""Issued documents over HTTP: the clerk's templates, preview, issue, list, download and revoke;
the citizen's list and download; the public verification (docs/documents.md)."""

from __future__ import annotations

from aiohttp import web

from vibue.core.db import unit_of_work
from vibue.core.errors import NotFound, Unavailable
from vibue.core.i18n import request_language, translate
from vibue.core.ratelimit import TEN_MINUTES
from vibue.core.settings import Settings
from vibue.core.urls import VIDEO_API
from vibue.issued import check_codes, service, storage, verification
from vibue.issued.ports import DOCUMENT_FACTORY, DocumentFactory
from vibue.issued.schemas import (
    CheckCodeIn,
    CitizenDocOut,
    CitizenDocumentsOut,
    DocOut,
    DocumentOut,
    DocumentsOut,
    DownloadQuery,
    FieldOut,
    FieldsIn,
    IssueIn,
    RevokeIn,
    TemplateOut,
    TemplatesOut,
    VerdictOut,
    VerifiedDocument,
)
from vibue.models import IssuedDocument
from vibue.web.appkeys import CLOCK, RATE_LIMITER, SESSIONS, SETTINGS
from vibue.web.routing import CLERK, PUBLIC, Routes, signed_in_staff

routes = Routes("documents")

DOC = f"{{document_id:{check_codes.DOCUMENT_ID_PATTERN}}}"
APPOINTMENT = "/api/clerk/appointments/{appointment_id}"
PDF = "application/pdf"
ROOT_FILE = "vibue-entwicklungs-wurzel.pem"


def _factory(request: web.Request) -> DocumentFactory:
    """The plugged-in factory (documents.setup); without one the route answers 503 documents_unavailable."""
    factory = request.app.get(DOCUMENT_FACTORY)
    if factory is None:
        raise Unavailable("documents_unavailable")
    return factory


def _appointment_id(request: web.Request) -> int:
    raw = request.match_info["appointment_id"]
    if not raw.isdigit() or len(raw) > 9:
        raise NotFound("appointment_not_found")
    return int(raw)


def _title(document: IssuedDocument, lang: str) -> str:
    return document.title_en if lang == "en" else document.title_de


def _status(document: IssuedDocument) -> str:
    return "revoked" if document.revoked_at is not None else "valid"


def _doc(settings: Settings, document: IssuedDocument, lang: str) -> DocOut:
    return DocOut(
        id=document.id,
        template_id=document.template_id,
        title=_title(document, lang),
        issued_at=document.issued_at,
        level=document.level,
        sha256=document.sha256,
        status=_status(document),
        revoked_at=document.revoked_at,
        check_code=check_codes.check_code(settings.secret_key, document.id),
        verify_url=service.verify_url(settings, document.id),
        download_url=f"/api/clerk/documents/{document.id}/pdf",
    )


def _pdf(data: bytes, document_id: str, *, attachment: bool) -> web.Response:
    disposition = "attachment" if attachment else "inline"
    return web.Response(
        body=data,
        content_type=PDF,
        headers={
            "Content-Disposition": f'{disposition}; filename="dokument-{document_id}.pdf"',
            "Cache-Control": "no-store",
        },
    )


@routes.get(
    f"{APPOINTMENT}/document-templates",
    roles=CLERK,
    summary="The document templates for an appointment, prefilled from the booking, suggested ones first",
    response=TemplatesOut,
    errors=("appointment_not_found", "documents_unavailable"),
)
async def document_templates(request: web.Request) -> TemplatesOut:
    lang = request_language(request)
    async with request.app[SESSIONS]() as session:
        appointment = await service.clerk_appointment(
            session=session, viewer=signed_in_staff(request), appointment_id=_appointment_id(request)
        )
    factory = _factory(request)
    facts = service.booking_facts(appointment)
    templates = []
    for info, suggested in service.ordered_templates(factory, appointment.concern.slug):
        values = factory.prefill(info.id, facts)
        fields = [
            FieldOut(
                name=f.name,
                label=f.label_en if lang == "en" else f.label_de,
                kind=f.kind,
                required=f.required,
                max_length=f.max_length,
                value=values.get(f.name, ""),
            )
            for f in info.fields
        ]
        title = info.title_en if lang == "en" else info.title_de
        templates.append(TemplateOut(id=info.id, title=title, suggested=suggested, fields=fields))
    return TemplatesOut(templates=templates)


@routes.post(
    f"{APPOINTMENT}/document-preview",
    roles=CLERK,
    summary="The document as it will be issued, unsigned and marked as a preview (PDF)",
    body=FieldsIn,
    produces=PDF,
    errors=("appointment_not_found", "template_not_found", "documents_unavailable"),
)
async def document_preview(request: web.Request, body: FieldsIn) -> web.Response:
    settings = request.app[SETTINGS]
    viewer = signed_in_staff(request)
    async with request.app[SESSIONS]() as session:
        await service.clerk_appointment(session=session, viewer=viewer, appointment_id=_appointment_id(request))
    factory = _factory(request)
    fields = factory.validate(body.template_id, body.fields)
    document_id = check_codes.new_document_id()
    facts = service.issue_facts(settings=settings, document_id=document_id, clerk=viewer, now=request.app[CLOCK].now())
    return _pdf(await factory.preview(body.template_id, fields, facts), "vorschau", attachment=False)


@routes.post(
    f"{APPOINTMENT}/documents",
    roles=CLERK,
    summary="Issue a sealed document in the running call (idempotent per key)",
    body=IssueIn,
    response=DocumentOut,
    status=201,
    errors=(
        "appointment_not_found",
        "template_not_found",
        "status_conflict",
        "idempotency_conflict",
        "seal_unavailable",
        "documents_unavailable",
    ),
)
async def issue_document(request: web.Request, body: IssueIn) -> web.Response:
    settings = request.app[SETTINGS]
    issued = await service.issue(
        sessions=request.app[SESSIONS],
        factory=request.app.get(DOCUMENT_FACTORY),
        settings=settings,
        viewer=signed_in_staff(request),
        appointment_id=_appointment_id(request),
        template_id=body.template_id,
        fields=body.fields,
        idempotency_key=body.idempotency_key,
        now=request.app[CLOCK].now(),
    )
    answer = DocumentOut(document=_doc(settings, issued.document, request_language(request)))
    return web.json_response(text=answer.model_dump_json(), status=201 if issued.created else 200)


@routes.get(
    f"{APPOINTMENT}/documents",
    roles=CLERK,
    summary="The documents issued for an appointment, newest first",
    response=DocumentsOut,
    errors=("appointment_not_found",),
)
async def appointment_documents(request: web.Request) -> DocumentsOut:
    settings, lang = request.app[SETTINGS], request_language(request)
    async with request.app[SESSIONS]() as session:
        appointment = await service.clerk_appointment(
            session=session, viewer=signed_in_staff(request), appointment_id=_appointment_id(request)
        )
        documents = await service.documents_of(session=session, appointment_id=appointment.id)
    return DocumentsOut(documents=[_doc(settings, d, lang) for d in documents])


@routes.get(
    f"/api/clerk/documents/{DOC}/pdf",
    roles=CLERK,
    summary="Download an issued document (PDF)",
    produces=PDF,
    errors=("document_not_found",),
)
async def clerk_pdf(request: web.Request) -> web.Response:
    async with request.app[SESSIONS]() as session:
        document = await service.clerk_document(
            session=session, viewer=signed_in_staff(request), document_id=request.match_info["document_id"]
        )
    data = await storage.read(request.app[SETTINGS].data_path, document.file_name)
    return _pdf(data, document.id, attachment=True)


@routes.post(
    f"/api/clerk/documents/{DOC}/revoke",
    roles=CLERK,
    summary="Revoke an issued document, with a reason",
    body=RevokeIn,
    response=DocumentOut,
    errors=("document_not_found", "document_revoked"),
)
async def revoke_document(request: web.Request, body: RevokeIn) -> DocumentOut:
    async with unit_of_work(request.app[SESSIONS]) as session:
        document = await service.revoke(
            session=session,
            viewer=signed_in_staff(request),
            document_id=request.match_info["document_id"],
            reason=body.reason,
            now=request.app[CLOCK].now(),
        )
    return DocumentOut(document=_doc(request.app[SETTINGS], document, request_language(request)))


@routes.get(
    f"{VIDEO_API}/documents",
    roles=PUBLIC,
    summary="The citizen's documents of this appointment (after the identity code)",
    response=CitizenDocumentsOut,
    errors=("booking_not_found", "identity_code_missing"),
)
async def citizen_documents(request: web.Request) -> CitizenDocumentsOut:
    settings, token = request.app[SETTINGS], request.match_info["token"]
    async with request.app[SESSIONS]() as session:
        appointment = await verification.citizen_appointment(session=session, token=token)
        documents = await service.documents_of(session=session, appointment_id=appointment.id)
    lang = appointment.lang
    return CitizenDocumentsOut(
        documents=[
            CitizenDocOut(
                id=d.id,
                title=_title(d, lang),
                issued_at=d.issued_at,
                level=d.level,
                status=_status(d),
                revoked_at=d.revoked_at,
                verify_url=service.verify_url(settings, d.id),
                download_url=f"/api/video/{token}/documents/{d.id}/pdf",
            )
            for d in documents
        ]
    )


@routes.get(
    f"{VIDEO_API}/documents/{DOC}/pdf",
    roles=PUBLIC,
    summary="The citizen's document (PDF), inline; ?download=1 as an attachment",
    query=DownloadQuery,
    produces=PDF,
    errors=("booking_not_found", "identity_code_missing", "document_not_found"),
)
async def citizen_pdf(request: web.Request, query: DownloadQuery) -> web.Response:
    async with request.app[SESSIONS]() as session:
        appointment = await verification.citizen_appointment(session=session, token=request.match_info["token"])
        document = await verification.citizen_document(
            session=session, appointment=appointment, document_id=request.match_info["document_id"]
        )
    data = await storage.read(request.app[SETTINGS].data_path, document.file_name)
    return _pdf(data, document.id, attachment=query.download == "1")


@routes.get(
    "/api/verify/root-certificate",
    roles=PUBLIC,
    summary="The development root certificate the seal chains to (PEM)",
    produces="application/x-pem-file",
    errors=("root_certificate_unavailable",),
)
async def root_certificate(request: web.Request) -> web.Response:
    # No factory plugged in: no development root either.
    factory = request.app.get(DOCUMENT_FACTORY)
    pem = None if factory is None else factory.root_certificate()
    if pem is None:
        raise NotFound("root_certificate_unavailable")
    return web.Response(
        body=pem,
        content_type="application/x-pem-file",
        headers={"Content-Disposition": f'attachment; filename="{ROOT_FILE}"'},
    )


@routes.post(
    f"/api/verify/{DOC}",
    roles=PUBLIC,
    summary="Check a document by its id and check code: valid, revoked or unverifiable",
    body=CheckCodeIn,
    response=VerdictOut,
    errors=("rate_limited", "limits_unavailable"),
)
async def verify_document(request: web.Request, body: CheckCodeIn) -> VerdictOut:
    settings = request.app[SETTINGS]
    limiter = request.app[RATE_LIMITER]
    document_id = request.match_info["document_id"]
    await limiter.hit(
        "document_checks", limiter.client_key(request), limit=settings.rate_limit_document_checks, window=TEN_MINUTES
    )
    await limiter.hit(
        "document_checks_per_document",
        document_id,
        limit=settings.rate_limit_document_checks_per_document,
        window=TEN_MINUTES,
    )
    lang = request_language(request)
    async with request.app[SESSIONS]() as session:
        result = await verification.verify(
            session=session, secret=settings.secret_key, document_id=document_id, check_code=body.check_code
        )
    found = result.document
    return VerdictOut(
        verdict=result.verdict,
        reason=translate(lang, f"verify.{result.verdict}"),
        document=None
        if found is None
        else VerifiedDocument(
            title=_title(found, lang),
            issued_at=found.issued_at,
            office=settings.office_name,
            level=found.level,
            holder=found.holder_masked,
            sha256=found.sha256,
            revoked_at=found.revoked_at,
        ),
    )
