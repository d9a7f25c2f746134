"""Booking mails: plain text (plus a simple HTML twin) with an .ics attachment, German by default.

The functions take plain data (BookingMailData), not ORM objects: the booking service decides
what goes into a mail, this module only decides how it reads. Texts are the mail.* keys of the
one server catalog (vibue.core.i18n, messages/mail.<lang>.json), with its German fallback.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from zoneinfo import ZoneInfo

from vibue.core.fields import ENCODED_WORD, mail_address
from vibue.core.i18n import language, translate
from vibue.mail import ics

# SEQUENCE must grow with every update of a calendar entry. The appointment has no counter, so by
# default it is the number of seconds since this epoch at the time the mail is composed.
SEQUENCE_EPOCH = datetime(2024, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, repr=False)
class BookingMailData:
    """Everything a booking mail says, as plain values."""

    reference: str
    citizen_name: str
    citizen_email: str
    concern_name: str
    location_name: str
    location_address: str
    channel: str  # "video" or "on_site"
    start: datetime
    end: datetime
    timezone: str
    checklist: Sequence[str]
    manage_url: str
    city_name: str
    mail_from: str
    confirm_url: str | None = None
    join_url: str | None = None
    reserved_until: datetime | None = None
    lang: str = "de"
    # Optional extras: where to book again (cancellation), the old time (reschedule), an explicit SEQUENCE.
    book_url: str | None = None
    previous_start: datetime | None = None
    sequence: int | None = None

    def __repr__(self) -> str:
        # Without name and address, so a logged data object does not leak personal data.
        return f"BookingMailData(reference={self.reference!r}, channel={self.channel!r}, lang={self.lang!r})"


# ---------------------------------------------------------------- formatting


def format_datetime_local(moment: datetime, timezone: str, lang: str) -> str:
    """'Montag, 30. November 2026, 09:00 Uhr' (de) or 'Monday, 30 November 2026, 09:00' (en), without the locale."""
    local = moment.astimezone(ZoneInfo(timezone))
    return translate(
        lang,
        "mail.format.datetime",
        weekday=translate(lang, f"mail.weekday.{local.isoweekday()}"),
        day=local.day,
        month=translate(lang, f"mail.month.{local.month}"),
        year=local.year,
        time=f"{local:%H:%M}",
    )


def format_time_local(moment: datetime, timezone: str, lang: str) -> str:
    """'09:15 Uhr' (de) or '09:15' (en)."""
    return translate(lang, "mail.format.time", time=f"{moment.astimezone(ZoneInfo(timezone)):%H:%M}")


def format_slot(start: datetime, end: datetime, timezone: str, lang: str) -> str:
    return translate(
        lang,
        "mail.format.slot",
        start=format_datetime_local(start, timezone, lang),
        end=format_time_local(end, timezone, lang),
    )


# ---------------------------------------------------------------- body building


@dataclass
class _Body:
    """Paragraphs of a mail, rendered once as text and once as HTML; links stand on their own line."""

    blocks: list[list[tuple[str, bool]]] = field(default_factory=list)

    def para(self, *lines: str) -> None:
        self.blocks.append([(line, False) for line in lines])

    def link(self, prompt: str, url: str) -> None:
        self.blocks.append([(prompt, False), (url, True)])

    def items(self, title: str, entries: Sequence[str]) -> None:
        if entries:
            self.blocks.append([(title, False), *((f"- {entry}", False) for entry in entries)])

    def as_text(self, footer: str) -> str:
        paragraphs = ["\n".join(line for line, _ in block) for block in self.blocks]
        # "-- " is the standard signature separator; mail clients grey out what follows.
        return "\n\n".join(paragraphs) + f"\n\n-- \n{footer}\n"

    def as_html(self, footer: str, lang: str) -> str:
        parts = []
        for block in self.blocks:
            lines = []
            for line, is_link in block:
                escaped = html.escape(line)
                lines.append(f'<a href="{escaped}">{escaped}</a>' if is_link else escaped.replace("\n", "<br>"))
            parts.append("<p>" + "<br>\n".join(lines) + "</p>")
        return (
            f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8"></head>\n'
            '<body style="font-family: sans-serif; line-height: 1.5;">\n'
            + "\n".join(parts)
            + f'\n<p style="color: #555; font-size: 0.9em;">{html.escape(footer)}</p>\n</body></html>\n'
        )


def _one_line(value: str) -> str:
    return re.sub(r"\s+", " ", value).strip()


def _header_name(value: str) -> str:
    """The display name for the To header; none at all when it holds an encoded word, which the
    header parser would decode (into a line break and a header of its own, say)."""
    name = _one_line(value)
    return "" if ENCODED_WORD.search(name) else name


def _greeting(body: _Body, data: BookingMailData, lang: str) -> None:
    name = _one_line(data.citizen_name)
    body.para(translate(lang, "mail.greeting", name=name) if name else translate(lang, "mail.greeting.anonymous"))


def _details(body: _Body, data: BookingMailData, lang: str) -> None:
    lines = [
        translate(lang, "mail.label.reference", reference=data.reference),
        translate(lang, "mail.label.concern", concern=data.concern_name),
        translate(lang, "mail.label.when", when=format_slot(data.start, data.end, data.timezone, lang)),
        translate(lang, "mail.label.channel", channel=translate(lang, f"mail.channel.{_channel(data)}")),
    ]
    if _channel(data) == "on_site":
        lines.append(translate(lang, "mail.label.location", location=_place(data)))
    body.para(*lines)


def _video(body: _Body, data: BookingMailData, lang: str) -> None:
    if _channel(data) == "video" and data.join_url:
        body.link(translate(lang, "mail.video.join"), data.join_url)
        body.para(translate(lang, "mail.video.opens"))


def _channel(data: BookingMailData) -> str:
    return "video" if data.channel == "video" else "on_site"


def _place(data: BookingMailData) -> str:
    return ", ".join(part for part in (data.location_name, data.location_address) if part)


def _closing(body: _Body, data: BookingMailData, lang: str) -> None:
    body.para(translate(lang, "mail.closing", city=data.city_name))


def _sequence(data: BookingMailData, now: datetime) -> int:
    if data.sequence is not None:
        return data.sequence
    return max(0, int((now - SEQUENCE_EPOCH).total_seconds()))


def _calendar(data: BookingMailData, lang: str, *, method: str, status: str, now: datetime) -> bytes:
    summary = translate(lang, "mail.ics.summary", concern=data.concern_name, city=data.city_name)
    if _channel(data) == "video":
        location = translate(lang, "mail.ics.video_location")
        link = data.join_url or data.manage_url
    else:
        location = _place(data)
        link = data.manage_url
    description_lines = [translate(lang, "mail.ics.reference", reference=data.reference)]
    if data.checklist and status != "CANCELLED":
        description_lines += ["", translate(lang, "mail.checklist.title"), *(f"- {item}" for item in data.checklist)]
    description_lines += ["", link]
    return ics.build_ics(
        reference=data.reference,
        method=method,
        status=status,
        sequence=_sequence(data, now),
        start=data.start,
        end=data.end,
        stamp=now,
        summary=summary,
        location=location,
        description="\n".join(description_lines),
        organizer=(translate(lang, "mail.sender.name", city=data.city_name), data.mail_from),
        attendee=(_header_name(data.citizen_name), mail_address(data.citizen_email)),
        url=data.manage_url,
        alarm=translate(lang, "mail.ics.alarm", concern=data.concern_name, city=data.city_name),
    )


def _message(
    data: BookingMailData,
    lang: str,
    *,
    subject_key: str,
    body: _Body,
    method: str | None,
    status: str = "",
    now: datetime | None,
) -> EmailMessage:
    moment = now or datetime.now(UTC)
    footer = translate(lang, "mail.footer")
    message = EmailMessage()
    message["Subject"] = translate(lang, subject_key, reference=data.reference)
    message["From"] = formataddr((translate(lang, "mail.sender.name", city=data.city_name), data.mail_from))
    message["To"] = formataddr((_header_name(data.citizen_name), mail_address(data.citizen_email)))
    message["Date"] = format_datetime(moment.astimezone(UTC))
    domain = data.mail_from.rpartition("@")[2] or "vibue.invalid"
    message["Message-ID"] = make_msgid(domain=domain)
    message["Auto-Submitted"] = "auto-generated"
    # Keeps Exchange from answering with out-of-office replies to an address nobody reads.
    message["X-Auto-Response-Suppress"] = "All"
    message.set_content(body.as_text(footer))
    message.add_alternative(body.as_html(footer, lang), subtype="html")
    if method is not None:
        calendar = _calendar(data, lang, method=method, status=status, now=moment)
        ics.attach_ics(message, calendar, method=method, reference=data.reference)
    # After the content: set_content and add_* move Content-* headers into the parts they create.
    message["Content-Language"] = lang
    return message


# ---------------------------------------------------------------- the mails


def reservation_mail(data: BookingMailData, *, now: datetime | None = None) -> EmailMessage:
    """Asks the citizen to confirm a held slot by a time, with the confirm and manage links."""
    if not data.confirm_url or data.reserved_until is None:
        raise ValueError("a reservation mail needs confirm_url and reserved_until")
    lang = language(data.lang)
    body = _Body()
    _greeting(body, data, lang)
    held_until = format_time_local(data.reserved_until, data.timezone, lang)
    body.para(translate(lang, "mail.intro.reservation", held_until=held_until))
    body.link(translate(lang, "mail.confirm.prompt"), data.confirm_url)
    _details(body, data, lang)
    _video(body, data, lang)
    body.items(translate(lang, "mail.checklist.title"), data.checklist)
    body.link(translate(lang, "mail.manage.prompt"), data.manage_url)
    body.para(translate(lang, "mail.calendar.note"))
    _closing(body, data, lang)
    return _message(
        data, lang, subject_key="mail.subject.reservation", body=body, method="REQUEST", status="TENTATIVE", now=now
    )


def confirmation_mail(data: BookingMailData, *, now: datetime | None = None) -> EmailMessage:
    """The appointment is confirmed: details, join link for video, calendar entry, manage link."""
    lang = language(data.lang)
    body = _Body()
    _greeting(body, data, lang)
    body.para(translate(lang, "mail.intro.confirmation"))
    _details(body, data, lang)
    _video(body, data, lang)
    body.items(translate(lang, "mail.checklist.title"), data.checklist)
    body.link(translate(lang, "mail.manage.prompt"), data.manage_url)
    body.para(translate(lang, "mail.calendar.note"))
    _closing(body, data, lang)
    return _message(
        data, lang, subject_key="mail.subject.confirmation", body=body, method="REQUEST", status="CONFIRMED", now=now
    )


def cancellation_mail(data: BookingMailData, *, now: datetime | None = None) -> EmailMessage:
    """The appointment is cancelled; the .ics (METHOD:CANCEL, same UID) removes the calendar entry."""
    lang = language(data.lang)
    body = _Body()
    _greeting(body, data, lang)
    body.para(translate(lang, "mail.intro.cancellation"))
    _details(body, data, lang)
    if data.book_url:
        body.link(translate(lang, "mail.rebook.prompt"), data.book_url)
    body.para(translate(lang, "mail.calendar.cancel_note"))
    _closing(body, data, lang)
    return _message(
        data, lang, subject_key="mail.subject.cancellation", body=body, method="CANCEL", status="CANCELLED", now=now
    )


def reschedule_mail(data: BookingMailData, *, now: datetime | None = None) -> EmailMessage:
    """The appointment moved to data.start; the .ics updates the entry (same UID, higher SEQUENCE)."""
    lang = language(data.lang)
    body = _Body()
    _greeting(body, data, lang)
    body.para(translate(lang, "mail.intro.reschedule"))
    _details(body, data, lang)
    if data.previous_start is not None:
        body.para(
            translate(lang, "mail.label.previous", when=format_datetime_local(data.previous_start, data.timezone, lang))
        )
    _video(body, data, lang)
    body.items(translate(lang, "mail.checklist.title"), data.checklist)
    body.link(translate(lang, "mail.manage.prompt"), data.manage_url)
    body.para(translate(lang, "mail.calendar.note"))
    _closing(body, data, lang)
    return _message(
        data, lang, subject_key="mail.subject.reschedule", body=body, method="REQUEST", status="CONFIRMED", now=now
    )


def identity_code_mail(data: BookingMailData, code: str, *, now: datetime | None = None) -> EmailMessage:
    """The one-time code for the video appointment's pre-call page; no calendar, no links."""
    lang = language(data.lang)
    body = _Body()
    _greeting(body, data, lang)
    body.para(translate(lang, "mail.intro.identity_code"))
    body.para(code)
    body.para(translate(lang, "mail.identity_code.validity"))
    body.para(translate(lang, "mail.identity_code.not_you"))
    _closing(body, data, lang)
    return _message(data, lang, subject_key="mail.subject.identity_code", body=body, method=None, now=now)
