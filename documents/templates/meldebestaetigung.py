"""Meldebestätigung: the confirmation of a registration at a new address (§ 24 Abs. 2 BMG)."""

from __future__ import annotations

from datetime import date

from documents.layout import Flow
from documents.templates.base import (
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

MOVE_IN = Spec("move_in_date", "Einzugsdatum", "Moving-in date", "date", required=True, max_length=10)
NEW_ADDRESS = Spec("address", "Neue Anschrift", "New address", "multiline", required=True, max_length=300, max_lines=5)
PREVIOUS = Spec("previous_address", "Bisherige Anschrift", "Previous address", "multiline", max_length=300, max_lines=5)
CO_MOVERS = Spec(
    "co_movers", "Mitziehende Personen", "People moving with you", "multiline", max_length=1000, max_lines=12
)
OPTIONAL = ("previous_address", "co_movers", "reference", "remarks")


def _body(flow: Flow, values: Values) -> None:
    flow.paragraph(
        f"Hiermit wird bestätigt, dass {values['name']} zum {values['move_in_date']} unter der unten "
        "genannten Anschrift angemeldet wurde."
    )
    data_rows(flow, TEMPLATE, values, skip_empty=OPTIONAL)
    flow.paragraph(
        "Diese Bestätigung dient dem Nachweis der Anmeldung, zum Beispiel gegenüber dem Arbeitgeber "
        "oder der Kfz-Zulassungsstelle.",
        size=9.5,
    )


def _prefill(facts: BookingFacts, day: date) -> dict[str, str]:
    return booking_prefill(facts)


TEMPLATE = Template(
    id="meldebestaetigung",
    title_de="Meldebestätigung",
    title_en="Confirmation of registration",
    concerns=("an-ummeldung",),
    fields=(NAME, BIRTH_DATE, MOVE_IN, NEW_ADDRESS, PREVIOUS, CO_MOVERS, REFERENCE, REMARKS),
    body=_body,
    prefill=_prefill,
)
