"""Landesfamilienpass Baden-Württemberg: free or reduced entry for families with children."""

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

CHILDREN = Spec(
    "children",
    "Kinder (Name, Geburtsdatum; eine Zeile je Kind)",
    "Children (name, date of birth; one line each)",
    "multiline",
    required=True,
    max_length=1000,
    max_lines=12,
)
UNTIL = Spec("valid_until", "Gültig bis", "Valid until", "date", required=True, max_length=10)
NUMBER = Spec("pass_number", "Passnummer", "Pass number", max_length=30)
OPTIONAL = ("pass_number", "reference", "remarks")


def _body(flow: Flow, values: Values) -> None:
    flow.paragraph(
        f"Für die Familie von {values['name']} wird der Landesfamilienpass Baden-Württemberg ausgestellt. "
        f"Er gilt bis zum {values['valid_until']}."
    )
    data_rows(flow, TEMPLATE, values, skip_empty=OPTIONAL)
    flow.paragraph(
        "Der Pass berechtigt zum freien oder ermäßigten Eintritt in die staatlichen Schlösser, Gärten und "
        "Museen des Landes. Bitte zeigen Sie ihn zusammen mit einem Ausweis vor.",
        size=9.5,
    )


def _prefill(facts: BookingFacts, day: date) -> dict[str, str]:
    return booking_prefill(facts)


TEMPLATE = Template(
    id="familienpass",
    title_de="Landesfamilienpass",
    title_en="State family pass",
    concerns=("landesfamilienpass",),
    fields=(NAME, BIRTH_DATE, ADDRESS, CHILDREN, UNTIL, NUMBER, REFERENCE, REMARKS),
    body=_body,
    prefill=_prefill,
)
