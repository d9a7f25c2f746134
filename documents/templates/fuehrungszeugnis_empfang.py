"""Empfangsbestätigung: the office received an application for a Führungszeugnis (§ 30 BZRG)."""

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
    german_date,
)
from vibue.issued.ports import BookingFacts

BIRTH_NAME = Spec("birth_name", "Geburtsname", "Name at birth", max_length=120)
KIND = Spec("kind", "Art des Führungszeugnisses", "Kind of certificate", required=True, max_length=120)
APPLIED = Spec("application_date", "Antragsdatum", "Date of application", "date", required=True, max_length=10)
FEE = Spec("fee", "Gebühr", "Fee", max_length=40)
CONTACT = Spec("contact", "Erreichbarkeit", "Contact", max_length=200)
OPTIONAL = ("birth_name", "fee", "contact", "reference", "remarks")


def _body(flow: Flow, values: Values) -> None:
    flow.paragraph(
        f"Der Antrag von {values['name']} auf Erteilung eines Führungszeugnisses ist am "
        f"{values['application_date']} eingegangen und wurde an das Bundesamt für Justiz weitergeleitet."
    )
    data_rows(flow, TEMPLATE, values, skip_empty=OPTIONAL)
    flow.paragraph(
        "Das Führungszeugnis wird vom Bundesamt für Justiz ausgestellt und in der Regel innerhalb von "
        "zwei Wochen zugestellt. Diese Empfangsbestätigung ersetzt das Führungszeugnis nicht.",
        size=9.5,
    )


def _prefill(facts: BookingFacts, day: date) -> dict[str, str]:
    contact = ", ".join(part for part in (facts.citizen_email, facts.citizen_phone) if part)
    return {**booking_prefill(facts), "application_date": german_date(day), "contact": contact}


TEMPLATE = Template(
    id="fuehrungszeugnis_empfang",
    title_de="Empfangsbestätigung: Antrag auf ein Führungszeugnis",
    title_en="Receipt: application for a certificate of good conduct",
    concerns=("fuehrungszeugnis",),
    fields=(NAME, BIRTH_NAME, BIRTH_DATE, ADDRESS, KIND, APPLIED, FEE, CONTACT, REFERENCE, REMARKS),
    body=_body,
    prefill=_prefill,
)
