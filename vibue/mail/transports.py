"""Mail transports: a file outbox for development and an SMTP client for production.

Both take a finished EmailMessage; retries and durability are the queue's job (vibue.mail.queue).
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import os
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import getaddresses, parsedate_to_datetime
from pathlib import Path
from typing import Protocol

import aiosmtplib

from vibue.core.settings import Settings


def recipient_of(message: EmailMessage) -> str:
    """The first To address (addr-spec only) of a message."""
    addresses = [addr for _name, addr in getaddresses([str(value) for value in message.get_all("To", [])]) if addr]
    if not addresses:
        raise ValueError("message has no To address")
    return addresses[0]


class MailTransport(Protocol):
    async def send(self, message: EmailMessage) -> None:
        """Hand the message on; raise if it was not accepted."""
        ...


class MailRejectedError(Exception):
    """The server refused the message for good (5xx for every recipient); retrying will not help."""

    def __init__(self, code: int) -> None:
        super().__init__(f"rejected with SMTP {code}")
        self.code = code


@dataclass(frozen=True)
class OutboxEntry:
    """What the /dev outbox page shows for one message."""

    name: str
    to: str
    subject: str
    date: datetime | None
    size: int


_OUTBOX_NAME = re.compile(r"^\d{8}T\d{6}\.\d{6}Z-[0-9a-f]{12}\.eml$")


class FileOutbox:
    """Writes each message as `<timestamp>-<id>.eml` into a folder, atomically (temp file + rename)."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    async def send(self, message: EmailMessage) -> None:
        data = message.as_bytes(policy=email.policy.default)
        await asyncio.to_thread(self._write, data)

    def _write(self, data: bytes) -> str:
        self.folder.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
        name = f"{stamp}-{uuid.uuid4().hex[:12]}.eml"
        # A dot-file in the same folder, so the rename is atomic and readers never see half a message.
        temp = self.folder / f".{name}.tmp"
        with open(temp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, self.folder / name)
        return name

    def list_messages(self, limit: int = 200) -> list[OutboxEntry]:
        """Metadata of the newest `limit` messages, newest first."""
        if not self.folder.is_dir():
            return []
        names = sorted((p.name for p in self.folder.iterdir() if _OUTBOX_NAME.match(p.name)), reverse=True)
        entries = []
        for name in names[:limit]:
            path = self.folder / name
            try:
                raw = path.read_bytes()
            except FileNotFoundError:  # removed by someone cleaning the outbox meanwhile
                continue
            headers = email.message_from_bytes(raw, policy=email.policy.default)
            try:
                date = parsedate_to_datetime(str(headers["Date"])) if headers["Date"] else None
            except (TypeError, ValueError):
                date = None
            entries.append(
                OutboxEntry(
                    name=name,
                    to=str(headers["To"] or ""),
                    subject=str(headers["Subject"] or ""),
                    date=date,
                    size=len(raw),
                )
            )
        return entries

    def purge(self, *, before: datetime) -> int:
        """Delete outbox files written before `before` (they hold addresses and booking links)."""
        stamp = before.astimezone(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
        if not self.folder.is_dir():
            return 0
        old = [p for p in self.folder.iterdir() if _OUTBOX_NAME.match(p.name) and p.name < stamp]
        for path in old:
            path.unlink(missing_ok=True)
        return len(old)

    def read_message(self, name: str) -> EmailMessage:
        """One message by its file name; only names this outbox writes are accepted."""
        if not _OUTBOX_NAME.match(name):
            raise FileNotFoundError(name)
        raw = (self.folder / name).read_bytes()
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        return message


class SmtpTransport:
    """Delivers through an SMTP server with aiosmtplib, one connection per message."""

    def __init__(
        self,
        host: str,
        port: int,
        username: str = "",
        password: str = "",
        security: str = "auto",
        timeout: float = 10.0,
    ) -> None:
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.security = security
        self.timeout = timeout

    async def send(self, message: EmailMessage) -> None:
        try:
            await aiosmtplib.send(
                message,
                # Exactly the one address the queue recorded, whatever the headers say.
                recipients=[recipient_of(message)],
                hostname=self.host,
                port=self.port,
                username=self.username or None,
                password=self.password or None,
                use_tls=self.security == "tls",
                # None: STARTTLS whenever the server offers it; True: refuse a server without it.
                start_tls={"auto": None, "starttls": True}.get(self.security, False),
                timeout=self.timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [refused.code for refused in exc.recipients]
            if codes and all(code >= 500 for code in codes):
                raise MailRejectedError(codes[0]) from None
            raise


def make_transport(settings: Settings) -> MailTransport:
    """The transport the settings ask for: the outbox folder in the data dir, or SMTP."""
    if settings.mail_transport == "smtp":
        return SmtpTransport(
            settings.smtp_host,
            settings.smtp_port,
            username=settings.smtp_username,
            password=settings.smtp_password,
            security=settings.smtp_security,
            timeout=settings.smtp_timeout,
        )
    return FileOutbox(settings.data_path / "outbox")
