"""Outgoing mail: transports, the durable queue (on SQLite and PostgreSQL), and the booking mails."""

from __future__ import annotations

import asyncio
import email
import email.policy
import logging
import socket
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiohttp import web
from icalendar import Calendar
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.smtp import MailCatcher, links, text_body
from vibue.booking import mails as compose
from vibue.booking.mails import BookingMailData
from vibue.core.clock import ManualClock
from vibue.core.db import make_engine, make_sessionmaker
from vibue.core.i18n import catalog, translate
from vibue.core.settings import Settings
from vibue.mail.queue import BACKOFF, CLAIM_TIMEOUT, MAX_ATTEMPTS, MailQueue
from vibue.mail.transports import FileOutbox, SmtpTransport, make_transport
from vibue.mail.worker import mail_worker
from vibue.models import QueuedMail
from vibue.web.appkeys import MAIL

START = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)  # 09:00 in Heidelberg
BASE = "http://127.0.0.1:8080"


def booking(**changes: object) -> BookingMailData:
    values: dict[str, object] = {
        "reference": "VB-7K3M",
        "citizen_name": "Jörg Müller",
        "citizen_email": "joerg.mueller@example.net",
        "concern_name": "Personalausweis beantragen",
        "location_name": "Bürgeramt Mitte",
        "location_address": "Marktplatz 10, 69117 Heidelberg",
        "channel": "on_site",
        "start": START,
        "end": START + timedelta(minutes=30),
        "timezone": "Europe/Berlin",
        "checklist": ["Alter Personalausweis", "Biometrisches Passfoto"],
        "confirm_url": f"{BASE}/termin/bestaetigen/tok123",
        "manage_url": f"{BASE}/termin/verwalten/tok123",
        "reserved_until": datetime(2026, 11, 30, 6, 15, tzinfo=UTC),
        "city_name": "Heidelberg",
        "mail_from": "buergeramt@example.org",
    }
    values.update(changes)
    return BookingMailData(**values)  # type: ignore[arg-type]


def simple_message(to: str, subject: str = "Hallo") -> EmailMessage:
    message = EmailMessage()
    message["From"] = "buergeramt@example.org"
    message["To"] = to
    message["Subject"] = subject
    message.set_content("Grüße aus dem Bürgeramt\n")
    return message


def calendar_of(message: EmailMessage) -> tuple[Calendar, EmailMessage]:
    parts = [part for part in message.iter_attachments() if part.get_content_type() == "text/calendar"]
    assert len(parts) == 1
    part = parts[0]
    assert isinstance(part, EmailMessage)
    data = part.get_payload(decode=True)
    assert isinstance(data, bytes)
    return Calendar.from_ical(data), part


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def wait_inbox(catcher: MailCatcher, count: int, seconds: float = 10.0) -> None:
    for _ in range(int(seconds / 0.02)):
        if len(catcher.inbox) >= count:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"expected {count} mails, got {len(catcher.inbox)}")


async def rows(sessions: async_sessionmaker[AsyncSession]) -> list[QueuedMail]:
    async with sessions() as session:
        return list((await session.scalars(select(QueuedMail).order_by(QueuedMail.id))).all())


# ---------------------------------------------------------------- transports


async def test_smtp_transport_delivers_to_a_real_server(mail_catcher: MailCatcher) -> None:
    transport = SmtpTransport("127.0.0.1", mail_catcher.port, timeout=5)
    await transport.send(simple_message("anna@example.net", "Grüße"))
    assert len(mail_catcher.inbox) == 1
    received = mail_catcher.inbox[0]
    assert str(received["Subject"]) == "Grüße"
    assert text_body(received).splitlines() == ["Grüße aus dem Bürgeramt"]


