"""Facts and valid fields for every template, with umlauts and ß where a citizen's data has them."""

from __future__ import annotations

from datetime import UTC, datetime

from vibue.issued.ports import BookingFacts, IssueFacts

DOCUMENT_ID = "Ab3dEf5gHi7jKl9mNo1pQr"
CHECK_CODE = "7KQ4-M2XD-9P"
VERIFY_URL = f"https://buergeramt.example.org/v/{DOCUMENT_ID}#{CHECK_CODE}"
# 23:30 UTC on 4 December is 5 December in the office's zone (Europe/Berlin).
ISSUED_AT = datetime(2026, 12, 4, 23, 30, tzinfo=UTC)
FACTS = IssueFacts(
    document_id=DOCUMENT_ID,
    check_code=CHECK_CODE,
    verify_url=VERIFY_URL,
    issued_at=ISSUED_AT,
    city="Stadt Heidelberg",
    office="Bürgeramt Virtuell",
    clerk_name="Jörg Weiß",
    clerk_phone="+49 6221 58-12345",
    clerk_email="joerg.weiss@heidelberg.example",
)
BOOKING = BookingFacts(
    citizen_name="Özlem Großmann",
    citizen_email="oezlem@example.org",
    citizen_phone="+49 170 1234567",
    concern_slug="fuehrungszeugnis",
    concern_name="Führungszeugnis",
    appointment_start=datetime(2026, 12, 4, 23, 15, tzinfo=UTC),
    reference="VB-7K2M-QX",
)
ADDRESS = "Hauptstraße 120\n69117 Heidelberg"
FIELDS: dict[str, dict[str, str]] = {
    "meldebestaetigung": {
        "name": "Großmann, Özlem",
        "birth_date": "1.2.1980",
        "move_in_date": "2026-11-30",
        "address": ADDRESS,
        "previous_address": "Königstraße 5\n70173 Stuttgart",
        "co_movers": "Großmann, Ümit (03.04.2015)",
    },
    "meldebescheinigung": {
        "name": "Großmann, Özlem",
        "birth_date": "01.02.1980",
        "birth_place": "Köln",
        "address": ADDRESS,
        "nationality": "deutsch",
    },
    "fuehrungszeugnis_empfang": {
        "name": "Großmann, Özlem",
        "birth_date": "01.02.1980",
        "address": ADDRESS,
        "kind": "Privatführungszeugnis (Belegart N)",
        "application_date": "05.12.2026",
        "fee": "13,00 €",
    },
    "bewohnerparkausweis": {
        "name": "Großmann, Özlem",
        "address": ADDRESS,
        "license_plate": "HD-ÖG 123",
        "zone": "Weststadt (W2)",
        "valid_from": "05.12.2026",
        "valid_until": "04.12.2027",
    },
    "familienpass": {
        "name": "Großmann, Özlem",
        "birth_date": "01.02.1980",
        "address": ADDRESS,
        "children": "Großmann, Ümit, 03.04.2015\nGroßmann, Jürgen, 17.09.2018",
        "valid_until": "31.12.2027",
    },
}
