"""Booking references citizens read aloud and secrets that go into their email links."""

from __future__ import annotations

import hashlib
import secrets

# No 0/O, 1/I/L: a reference is read over the phone and typed from paper.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def new_reference() -> str:
    return "VB-" + "".join(secrets.choice(ALPHABET) for _ in range(6))


def new_manage_token() -> str:
    return secrets.token_urlsafe(24)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
