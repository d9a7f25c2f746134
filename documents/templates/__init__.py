"""The document templates, one module each, in the order the clerk's picker shows them."""

from __future__ import annotations

from collections.abc import Mapping

from documents.templates import base as _base
from documents.templates import (
    bewohnerparkausweis,
    familienpass,
    fuehrungszeugnis_empfang,
    meldebescheinigung,
    meldebestaetigung,
)
from documents.templates.base import OFFICE_ZONE, Template, office_day
from vibue.core.errors import NotFound
from vibue.issued.ports import BookingFacts, TemplateInfo

TEMPLATES: dict[str, Template] = {
    module.TEMPLATE.id: module.TEMPLATE
    for module in (
        meldebestaetigung,
        meldebescheinigung,
        fuehrungszeugnis_empfang,
        bewohnerparkausweis,
        familienpass,
    )
}


def template(template_id: str) -> Template:
    found = TEMPLATES.get(template_id)
    if found is None:
        raise NotFound("template_not_found")
    return found


def template_infos() -> tuple[TemplateInfo, ...]:
    return tuple(entry.info for entry in TEMPLATES.values())


def prefill(template_id: str, facts: BookingFacts, *, zone: str = OFFICE_ZONE) -> dict[str, str]:
    """Every field of the template, filled from the booking where it can (the rest empty)."""
    chosen = template(template_id)
    known = chosen.prefill(facts, office_day(facts.appointment_start, zone))
    return {spec.name: known.get(spec.name, "") for spec in chosen.fields}


def validate(template_id: str, fields: Mapping[str, object]) -> dict[str, str]:
    """The fields normalised (dates as TT.MM.JJJJ); Invalid("validation_failed", fields=...) when one is wrong."""
    return _base.validate(template(template_id), fields)