def test_make_transport_follows_the_settings(tmp_path: Path) -> None:
    outbox = make_transport(Settings(data_dir=str(tmp_path)))
    assert isinstance(outbox, FileOutbox)
    assert outbox.folder == tmp_path / "outbox"
    smtp = make_transport(Settings(data_dir=str(tmp_path), mail_transport="smtp", smtp_port=2525, smtp_timeout=3))
    assert isinstance(smtp, SmtpTransport)
    assert (smtp.port, smtp.timeout, smtp.security) == (2525, 3, "auto")


async def test_file_outbox_writes_readable_eml_files_and_lists_them_newest_first(tmp_path: Path) -> None:
    outbox = FileOutbox(tmp_path / "outbox")
    assert outbox.list_messages() == []
    await outbox.send(simple_message("erste@example.net", "Erste"))
    await outbox.send(compose.confirmation_mail(booking(), now=START - timedelta(hours=1)))

    files = sorted(p.name for p in (tmp_path / "outbox").iterdir())
    assert len(files) == 2
    assert all(name.endswith(".eml") for name in files)  # no temp files left behind
    entries = outbox.list_messages()
    assert [entry.subject for entry in entries] == ["Ihr Termin ist bestätigt (VB-7K3M)", "Erste"]
    assert "joerg.mueller@example.net" in entries[0].to
    assert entries[0].date == START - timedelta(hours=1)
    message = outbox.read_message(entries[0].name)
    assert f"{BASE}/termin/verwalten/tok123" in links(message)
    with pytest.raises(FileNotFoundError):
        outbox.read_message("../../etc/passwd")


# ---------------------------------------------------------------- the queue


async def test_enqueue_commits_with_the_unit_of_work(
    sessions: async_sessionmaker[AsyncSession], clock: ManualClock, mail_catcher: MailCatcher
) -> None:
    queue = MailQueue(sessions, SmtpTransport("127.0.0.1", mail_catcher.port), clock)

    async def failing_booking() -> None:
        async with sessions.begin() as session:
            queue.enqueue(session=session, message=simple_message("weg@example.net"))
            raise RuntimeError("the booking failed")

    with pytest.raises(RuntimeError):
        await failing_booking()
    assert await rows(sessions) == []
    assert await queue.drain() == 0
    assert mail_catcher.inbox == []


async def test_queued_mail_survives_a_restart(
    sessions: async_sessionmaker[AsyncSession], clock: ManualClock, mail_catcher: MailCatcher
) -> None:
    transport = SmtpTransport("127.0.0.1", mail_catcher.port, timeout=5)
    first = MailQueue(sessions, transport, clock)
    async with sessions.begin() as session:
        first.enqueue(session=session, message=compose.reservation_mail(booking(), now=clock.now()))
    first.wake()
    (row,) = await rows(sessions)
    assert (row.status, row.attempts, row.recipient) == ("pending", 0, "joerg.mueller@example.net")
    assert row.next_attempt_at == clock.now()

    # The process is gone before its worker ran; a new one on the same database delivers.
    second = MailQueue(sessions, transport, clock)
    assert await second.drain() == 1
    assert len(mail_catcher.inbox) == 1
    received = mail_catcher.inbox[0]
    assert str(received["Subject"]) == "Bitte bestätigen Sie Ihren Termin (VB-7K3M)"
    assert f"{BASE}/termin/bestaetigen/tok123" in links(received)
    (row,) = await rows(sessions)
    assert (row.status, row.attempts, row.sent_at) == ("sent", 1, clock.now())
    assert await second.drain() == 0
    assert len(mail_catcher.inbox) == 1


async def test_a_claim_left_by_a_crashed_worker_is_taken_over_after_the_timeout(
    sessions: async_sessionmaker[AsyncSession], clock: ManualClock, mail_catcher: MailCatcher
) -> None:
    queue = MailQueue(sessions, SmtpTransport("127.0.0.1", mail_catcher.port), clock)
    async with sessions.begin() as session:
        queue.enqueue(session=session, message=simple_message("abgestuerzt@example.net"))
    # Simulate a worker that claimed the row and died before it could mark it.
    async with sessions.begin() as session:
        await session.execute(update(QueuedMail).values(status="sending", next_attempt_at=clock.now() + CLAIM_TIMEOUT))
    assert await queue.drain() == 0
    clock.advance(seconds=CLAIM_TIMEOUT.total_seconds() - 1)
    assert await queue.drain() == 0
    clock.advance(seconds=1)
    assert await queue.drain() == 1
    assert [str(m["To"]) for m in mail_catcher.inbox] == ["abgestuerzt@example.net"]


