"""Meldebescheinigung: a certificate of the current registration (einfache Meldebescheinigung, § 18 BMG)."""

from __future__ import annotations

from datetime import date

from documents.layout import Flow
from documents.templates.base import (
    ADDRESS,
    BIRTH_DATE,
    NAME,
    REFERENCE,
    REMARKS,
    Spec,
    Template,
    Values,
    booking_prefill,
    data_rows,
)
from vibue.issued.ports import BookingFacts

BIRTH_PLACE = Spec("birth_place", "Geburtsort", "Place of birth", max_length=80)
SINCE = Spec("registered_since", "Gemeldet seit", "Registered since", "date", max_length=10)
NATIONALITY = Spec("nationality", "Staatsangehörigkeit(en)", "Nationality", max_length=80)
PURPOSE = Spec("purpose", "Verwendungszweck", "Purpose", max_length=200)
OPTIONAL = ("birth_place", "registered_since", "nationality", "purpose", "reference", "remarks")


def _body(flow: Flow, values: Values) -> None:
    flow.paragraph("Nach den Eintragungen im Melderegister ist die folgende Person mit Hauptwohnung gemeldet:")
    data_rows(flow, TEMPLATE, values, skip_empty=OPTIONAL)
    flow.paragraph("Diese Bescheinigung gibt den Stand des Melderegisters am Ausstellungsdatum wieder.", size=9.5)


def _prefill(facts: BookingFacts, day: date) -> dict[str, str]:
    return booking_prefill(facts)


TEMPLATE = Template(
    id="meldebescheinigung",
    title_de="Meldebescheinigung",
    title_en="Certificate of registration",
    concerns=("meldebescheinigung",),
    fields=(NAME, BIRTH_DATE, BIRTH_PLACE, ADDRESS, SINCE, NATIONALITY, PURPOSE, REFERENCE, REMARKS),
    body=_body,
    prefill=_prefill,
)
