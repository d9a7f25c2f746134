"""Who is locked out of signing in, by account (or unknown name) and source.

Five failures from one source lock that source out of that account for 15 minutes; the clerk
signing in from elsewhere is not locked out by somebody else's script. Failures from every source
together lock the whole account only at ACCOUNT_FAILURES (ASVS 2.2.1's ceiling), counted in the
database for real accounts. A source is the client key of the rate limiter (an HMAC of the
address); the per-source counters live in Redis or process memory, never in the database, keyed
by a further HMAC, so neither a name nor an address is ever stored.

Names without an active account lock in exactly the same way, so "423 after five tries" does not
tell an attacker which names exist.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

from vibue.core.strikes import Strikes

SOURCE_FAILURES = 5
ACCOUNT_FAILURES = 100
LOCK = timedelta(minutes=15)


class Lockouts:
    def __init__(self, secret_key: str, strikes: Strikes) -> None:
        self._secret = secret_key.encode()
        self.strikes = strikes

    def _hash(self, text: str) -> str:
        return hmac.new(self._secret, text.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()

    @staticmethod
    def account(staff_id: int) -> str:
        return f"staff:{staff_id}"

    @staticmethod
    def unknown(username: str) -> str:
        return f"name:{username.strip().casefold()}"

    def _pair(self, subject: str, source: str) -> str:
        return "pair:" + self._hash(f"{subject}|{source}")

    def _whole(self, subject: str) -> str:
        return "whole:" + self._hash(subject)

    async def is_locked(self, subject: str, source: str, now: datetime, *, whole: bool) -> bool:
        """Locked for this source; with `whole`, also when the subject itself is locked (unknown names)."""
        if await self.strikes.is_locked(self._pair(subject, source), now):
            return True
        return whole and await self.strikes.is_locked(self._whole(subject), now)

    async def fail(self, subject: str, source: str, now: datetime, *, whole: bool) -> bool:
        """Count a failure from `source`; True when it locks the source (or, with `whole`, the subject)."""
        locks = await self.strikes.fail(self._pair(subject, source), now, limit=SOURCE_FAILURES, lock=LOCK)
        if whole:
            locks = await self.strikes.fail(self._whole(subject), now, limit=ACCOUNT_FAILURES, lock=LOCK) or locks
        return locks

    async def forget(self, subject: str, source: str) -> None:
        await self.strikes.forget(self._pair(subject, source))
