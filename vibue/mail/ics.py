"""iCalendar (.ics) attachments for booking mails, built with the icalendar package.

Every mail about one appointment carries the same UID, so calendar apps update (higher SEQUENCE)
or remove (METHOD:CANCEL) the entry they already have instead of adding a second one.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

from icalendar import Alarm, Calendar, Event, vCalAddress, vText

PRODID = "-//ViBü//Bürgeramt Virtuell//DE"
METHODS = ("REQUEST", "PUBLISH", "CANCEL")
EVENT_STATUSES = ("TENTATIVE", "CONFIRMED", "CANCELLED")


def uid_for(reference: str) -> str:
    return f"{reference}@vibue"


def _address(email_address: str, name: str, role: str | None = None) -> vCalAddress:
    address = vCalAddress(f"mailto:{email_address}")
    if name:
        address.params["CN"] = vText(name)
    if role:
        address.params["ROLE"] = vText(role)
    return address


def build_ics(
    *,
    reference: str,
    method: str,
    status: str,
    sequence: int,
    start: datetime,
    end: datetime,
    stamp: datetime,
    summary: str,
    location: str,
    description: str,
    organizer: tuple[str, str],
    attendee: tuple[str, str],
    url: str | None = None,
    alarm: str | None = None,
) -> bytes:
    """A VCALENDAR with one VEVENT (times in UTC) and, unless cancelled, a reminder a day before.

    organizer and attendee are (name, address); the attendee is marked as having accepted, so
    calendar apps add the entry without asking the citizen to reply to a no-reply address.
    """
    if method not in METHODS:
        raise ValueError(f"unknown iCalendar method {method!r}")
    if status not in EVENT_STATUSES:
        raise ValueError(f"unknown event status {status!r}")
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be aware datetimes")
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)

    event = Event()
    event.add("uid", uid_for(reference))
    event.add("dtstamp", stamp.astimezone(UTC))
    event.add("dtstart", start.astimezone(UTC))
    event.add("dtend", end.astimezone(UTC))
    event.add("sequence", sequence)
    event.add("status", status)
    event.add("summary", summary)
    event.add("location", location)
    event.add("description", description)
    event.add("transp", "OPAQUE")
    if url:
        event.add("url", url)
    organizer_name, organizer_address = organizer
    event.add("organizer", _address(organizer_address, organizer_name))
    attendee_name, attendee_address = attendee
    participant = _address(attendee_address, attendee_name, role="REQ-PARTICIPANT")
    participant.params["PARTSTAT"] = vText("DECLINED" if status == "CANCELLED" else "ACCEPTED")
    participant.params["RSVP"] = vText("FALSE")
    event.add("attendee", participant)

    if status != "CANCELLED":
        reminder = Alarm()
        reminder.add("action", "DISPLAY")
        reminder.add("description", alarm or summary)
        reminder.add("trigger", timedelta(days=-1))
        event.add_component(reminder)

    calendar.add_component(event)
    data: bytes = calendar.to_ical()
    return data


def attach_ics(message: EmailMessage, data: bytes, *, method: str, reference: str) -> None:
    """Attach as `text/calendar; method=...; charset=utf-8`, named termin-<reference>.ics."""
    message.add_attachment(
        data,
        maintype="text",
        subtype="calendar",
        filename=f"termin-{reference}.ics",
        params={"method": method, "charset": "utf-8"},
    )
