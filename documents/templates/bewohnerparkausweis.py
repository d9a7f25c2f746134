"""Bewohnerparkausweis: a residents' parking permit for one vehicle in one zone."""

from __future__ import annotations

from datetime import date

from documents.layout import Flow
from documents.templates.base import (
    ADDRESS,
    NAME,
    REFERENCE,
    REMARKS,
    Spec,
    Template,
    Values,
    a_year_from,
    booking_prefill,
    data_rows,
    german_date,
    parse_date,
)
from vibue.issued.ports import BookingFacts

PLATE = Spec("license_plate", "Amtliches Kennzeichen", "Licence plate", required=True, max_length=12)
VEHICLE = Spec("vehicle", "Fahrzeug (Marke, Typ)", "Vehicle (make, model)", max_length=80)
ZONE = Spec("zone", "Parkzone", "Parking zone", required=True, max_length=40)
FROM = Spec("valid_from", "Gültig ab", "Valid from", "date", required=True, max_length=10)
UNTIL = Spec("valid_until", "Gültig bis", "Valid until", "date", required=True, max_length=10)
OPTIONAL = ("vehicle", "reference", "remarks")


def _body(flow: Flow, values: Values) -> None:
    flow.paragraph(
        f"Das Fahrzeug mit dem Kennzeichen {values['license_plate']} darf in der Parkzone {values['zone']} "
        f"vom {values['valid_from']} bis zum {values['valid_until']} auf den für Bewohner "
        "freigegebenen Flächen parken."
    )
    data_rows(flow, TEMPLATE, values, skip_empty=OPTIONAL)
    flow.paragraph("Der Ausweis ist gut sichtbar hinter der Windschutzscheibe auszulegen.", size=9.5)


def _prefill(facts: BookingFacts, day: date) -> dict[str, str]:
    return {**booking_prefill(facts), "valid_from": german_date(day), "valid_until": german_date(a_year_from(day))}


def _check(values: Values) -> dict[str, str]:
    if parse_date(values["valid_until"]) < parse_date(values["valid_from"]):
        return {"valid_until": "field.date_order"}
    return {}


TEMPLATE = Template(
    id="bewohnerparkausweis",
    title_de="Bewohnerparkausweis",
    title_en="Residents' parking permit",
    concerns=("bewohnerparkausweis",),
    fields=(NAME, ADDRESS, PLATE, VEHICLE, ZONE, FROM, UNTIL, REFERENCE, REMARKS),
    body=_body,
    prefill=_prefill,
    check=_check,
)
