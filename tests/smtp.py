"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives, for tests."""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
import socket
import time
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


class _Handler:
    def __init__(self, inbox: list[EmailMessage]) -> None:
        self.inbox = inbox

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.inbox.append(message)
        return "250 Message accepted for delivery"


class MailCatcher:
    def __init__(self) -> None:
        self.inbox: list[EmailMessage] = []
        # aiosmtpd probes its port during start(), so it needs a real one: ask the OS for a free one.
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.controller = Controller(_Handler(self.inbox), hostname="127.0.0.1", port=port)

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()

    @property
    def port(self) -> int:
        return int(self.controller.port)

    def wait_for(self, to: str, count: int = 1, timeout: float = 15.0) -> list[EmailMessage]:
        """Block (in a thread-safe way) until `count` mails to `to` arrived; browser tests use this."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [m for m in self.inbox if to in str(m["To"])]
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(f"no mail to {to} within {timeout}s (inbox: {[str(m['To']) for m in self.inbox]})")

    async def receive(self, to: str, count: int = 1, seconds: float = 15.0) -> list[EmailMessage]:
        """Like wait_for, but lets the event loop run (the app's mail worker lives on it)."""
        for _ in range(int(seconds / 0.02)):
            found = [m for m in self.inbox if to in str(m["To"])]
            if len(found) >= count:
                return found
            await asyncio.sleep(0.02)
        raise AssertionError(f"no mail to {to} within {seconds}s")


def text_body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def links(message: EmailMessage) -> list[str]:
    return re.findall(r"https?://\S+", text_body(message))
