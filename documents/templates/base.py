"""What every template is made of: its fields' rules, their normalisation, and its page body.

Field messages are catalog keys (vibue/core/messages/*.json), translated at the HTTP edge.
Validation is idempotent: a normalised value validates to itself, so render() can check again.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from documents import fonts
from vibue.core.errors import Invalid
from vibue.issued.ports import BookingFacts, FieldInfo, FieldKind, TemplateInfo

if TYPE_CHECKING:
    from documents.layout import Flow

OFFICE_ZONE = "Europe/Berlin"
# Dates on a document: birth dates reach far back, validity dates a little ahead.
EARLIEST = date(1900, 1, 1)
LATEST = date(2099, 12, 31)
MAX_LINES = 20
GERMAN_DATE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")
ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


@dataclass(frozen=True)
class Spec:
    """One field: what the clerk's form shows (FieldInfo) and how many lines a multiline may take."""

    name: str
    label_de: str
    label_en: str
    kind: FieldKind = "text"
    required: bool = False
    max_length: int = 120
    max_lines: int = MAX_LINES

    @property
    def info(self) -> FieldInfo:
        return FieldInfo(self.name, self.label_de, self.label_en, self.kind, self.required, self.max_length)


Values = Mapping[str, str]


@dataclass(frozen=True)
class Template:
    id: str
    title_de: str
    title_en: str
    concerns: tuple[str, ...]
    fields: tuple[Spec, ...]
    # Draws the concern's content (an intro sentence and the data rows) onto the page flow.
    body: Callable[[Flow, Values], None]
    # Values known from the booking (the office's calendar day of the appointment is passed in).
    prefill: Callable[[BookingFacts, date], dict[str, str]] = lambda facts, day: {}
    # Rules across fields ("valid until" after "valid from"): field name -> message key.
    check: Callable[[Values], dict[str, str]] = lambda values: {}
    specs: dict[str, Spec] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "specs", {spec.name: spec for spec in self.fields})

    @property
    def info(self) -> TemplateInfo:
        return TemplateInfo(
            self.id, self.title_de, self.title_en, self.concerns, tuple(spec.info for spec in self.fields)
        )

    def label(self, name: str) -> str:
        return self.specs[name].label_de


def german_date(day: date) -> str:
    return day.strftime("%d.%m.%Y")


def parse_date(text: str) -> date:
    """A date as TT.MM.JJJJ (also T.M.JJJJ) or as the browser's JJJJ-MM-TT; ValueError(message key)."""
    german, iso = GERMAN_DATE.match(text), ISO_DATE.match(text)
    if german:
        day, month, year = (int(part) for part in german.groups())
    elif iso:
        year, month, day = (int(part) for part in iso.groups())
    else:
        raise ValueError("field.date_format")
    try:
        value = date(year, month, day)
    except ValueError:
        raise ValueError("field.date_format") from None
    if not EARLIEST <= value <= LATEST:
        raise ValueError("field.date_range")
    return value


def office_day(moment: datetime, zone: str = OFFICE_ZONE) -> date:
    return moment.astimezone(ZoneInfo(zone)).date()


def a_year_from(day: date) -> date:
    """The last day of a validity of one year starting on `day`."""
    try:
        return day.replace(year=day.year + 1) - timedelta(days=1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)


def _control_character(text: str) -> bool:
    """Whether `text` holds a character a document may not carry (a line break "\\n" it may)."""
    # Control, format (bidi overrides, zero-width), surrogate, private-use and unassigned
    # characters, and the Unicode line and paragraph separators: none of them prints, and a bidi
    # override would show the text in another order than it was typed.
    return any(
        ch != "\n" and (unicodedata.category(ch)[0] == "C" or unicodedata.category(ch) in ("Zl", "Zp")) for ch in text
    )


def normalise(text: str, multiline: bool) -> str:
    """NFC, one kind of space, no run of spaces, no space at either end of a line or the text."""
    text = unicodedata.normalize("NFC", text)
    text = "".join(" " if unicodedata.category(ch) == "Zs" else ch for ch in text)
    lines = [re.sub(" {2,}", " ", line).strip() for line in text.split("\n")]
    return "\n".join(lines).strip("\n") if multiline else " ".join(lines).strip()


def check_value(spec: Spec, raw: object) -> tuple[str, str | None]:
    """The normalised value and its message key (None when it is fine)."""
    if not isinstance(raw, str):
        return "", "field.string_type"
    multiline = spec.kind == "multiline"
    # One kind of line break; a tab, or a line break pasted into a one-line field, is a space.
    text = raw.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    if not multiline:
        text = text.replace("\n", " ")
    if _control_character(text):
        return "", "field.control_character"
    text = normalise(text, multiline)
    # A glyph the font lacks would print as an empty box; right-to-left letters would print in the
    # wrong order (reportlab neither reorders nor shapes them). Either way the page would not say
    # what was typed.
    if fonts.uncovered(text) or any(unicodedata.bidirectional(ch) in ("R", "AL", "AN") for ch in text):
        return "", "field.unprintable"
    if not text:
        return "", "field.missing" if spec.required else None
    if len(text) > spec.max_length:
        return text, "field.string_too_long"
    if multiline and text.count("\n") >= spec.max_lines:
        return text, "field.too_many_lines"
    if spec.kind == "date":
        try:
            return german_date(parse_date(text)), None
        except ValueError as exc:
            return text, str(exc)
    return text, None


def validate(template: Template, fields: Mapping[str, object]) -> dict[str, str]:
    """Every field of the template, normalised; Invalid("validation_failed") naming each wrong one."""
    errors = {name: "field.extra_forbidden" for name in fields if name not in template.specs}
    values: dict[str, str] = {}
    for spec in template.fields:
        values[spec.name], error = check_value(spec, fields.get(spec.name, ""))
        if error:
            errors[spec.name] = error
    if not errors:
        errors = template.check(values)
    if errors:
        raise Invalid("validation_failed", fields=errors)
    return values


# Fields several templates share.
NAME = Spec("name", "Name, Vorname(n)", "Surname, given name(s)", required=True, max_length=120)
BIRTH_DATE = Spec("birth_date", "Geburtsdatum", "Date of birth", "date", required=True, max_length=10)
ADDRESS = Spec("address", "Anschrift", "Address", "multiline", required=True, max_length=300, max_lines=5)
REFERENCE = Spec("reference", "Vorgangsnummer", "Case reference", max_length=40)
REMARKS = Spec("remarks", "Bemerkungen", "Remarks", "multiline", max_length=1500)


def booking_prefill(facts: BookingFacts) -> dict[str, str]:
    """What every template knows from the booking: the citizen's name and the booking reference."""
    return {"name": facts.citizen_name, "reference": facts.reference}


def data_rows(flow: Flow, template: Template, values: Values, *, skip_empty: tuple[str, ...] = ()) -> None:
    """Every field as a label/value row, in the template's order; optional empty ones in `skip_empty` left out."""
    rows = [
        (spec.label_de, values[spec.name])
        for spec in template.fields
        if values[spec.name] or spec.name not in skip_empty
    ]
    flow.rows(rows)
