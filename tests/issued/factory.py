"""A small real DocumentFactory for the tests of vibue.issued, until documents.factory lands.

It really validates (Invalid with field messages, NotFound for an unknown template) and really
renders a one-page PDF with reportlab holding the fields and the facts, but it seals nothing:
the PDF is unsigned. The port's `Level` has no "unsigned", so it reports "B-B" — a label, not a
claim; no test here reads a signature. Integration point: tests/issued/conftest.py picks the
factory in one place (`make_factory`); the integrator switches it to documents.factory there.

`fail_next` makes the next issue raise SealUnavailable (the timestamp authority is down), and
`barrier` holds every issue until that many run at once (the idempotency race).
"""

from __future__ import annotations

import asyncio
import io
from datetime import date

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from vibue.core.errors import Invalid, NotFound, SealUnavailable
from vibue.issued.ports import BookingFacts, FieldInfo, IssueFacts, SealedDocument, TemplateInfo

MELDEBESTAETIGUNG = TemplateInfo(
    id="meldebestaetigung",
    title_de="Meldebestätigung",
    title_en="Confirmation of registration",
    concerns=("an-ummeldung",),
    fields=(
        FieldInfo("name", "Name", "Name", "text", True, 120),
        FieldInfo("address", "Anschrift", "Address", "multiline", True, 300),
        FieldInfo("moved_in", "Einzug am", "Moved in on", "date", True, 10),
    ),
)
FAMILIENPASS = TemplateInfo(
    id="familienpass",
    title_de="Landesfamilienpass",
    title_en="Family pass",
    concerns=("familienpass",),
    fields=(
        FieldInfo("name", "Name", "Name", "text", True, 120),
        FieldInfo("children", "Kinder", "Children", "multiline", False, 500),
    ),
)


class PlainFactory:
    def __init__(self) -> None:
        self._templates = {t.id: t for t in (FAMILIENPASS, MELDEBESTAETIGUNG)}
        self.fail_next = False
        self.barrier: asyncio.Barrier | None = None
        self.issued = 0
        self.root: bytes | None = b"-----BEGIN CERTIFICATE-----\nTEST\n-----END CERTIFICATE-----\n"

    def templates(self) -> tuple[TemplateInfo, ...]:
        return tuple(self._templates.values())

    def _template(self, template_id: str) -> TemplateInfo:
        try:
            return self._templates[template_id]
        except KeyError:
            raise NotFound("template_not_found") from None

    def prefill(self, template_id: str, facts: BookingFacts) -> dict[str, str]:
        template = self._template(template_id)
        return {f.name: facts.citizen_name if f.name == "name" else "" for f in template.fields}

    def validate(self, template_id: str, fields: dict[str, str]) -> dict[str, str]:
        template = self._template(template_id)
        known = {f.name: f for f in template.fields}
        errors = {name: "field.invalid" for name in fields if name not in known}
        clean: dict[str, str] = {}
        for name, info in known.items():
            value = fields.get(name, "").strip()
            if info.required and not value:
                errors[name] = "field.string_too_short"
            elif len(value) > info.max_length:
                errors[name] = "field.string_too_long"
            elif info.kind == "date" and value:
                try:
                    date.fromisoformat(value)
                except ValueError:
                    errors[name] = "field.invalid"
            clean[name] = value
        if errors:
            raise Invalid("validation_failed", fields=errors)
        return clean

    def _render(self, template_id: str, fields: dict[str, str], facts: IssueFacts, *, preview: bool) -> bytes:
        template = self._template(template_id)
        out = io.BytesIO()
        page = canvas.Canvas(out, pagesize=A4)
        page.setTitle(template.title_de)
        page.setAuthor(facts.office)
        y = 800.0
        lines = [facts.city, facts.office, template.title_de, *(f"{k}: {v}" for k, v in fields.items())]
        lines += [f"Prüfcode {facts.check_code}", facts.verify_url, f"Verantwortung: {facts.clerk_name}"]
        if preview:
            lines.insert(0, "VORSCHAU")
        for line in lines:
            page.drawString(72, y, line)
            y -= 18
        page.showPage()
        page.save()
        return out.getvalue()

    async def preview(self, template_id: str, fields: dict[str, str], facts: IssueFacts) -> bytes:
        return await asyncio.to_thread(self._render, template_id, fields, facts, preview=True)

    async def issue(self, template_id: str, fields: dict[str, str], facts: IssueFacts) -> SealedDocument:
        if self.barrier is not None:
            await self.barrier.wait()
        if self.fail_next:
            self.fail_next = False
            raise SealUnavailable()
        pdf = await asyncio.to_thread(self._render, template_id, fields, facts, preview=False)
        self.issued += 1
        return SealedDocument(pdf=pdf, level="B-B")

    def root_certificate(self) -> bytes | None:
        return self.root
