"""Demo data for `make run` and the tests: Heidelberg's virtual office, two locations, demo staff.

Only seeded into an empty database, and never in production (settings refuse seed_demo there).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time

import pyotp
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from vibue.core.audit import record
from vibue.core.settings import Settings
from vibue.models import Capacity, Closure, Concern, Location, OpeningHours, ServiceUnit, Staff
from vibue.staff.passwords import hash_password


@dataclass(frozen=True)
class DemoStaff:
    username: str
    password: str
    display_name: str
    role: str


# Shown on the /dev page (development mode only) so a newcomer can sign in without asking anyone.
DEMO_STAFF = [
    DemoStaff("s.berger", "Demo-Berger-2026", "Sabine Berger", "clerk"),
    DemoStaff("m.yilmaz", "Demo-Yilmaz-2026", "Mehmet Yılmaz", "clerk"),
    DemoStaff("l.hoffmann", "Demo-Hoffmann-2026", "Lena Hoffmann", "clerk"),
    DemoStaff("k.nguyen", "Demo-Nguyen-2026", "Khanh Nguyen", "clerk"),
    DemoStaff("j.weber", "Demo-Weber-2026", "Jonas Weber", "support"),
    DemoStaff("a.schmidt", "Demo-Schmidt-2026", "Anna Schmidt", "admin"),
]

UNITS = [
    (
        "buergeramt-virtuell",
        "Bürgeramt Virtuell",
        "Virtual Citizens' Office",
        "Ihr Anliegen per Videotermin erledigen – ohne Weg ins Amt.",
        "Handle your matter by video call – no trip to the office.",
    ),
    (
        "buergeramt-vor-ort",
        "Bürgeramt vor Ort",
        "Citizens' Office on site",
        "Persönlich in einem unserer Bürgerämter.",
        "In person at one of our citizens' offices.",
    ),
    (
        "pflegestuetzpunkt",
        "Pflegestützpunkt",
        "Care Support Centre",
        "Beratung rund um Pflege für Pflegebedürftige und Angehörige.",
        "Advice on long-term care for those in need and their families.",
    ),
    (
        "rentenstelle",
        "Rentenstelle",
        "Pension Office",
        "Hilfe bei Rentenanträgen und Kontenklärung.",
        "Help with pension applications and account clarification.",
    ),
    (
        "mobilitaet-teilhabe",
        "Mobilität und Teilhabe",
        "Mobility and Participation",
        "Parkerleichterungen und Ausweise für Menschen mit Behinderung.",
        "Parking concessions and passes for people with disabilities.",
    ),
]

ID = ("Personalausweis oder Reisepass", "Identity card or passport")
# slug, name de, name en, minutes, channels, checklist [(de, en)], units
CONCERNS = [
    (
        "an-ummeldung",
        "An- und Ummeldung innerhalb Heidelbergs",
        "Registration of address within Heidelberg",
        15,
        ["video", "on_site"],
        [
            ID,
            (
                "Wohnungsgeberbestätigung Ihrer Vermieterin oder Ihres Vermieters",
                "Landlord's confirmation of residence (Wohnungsgeberbestätigung)",
            ),
            ("Ausweise aller Personen, die mit umziehen", "Identity documents of everyone moving with you"),
        ],
        ["buergeramt-virtuell", "buergeramt-vor-ort"],
    ),
    (
        "fuehrungszeugnis",
        "Führungszeugnis",
        "Certificate of good conduct",
        10,
        ["video", "on_site"],
        [
            ID,
            ("Gebühr 13 Euro (Kartenzahlung oder Überweisung)", "Fee of 13 euros (card payment or bank transfer)"),
            (
                "Für ein erweitertes Führungszeugnis: das Aufforderungsschreiben der anfordernden Stelle",
                "For an extended certificate: the request letter of the requesting body",
            ),
        ],
        ["buergeramt-virtuell", "buergeramt-vor-ort"],
    ),
    (
        "meldebescheinigung",
        "Meldebescheinigung",
        "Certificate of registration",
        10,
        ["video", "on_site"],
        [ID],
        ["buergeramt-virtuell", "buergeramt-vor-ort"],
    ),
    (
        "bewohnerparkausweis",
        "Bewohnerparkausweis",
        "Residents' parking permit",
        15,
        ["video", "on_site"],
        [
            ID,
            ("Zulassungsbescheinigung Teil I (Fahrzeugschein)", "Vehicle registration certificate part I"),
            (
                "Bei Firmen- oder Leasingfahrzeugen: Nutzungsbestätigung",
                "For company or leased cars: confirmation of use",
            ),
        ],
        ["buergeramt-virtuell", "buergeramt-vor-ort"],
    ),
    (
        "feinstaubplakette",
        "Feinstaubplakette",
        "Low-emission sticker",
        10,
        ["video", "on_site"],
        [
            ("Zulassungsbescheinigung Teil I (Fahrzeugschein)", "Vehicle registration certificate part I"),
            ("Gebühr 5 Euro", "Fee of 5 euros"),
        ],
        ["buergeramt-virtuell", "buergeramt-vor-ort"],
    ),
    (
        "schwerbehindertenparkausweis",
        "Schwerbehindertenparkausweis",
        "Disabled parking permit",
        20,
        ["video", "on_site"],
        [
            ID,
            ("Schwerbehindertenausweis", "Severely disabled person's pass"),
            ("Feststellungsbescheid des Versorgungsamts", "Assessment notice of the pension office"),
            ("Ein aktuelles Passfoto", "A recent passport photo"),
        ],
        ["buergeramt-virtuell", "mobilitaet-teilhabe"],
    ),
    (
        "landesfamilienpass",
        "Landesfamilienpass",
        "State family pass",
        15,
        ["video", "on_site"],
        [
            ID,
            (
                "Nachweis über die Kinder (Geburtsurkunden oder Kindergeldbescheid)",
                "Proof of your children (birth certificates or child benefit notice)",
            ),
        ],
        ["buergeramt-virtuell", "buergeramt-vor-ort"],
    ),
    (
        "jugendkulturpass",
        "Jugendkulturpass",
        "Youth culture pass",
        10,
        ["video", "on_site"],
        [
            ("Personalausweis, Reisepass oder Schülerausweis", "Identity card, passport or student ID"),
            ("Ein aktuelles Passfoto", "A recent passport photo"),
        ],
        ["buergeramt-virtuell", "buergeramt-vor-ort"],
    ),
    (
        "einzahlungen",
        "Einzahlungen",
        "Payments",
        5,
        ["video", "on_site"],
        [
            ("Rechnung oder Kassenzeichen", "Invoice or payment reference"),
            ("Bankkarte für die Zahlung", "Bank card for the payment"),
        ],
        ["buergeramt-virtuell", "buergeramt-vor-ort"],
    ),
    (
        "pflegeberatung",
        "Pflegeberatung",
        "Care counselling",
        45,
        ["video", "on_site"],
        [
            ("Pflegegradbescheid, falls vorhanden", "Notice of care level, if you have one"),
            ("Liste der aktuellen Medikamente", "List of current medication"),
        ],
        ["pflegestuetzpunkt"],
    ),
    (
        "rentenantrag",
        "Rentenantrag",
        "Pension application",
        60,
        ["on_site"],
        [
            ID,
            ("Rentenversicherungsnummer", "Pension insurance number"),
            ("Bankverbindung (IBAN)", "Bank details (IBAN)"),
        ],
        ["rentenstelle"],
    ),
]

# slug, name (de, en), kind, address (de, en). The pages say "Videotermin" beside a virtual
# location's name themselves, so its name does not ("… – Videotermin (Videotermin)").
LOCATIONS = [
    (
        "bv-video",
        ("Bürgeramt Virtuell", "Virtual Citizens' Office"),
        "virtual",
        (
            "Online – Sie brauchen ein Gerät mit Kamera und Mikrofon",
            "Online – you need a device with a camera and a microphone",
        ),
    ),
    (
        "buergeramt-mitte",
        ("Bürgeramt Mitte", "Citizens' Office Mitte"),
        "physical",
        ("Bergheimer Straße 69, 69115 Heidelberg", ""),
    ),
    (
        "buergeramt-neuenheim",
        ("Bürgeramt Neuenheim", "Citizens' Office Neuenheim"),
        "physical",
        ("Lutherstraße 18, 69120 Heidelberg", ""),
    ),
]

MORNING = (time(8, 0), time(12, 0))
HOURS = {
    "bv-video": {
        0: [MORNING, (time(14, 0), time(18, 0))],
        1: [MORNING],
        2: [MORNING],
        3: [MORNING, (time(14, 0), time(18, 0))],
        4: [MORNING],
    },
    "buergeramt-mitte": {
        0: [MORNING],
        1: [MORNING],
        2: [MORNING],
        3: [MORNING, (time(14, 0), time(18, 0))],
        4: [MORNING],
    },
    "buergeramt-neuenheim": {0: [MORNING], 1: [MORNING], 2: [MORNING], 3: [(time(13, 0), time(17, 0))], 4: [MORNING]},
}

# Public holidays in Baden-Württemberg around the demo period, for every location.
CLOSURES = [
    (date(2026, 12, 24), date(2026, 12, 26), "Weihnachten"),
    (date(2026, 12, 31), date(2027, 1, 1), "Jahreswechsel"),
    (date(2027, 1, 6), date(2027, 1, 6), "Heilige Drei Könige"),
]

# username -> [(unit, location, weekdays)]. Capacity counts per unit and location, so no clerk
# serves two units or two locations at the same time.
SHIFTS: dict[str, list[tuple[str, str, Iterable[int]]]] = {
    "s.berger": [("buergeramt-virtuell", "bv-video", range(5))],
    "m.yilmaz": [("buergeramt-vor-ort", "buergeramt-mitte", (0, 1, 2, 4)), ("buergeramt-virtuell", "bv-video", (3,))],
    "a.schmidt": [("buergeramt-vor-ort", "buergeramt-neuenheim", range(5))],
    "l.hoffmann": [("pflegestuetzpunkt", "bv-video", (1, 2)), ("pflegestuetzpunkt", "buergeramt-mitte", (4,))],
    "k.nguyen": [
        ("rentenstelle", "buergeramt-mitte", (0, 2)),
        ("mobilitaet-teilhabe", "buergeramt-mitte", (1, 3)),
        ("mobilitaet-teilhabe", "bv-video", (4,)),
    ],
}


_demo_hashes: dict[str, str] = {}


async def demo_password_hash(password: str) -> str:
    """Demo passwords are public anyway; hashing each once per process keeps test set-up fast."""
    if password not in _demo_hashes:
        _demo_hashes[password] = await hash_password(password)
    return _demo_hashes[password]


async def seed_demo(*, session: AsyncSession, now: datetime, settings: Settings) -> bool:
    """Fill an empty database with the demo catalog; return False (and do nothing) otherwise."""
    if await session.scalar(select(func.count()).select_from(ServiceUnit)):
        return False
    units = {}
    for order, (slug, name_de, name_en, desc_de, desc_en) in enumerate(UNITS):
        units[slug] = ServiceUnit(
            slug=slug,
            name_de=name_de,
            name_en=name_en,
            description_de=desc_de,
            description_en=desc_en,
            sort_order=order,
        )
    for order, (slug, name_de, name_en, minutes, channels, checklist, unit_slugs) in enumerate(CONCERNS):
        session.add(
            Concern(
                slug=slug,
                name_de=name_de,
                name_en=name_en,
                duration_minutes=minutes,
                channels=channels,
                checklist_de=[de for de, _ in checklist],
                checklist_en=[en for _, en in checklist],
                sort_order=order,
                units=[units[u] for u in unit_slugs],
            )
        )
    locations = {}
    for slug, (name, name_en), kind, (address, address_en) in LOCATIONS:
        location = Location(
            slug=slug, name=name, name_en=name_en, kind=kind, address=address, address_en=address_en, booking_version=0
        )
        location.hours = [
            OpeningHours(weekday=day, opens=opens, closes=closes)
            for day, intervals in HOURS[slug].items()
            for opens, closes in intervals
        ]
        locations[slug] = location
        session.add(location)
    staff = {}
    for number, demo in enumerate(DEMO_STAFF, start=101):
        staff[demo.username] = Staff(
            username=demo.username,
            display_name=demo.display_name,
            # Printed on issued documents ("Verantwortung: …"): a demo extension and a reserved domain.
            phone=f"06221 58-{number}",
            email=f"{demo.username}@buergeramt.example",
            role=demo.role,
            password_hash=await demo_password_hash(demo.password),
            totp_secret=pyotp.random_base32(),
            totp_enrolled=True,
            created_at=now,
        )
        session.add(staff[demo.username])
    await session.flush()  # assigns the ids the closures and shifts refer to
    for location in locations.values():
        for first, last, reason in CLOSURES:
            session.add(Closure(location_id=location.id, first_day=first, last_day=last, reason=reason))
    for username, shifts in SHIFTS.items():
        for unit_slug, location_slug, weekdays in shifts:
            for day in weekdays:
                for opens, closes in HOURS[location_slug].get(day, []):
                    session.add(
                        Capacity(
                            staff_id=staff[username].id,
                            unit_id=units[unit_slug].id,
                            location_id=locations[location_slug].id,
                            weekday=day,
                            starts=opens,
                            ends=closes,
                        )
                    )
    record(session=session, at=now, actor="system", action="seed.demo", city=settings.city_name)
    return True
