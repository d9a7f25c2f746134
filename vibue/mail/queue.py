"""The durable mail queue: mails are rows in `mail_queue`, committed with the change that caused them.

A worker sends due rows and retries failures with backoff. Rows are claimed with a compare-and-set
UPDATE, so several workers (processes) never send the same row twice. While a row is `sending`,
`next_attempt_at` holds the claim's expiry: a worker that died mid-send leaves a claim that goes
stale after CLAIM_TIMEOUT and is then picked up again (at-least-once, never lost).
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from email.message import EmailMessage

from sqlalchemy import CursorResult, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from vibue.core.clock import Clock
from vibue.mail.transports import MailRejectedError, MailTransport, recipient_of
from vibue.models import QueuedMail

log = logging.getLogger(__name__)

# Delay before attempt n+1 after n failed attempts; after the last one the row is marked failed.
BACKOFF: tuple[timedelta, ...] = (
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=10),
    timedelta(minutes=30),
    timedelta(hours=1),
    timedelta(hours=2),
    timedelta(hours=4),
)
MAX_ATTEMPTS = len(BACKOFF) + 1
CLAIM_TIMEOUT = timedelta(minutes=5)
BATCH = 50


class MailQueue:
    """Queue mails in the caller's unit of work; a worker (run / drain) delivers them."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        transport: MailTransport,
        clock: Clock,
        *,
        poll_interval: float = 1.0,
    ) -> None:
        self.sessions = sessions
        self.transport = transport
        self.clock = clock
        self.poll_interval = poll_interval
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()

    def enqueue(self, *, session: AsyncSession, message: EmailMessage) -> None:
        """Add the message to the session's unit of work; it is sent only if that commits."""
        now = self.clock.now()
        session.add(
            QueuedMail(
                recipient=recipient_of(message),
                message=message.as_bytes(policy=email.policy.SMTP),
                status="pending",
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
        )

    def wake(self) -> None:
        """Tell the worker there is new mail (call after the commit)."""
        self._wake.set()

    async def drain(self) -> int:
        """Send every row due now (including stale claims); return how many were sent."""
        now = self.clock.now()
        sent = 0
        seen: set[int] = set()
        while not self._stop.is_set():
            ids = [queue_id for queue_id in await self._due(now) if queue_id not in seen]
            if not ids:
                break
            for queue_id in ids:
                seen.add(queue_id)
                if await self._process(queue_id, now):
                    sent += 1
        return sent

    async def _due(self, now: datetime) -> Sequence[int]:
        async with self.sessions() as session:
            rows = await session.execute(
                select(QueuedMail.id)
                .where(QueuedMail.status.in_(("pending", "sending")), QueuedMail.next_attempt_at <= now)
                .order_by(QueuedMail.next_attempt_at, QueuedMail.id)
                .limit(BATCH)
            )
            return rows.scalars().all()

    async def _claim(self, queue_id: int, now: datetime) -> tuple[bytes, int] | None:
        """Compare-and-set the row to `sending`; None if another worker got there first."""
        async with self.sessions.begin() as session:
            # Write first, then read: on SQLite a read-then-write transaction can fail on a busy snapshot.
            result = await session.execute(
                update(QueuedMail)
                .where(
                    QueuedMail.id == queue_id,
                    QueuedMail.status.in_(("pending", "sending")),
                    QueuedMail.next_attempt_at <= now,
                )
                .values(status="sending", next_attempt_at=now + CLAIM_TIMEOUT)
                .execution_options(synchronize_session=False)
            )
            assert isinstance(result, CursorResult)
            if result.rowcount != 1:
                return None
            row = (
                await session.execute(select(QueuedMail.message, QueuedMail.attempts).where(QueuedMail.id == queue_id))
            ).one()
            return bytes(row.message), int(row.attempts)

    async def _process(self, queue_id: int, now: datetime) -> bool:
        claimed = await self._claim(queue_id, now)
        if claimed is None:
            return False
        data, attempts = claimed
        message = email.message_from_bytes(data, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        try:
            await self.transport.send(message)
        except Exception as exc:  # any failure is retried; the row must never be lost
            await self._failed(queue_id, attempts + 1, exc)
            return False
        # The body holds the citizen's manage link: once delivered, only the bookkeeping stays.
        await self._set(queue_id, status="sent", sent_at=self.clock.now(), attempts=attempts + 1, message=b"")
        return True

    async def _set(self, queue_id: int, **values: object) -> None:
        # Only while we hold the claim: a row reclaimed after a stale claim belongs to someone else.
        async with self.sessions.begin() as session:
            await session.execute(
                update(QueuedMail)
                .where(QueuedMail.id == queue_id, QueuedMail.status == "sending")
                .values(**values)
                .execution_options(synchronize_session=False)
            )

    async def _failed(self, queue_id: int, attempts: int, exc: Exception) -> None:
        # Only the queue id and the error's type (or SMTP code): error texts can carry the address.
        reason = type(exc).__name__
        code = getattr(exc, "code", None)
        if isinstance(code, int):
            reason = f"{reason} {code}"
        if isinstance(exc, MailRejectedError) or attempts >= MAX_ATTEMPTS:
            await self._set(queue_id, status="failed", attempts=attempts)
            log.error("mail %s failed for good after %d attempt(s): %s", queue_id, attempts, reason)
            return
        retry_at = self.clock.now() + BACKOFF[attempts - 1]
        await self._set(queue_id, status="pending", attempts=attempts, next_attempt_at=retry_at)
        log.warning(
            "mail %s attempt %d failed (%s); retrying at %s",
            queue_id,
            attempts,
            reason,
            retry_at.isoformat(timespec="seconds"),
        )

    async def run(self) -> None:
        """Send due mail until stopped: on every wake() and at least every poll_interval."""
        database_down = False
        while not self._stop.is_set():
            self._wake.clear()
            try:
                await self.drain()
            except Exception as exc:
                # Log an outage once, not every second.
                if not database_down:
                    log.exception("mail queue cannot reach the database: %s", type(exc).__name__)
                database_down = True
            else:
                if database_down:
                    log.info("mail queue reaches the database again")
                database_down = False
            if self._stop.is_set():
                break
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.poll_interval):
                    await self._wake.wait()

    def resume(self) -> None:
        """Undo stop(), so run() serves again when the app is started another time."""
        self._stop.clear()

    def stop(self) -> None:
        """Ask run() to finish after the message in flight."""
        self._stop.set()
        self._wake.set()