async def test_a_failed_send_is_retried_with_backoff_and_logged_without_the_address(
    sessions: async_sessionmaker[AsyncSession],
    clock: ManualClock,
    mail_catcher: MailCatcher,
    caplog: pytest.LogCaptureFixture,
) -> None:
    queue = MailQueue(sessions, SmtpTransport("127.0.0.1", closed_port(), timeout=2), clock)
    async with sessions.begin() as session:
        queue.enqueue(session=session, message=simple_message("geduld@example.net"))
    with caplog.at_level(logging.WARNING, logger="vibue.mail.queue"):
        assert await queue.drain() == 0
    (row,) = await rows(sessions)
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.next_attempt_at == clock.now() + BACKOFF[0]
    assert row.next_attempt_at > clock.now()
    assert len(caplog.records) == 1
    assert f"mail {row.id} attempt 1 failed" in caplog.text
    assert "geduld" not in caplog.text

    # The server comes back; nothing happens before the retry is due.
    queue.transport = SmtpTransport("127.0.0.1", mail_catcher.port, timeout=5)
    assert await queue.drain() == 0
    clock.advance(seconds=BACKOFF[0].total_seconds())
    assert await queue.drain() == 1
    assert [str(m["To"]) for m in mail_catcher.inbox] == ["geduld@example.net"]
    (row,) = await rows(sessions)
    assert (row.status, row.attempts) == ("sent", 2)


