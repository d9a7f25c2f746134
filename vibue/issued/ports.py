"""What the issued-documents domain needs from whoever renders and seals the PDFs.

`documents.setup(app)` puts an implementation under `DOCUMENT_FACTORY`; vibue never imports the
`documents` package (import-linter), so this is where the two meet. Everything crossing it is
plain data: the template's id and its fields as strings, the facts printed on the page, bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from aiohttp import web

# The PAdES baseline level a sealed PDF reached (B-T needs a timestamp authority, B-LT also the
# revocation data of the chain inside the file).
Level = Literal["B-B", "B-T", "B-LT"]
FieldKind = Literal["text", "multiline", "date"]


@dataclass(frozen=True)
class FieldInfo:
    """One editable field of a template, as the clerk's form shows it."""

    name: str
    label_de: str
    label_en: str
    kind: FieldKind
    required: bool
    max_length: int


@dataclass(frozen=True)
class TemplateInfo:
    id: str  # e.g. "meldebestaetigung"
    title_de: str
    title_en: str
    # The concern slugs (vibue/seed.py) it is offered for first; every template can be chosen.
    concerns: tuple[str, ...]
    fields: tuple[FieldInfo, ...]


@dataclass(frozen=True)
class BookingFacts:
    """What a template may prefill from the appointment."""

    citizen_name: str
    citizen_email: str
    citizen_phone: str
    concern_slug: str
    concern_name: str
    appointment_start: datetime
    reference: str


@dataclass(frozen=True)
class IssueFacts:
    """Everything printed on the page that is not a template field."""

    document_id: str  # random, >= 96 bits, URL-safe: the verification page is /v/<document_id>
    check_code: str  # "Prüfcode", e.g. "7KQ4-M2XD-9P"
    verify_url: str  # absolute, with the check code after '#': what the QR code and the notice show
    issued_at: datetime  # aware; printed in the office's zone
    city: str  # "Stadt Heidelberg"
    office: str  # "Bürgeramt Virtuell"
    clerk_name: str
    clerk_phone: str
    clerk_email: str


@dataclass(frozen=True)
class SealedDocument:
    pdf: bytes
    level: Level


class DocumentFactory(Protocol):
    def templates(self) -> tuple[TemplateInfo, ...]:
        """Every template, in the order the clerk's picker shows them."""
        ...

    def prefill(self, template_id: str, facts: BookingFacts) -> dict[str, str]:
        """The template's fields filled from the booking where it can (the rest empty)."""
        ...

    def validate(self, template_id: str, fields: dict[str, str]) -> dict[str, str]:
        """The fields, normalised; raises vibue.core.errors.Invalid (fields= message keys) when
        one is wrong, NotFound("template_not_found") for an unknown template."""
        ...

    async def preview(self, template_id: str, fields: dict[str, str], facts: IssueFacts) -> bytes:
        """The page as it will be issued, unsigned and marked as a preview (a PDF)."""
        ...

    async def issue(self, template_id: str, fields: dict[str, str], facts: IssueFacts) -> SealedDocument:
        """Render and seal; never blocks the event loop. Raises DomainError("seal_unavailable")
        (503) when the timestamp authority or the key does not answer, and nothing is issued."""
        ...

    def root_certificate(self) -> bytes | None:
        """The development root CA (PEM) for the verification page's download; None in production."""
        ...


DOCUMENT_FACTORY: web.AppKey[DocumentFactory] = web.AppKey("document_factory")