async def test_a_mail_that_keeps_failing_is_given_up_after_the_last_attempt(
    sessions: async_sessionmaker[AsyncSession], clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    queue = MailQueue(sessions, SmtpTransport("127.0.0.1", closed_port(), timeout=2), clock)
    async with sessions.begin() as session:
        queue.enqueue(session=session, message=simple_message("nie@example.net"))
    with caplog.at_level(logging.WARNING, logger="vibue.mail.queue"):
        for attempt in range(1, MAX_ATTEMPTS + 1):
            assert await queue.drain() == 0
            (row,) = await rows(sessions)
            assert row.attempts == attempt
            if attempt < MAX_ATTEMPTS:
                assert row.status == "pending"
                clock.set(row.next_attempt_at)
    assert row.status == "failed"
    assert "failed for good after 8 attempt(s)" in caplog.text
    assert "nie@" not in caplog.text
    clock.advance(days=1)
    assert await queue.drain() == 0


async def test_two_workers_deliver_each_mail_exactly_once(
    db_url: str, sessions: async_sessionmaker[AsyncSession], clock: ManualClock, mail_catcher: MailCatcher
) -> None:
    class SlowSmtp(SmtpTransport):
        async def send(self, message: EmailMessage) -> None:
            await asyncio.sleep(0.01)  # widen the window in which both workers look at the same rows
            await super().send(message)

    transport = SlowSmtp("127.0.0.1", mail_catcher.port, timeout=5)
    first = MailQueue(sessions, transport, clock)
    async with sessions.begin() as session:
        for number in range(12):
            first.enqueue(session=session, message=simple_message(f"person{number}@example.net"))
    # The second worker has its own engine and pool, like a second process.
    other_engine = make_engine(db_url)
    try:
        second = MailQueue(make_sessionmaker(other_engine), transport, clock)
        counts = await asyncio.gather(first.drain(), second.drain(), first.drain())
    finally:
        await other_engine.dispose()
    assert sum(counts) == 12
    recipients = sorted(str(m["To"]) for m in mail_catcher.inbox)
    assert recipients == sorted(f"person{number}@example.net" for number in range(12))
    assert {row.status for row in await rows(sessions)} == {"sent"}


async def test_the_worker_sends_promptly_when_woken_and_stops_with_the_app(
    sessions: async_sessionmaker[AsyncSession], clock: ManualClock, mail_catcher: MailCatcher
) -> None:
    # A long poll interval: only wake() can explain a prompt delivery.
    queue = MailQueue(sessions, SmtpTransport("127.0.0.1", mail_catcher.port, timeout=5), clock, poll_interval=60)
    async with sessions.begin() as session:
        queue.enqueue(session=session, message=simple_message("vorher@example.net"))
    app = web.Application()
    app[MAIL] = queue
    lifetime = mail_worker(app)
    await anext(lifetime)
    await wait_inbox(mail_catcher, 1)  # left pending before start: picked up at once

    async with sessions.begin() as session:
        queue.enqueue(session=session, message=simple_message("nachher@example.net"))
    queue.wake()
    await wait_inbox(mail_catcher, 2, seconds=5)
    assert [str(m["To"]) for m in mail_catcher.inbox] == ["vorher@example.net", "nachher@example.net"]

    with pytest.raises(StopAsyncIteration):
        await anext(lifetime)


def test_reservation_mail_in_german() -> None:
    message = compose.reservation_mail(booking(), now=datetime(2026, 11, 30, 6, 0, tzinfo=UTC))
    assert str(message["Subject"]) == "Bitte bestätigen Sie Ihren Termin (VB-7K3M)"
    assert message["To"].addresses[0].addr_spec == "joerg.mueller@example.net"
    assert message["To"].addresses[0].display_name == "Jörg Müller"
    assert message["From"].addresses[0].addr_spec == "buergeramt@example.org"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Message-ID"].endswith("@example.org>")
    assert message["Date"].datetime == datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
    assert message["Content-Language"] == "de"

    body = text_body(message)
    assert "VB-7K3M" in body
    assert "Montag, 30. November 2026, 09:00 Uhr" in body
    assert "bis 07:15 Uhr" in body
    assert "- Alter Personalausweis\n- Biometrisches Passfoto" in body
    assert "Bürgeramt Mitte, Marktplatz 10, 69117 Heidelberg" in body
    lines = body.splitlines()
    assert f"{BASE}/termin/bestaetigen/tok123" in lines  # a line of its own
    assert f"{BASE}/termin/verwalten/tok123" in lines
    assert links(message) == [f"{BASE}/termin/bestaetigen/tok123", f"{BASE}/termin/verwalten/tok123"]
    html_part = message.get_body(preferencelist=("html",))
    assert html_part is not None
    assert f'href="{BASE}/termin/bestaetigen/tok123"' in str(html_part.get_content())

    calendar, part = calendar_of(message)
    assert part.get_filename() == "termin-VB-7K3M.ics"
    assert part.get_param("method") == "REQUEST"
    assert part.get_content_charset() == "utf-8"
    assert str(calendar["PRODID"]) == "-//ViBü//Bürgeramt Virtuell//DE"
    assert str(calendar["METHOD"]) == "REQUEST"
    (event,) = calendar.walk("VEVENT")
    assert event.decoded("DTSTART") == START
    assert event.decoded("DTEND") == START + timedelta(minutes=30)
    assert str(event["UID"]) == "VB-7K3M@vibue"
    assert str(event["SUMMARY"]) == "Personalausweis beantragen – Bürgeramt Heidelberg"
    assert str(event["LOCATION"]) == "Bürgeramt Mitte, Marktplatz 10, 69117 Heidelberg"
    assert "Biometrisches Passfoto" in str(event["DESCRIPTION"])
    assert str(event["STATUS"]) == "TENTATIVE"
    (alarm,) = event.walk("VALARM")
    assert alarm.decoded("TRIGGER") == timedelta(days=-1)


def test_video_mails_carry_the_join_link_and_no_address() -> None:
    data = booking(channel="video", join_url=f"{BASE}/video/raum-9", location_name="Bürgeramt Virtuell")
    message = compose.confirmation_mail(data)
    assert str(message["Subject"]) == "Ihr Termin ist bestätigt (VB-7K3M)"
    body = text_body(message)
    assert f"{BASE}/video/raum-9" in body.splitlines()
    assert "15 Minuten vor Beginn" in body
    assert "Marktplatz" not in body
    assert links(message) == [f"{BASE}/video/raum-9", f"{BASE}/termin/verwalten/tok123"]
    calendar, _ = calendar_of(message)
    (event,) = calendar.walk("VEVENT")
    assert str(event["LOCATION"]) == "Videotermin – Link in der E-Mail"
    assert f"{BASE}/video/raum-9" in str(event["DESCRIPTION"])
    assert str(event["STATUS"]) == "CONFIRMED"


def test_reservation_mail_in_english() -> None:
    message = compose.reservation_mail(booking(lang="en", checklist=["Old ID card"]))
    assert str(message["Subject"]) == "Please confirm your appointment (VB-7K3M)"
    assert message["Content-Language"] == "en"
    body = text_body(message)
    assert "Monday, 30 November 2026, 09:00" in body
    assert "until 07:15" in body
    assert "- Old ID card" in body
    assert "Bitte" not in body
    calendar, _ = calendar_of(message)
    (event,) = calendar.walk("VEVENT")
    assert str(event["SUMMARY"]) == "Personalausweis beantragen – Citizens' Office Heidelberg"


def test_unknown_language_falls_back_to_german() -> None:
    assert "Termin" in str(compose.confirmation_mail(booking(lang="fr"))["Subject"])


def test_cancellation_and_reschedule_update_the_same_calendar_entry() -> None:
    booked = compose.reservation_mail(booking(), now=datetime(2026, 11, 30, 6, 0, tzinfo=UTC))
    moved_to = START + timedelta(days=1, hours=2)
    moved = compose.reschedule_mail(
        booking(start=moved_to, end=moved_to + timedelta(minutes=30), previous_start=START),
        now=datetime(2026, 11, 30, 6, 5, tzinfo=UTC),
    )
    cancelled = compose.cancellation_mail(
        booking(start=moved_to, end=moved_to + timedelta(minutes=30), book_url=f"{BASE}/buchen"),
        now=datetime(2026, 11, 30, 6, 10, tzinfo=UTC),
    )
    events = [calendar_of(message)[0].walk("VEVENT")[0] for message in (booked, moved, cancelled)]
    assert {str(event["UID"]) for event in events} == {"VB-7K3M@vibue"}
    sequences = [int(event.decoded("SEQUENCE")) for event in events]
    assert sequences == sorted(sequences)
    assert len(set(sequences)) == 3

    assert str(moved["Subject"]) == "Ihr Termin wurde verschoben (VB-7K3M)"
    assert "Dienstag, 1. Dezember 2026, 11:00 Uhr" in text_body(moved)
    assert "Bisheriger Termin: Montag, 30. November 2026, 09:00 Uhr" in text_body(moved)
    assert events[1].decoded("DTSTART") == moved_to

    assert str(cancelled["Subject"]) == "Ihr Termin wurde abgesagt (VB-7K3M)"
    calendar, part = calendar_of(cancelled)
    assert part.get_param("method") == "CANCEL"
    assert str(calendar["METHOD"]) == "CANCEL"
    assert str(events[2]["STATUS"]) == "CANCELLED"
    assert events[2].walk("VALARM") == []
    assert links(cancelled) == [f"{BASE}/buchen"]


def test_explicit_sequence_wins() -> None:
    calendar, _ = calendar_of(compose.reschedule_mail(booking(sequence=3)))
    assert int(calendar.walk("VEVENT")[0].decoded("SEQUENCE")) == 3


def test_names_cannot_inject_headers() -> None:
    message = compose.confirmation_mail(booking(citizen_name="Eve\r\nBcc: victim@example.net"))
    assert message["Bcc"] is None
    assert message["To"].addresses[0].addr_spec == "joerg.mueller@example.net"


def test_encoded_words_in_names_cannot_inject_headers() -> None:
    # Names stored before the booking form refused encoded words: the mail goes out without one.
    message = compose.confirmation_mail(booking(citizen_name="=?utf-8?q?a=0D=0ABcc:x@y?="))
    data = message.as_bytes(policy=email.policy.SMTP)
    parsed = email.message_from_bytes(data, policy=email.policy.default)
    assert parsed["Bcc"] is None and b"Bcc" not in data.split(b"\r\n\r\n")[0]
    assert parsed["To"].addresses[0].addr_spec == "joerg.mueller@example.net"


def test_international_domains_go_out_in_idna_form() -> None:
    message = compose.confirmation_mail(booking(citizen_email="joerg@müller.de"))
    data = message.as_bytes(policy=email.policy.SMTP)
    assert b"To: =?utf-8?q?J=C3=B6rg_M=C3=BCller?= <joerg@xn--mller-kva.de>" in data


def test_reservation_mail_needs_its_links() -> None:
    with pytest.raises(ValueError, match="confirm_url"):
        compose.reservation_mail(booking(confirm_url=None))


def test_every_key_the_mails_use_is_in_both_catalogs(monkeypatch: pytest.MonkeyPatch) -> None:
    # Key parity and placeholders of the whole catalog are tests/core/test_i18n.py's; this checks the
    # other side: translate() answers an unknown key with the key itself, so a mistyped key in
    # mails.py would reach a citizen instead of failing. Record every key while composing each mail.
    used: set[str] = set()

    def recording(lang: str | None, key: str, **params: object) -> str:
        used.add(key)
        return translate(lang, key, **params)

    monkeypatch.setattr(compose, "translate", recording)
    for lang in ("de", "en"):
        on_site = booking(lang=lang, previous_start=START - timedelta(days=1), book_url=f"{BASE}/buchen")
        video = booking(lang=lang, channel="video", join_url=f"{BASE}/video/raum-9", citizen_name=" ")
        for data in (on_site, video):
            compose.reservation_mail(data)
            compose.confirmation_mail(data)
            compose.cancellation_mail(data)
            compose.reschedule_mail(data)
            compose.identity_code_mail(data, "123456")
    assert len(used) > 40
    for lang in ("de", "en"):
        assert sorted(used - catalog(lang).keys()) == [], lang


def test_a_mail_text_missing_in_english_reads_german(monkeypatch: pytest.MonkeyPatch) -> None:
    # One fallback rule for every text: the old mail catalog raised KeyError here and the mail
    # (and with it the booking request) failed; now the German text stands in for the missing one.
    monkeypatch.delitem(catalog("en"), "mail.intro.confirmation")
    message = compose.confirmation_mail(booking(lang="en"))
    assert str(message["Subject"]) == "Your appointment is confirmed (VB-7K3M)"
    body = text_body(message)
    assert "Ihr Termin ist bestätigt. Wir freuen uns auf Sie." in body.splitlines()
    assert "Booking reference: VB-7K3M" in body.splitlines()


async def test_file_outbox_purge_removes_only_old_files(tmp_path: Path) -> None:
    outbox = FileOutbox(tmp_path / "outbox")
    (tmp_path / "outbox").mkdir()
    old = tmp_path / "outbox" / "20261101T080000.000000Z-0123456789ab.eml"
    new = tmp_path / "outbox" / "20261129T080000.000000Z-0123456789ab.eml"
    unrelated = tmp_path / "outbox" / "notes.txt"
    for path in (old, new, unrelated):
        path.write_bytes(b"x")
    assert outbox.purge(before=datetime(2026, 11, 23, tzinfo=UTC)) == 1
    assert not old.exists() and new.exists() and unrelated.exists()
