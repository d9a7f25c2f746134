"""Time-based one-time codes (RFC 6238, 30 s steps, 6 digits) and their enrolment QR code.

The time step a code belongs to is what makes replay protection possible: a caller stores the
last accepted step and refuses any code whose step is not newer.
"""

from __future__ import annotations

import hmac
from datetime import datetime

import pyotp
import segno

STEP_SECONDS = 30
DIGITS = 6
# Codes of the previous and the next step are accepted too: phone clocks drift, people type slowly.
VALID_WINDOW = 1


def new_secret() -> str:
    """A fresh random base32 secret (160 bits)."""
    return pyotp.random_base32(length=32)


def _totp(secret: str) -> pyotp.TOTP:
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)


def step_at(now: datetime) -> int:
    """The time step `now` falls in."""
    return int(now.timestamp()) // STEP_SECONDS


def code_at(secret: str, now: datetime, *, offset: int = 0) -> str:
    """The code for the step of `now` (shifted by `offset` steps)."""
    return _totp(secret).at(now, counter_offset=offset)


def seconds_left(now: datetime) -> int:
    """Seconds until the code of `now` is replaced by the next one."""
    return STEP_SECONDS - int(now.timestamp()) % STEP_SECONDS


def matching_step(secret: str, code: str, now: datetime, *, after: int = 0) -> int | None:
    """The newest step within the window whose code equals `code` and which is later than `after`."""
    if len(code) != DIGITS or not code.isascii() or not code.isdigit():
        return None
    current = step_at(now)
    totp = _totp(secret)
    found: int | None = None
    for offset in range(-VALID_WINDOW, VALID_WINDOW + 1):
        step = current + offset
        # Compare every candidate (constant time each) so timing does not tell which one matched.
        if hmac.compare_digest(totp.at(now, counter_offset=offset), code) and step > after:
            found = step
    return found


def provisioning_uri(secret: str, *, account: str, issuer: str) -> str:
    """The otpauth:// URI authenticator apps read from the QR code."""
    return _totp(secret).provisioning_uri(name=account, issuer_name=issuer)


def qr_svg(uri: str, *, title: str) -> str:
    """The URI as an inline SVG QR code (no external image, fits the strict CSP)."""
    svg: str = segno.make(uri, error="m").svg_inline(scale=4, border=4, title=title, dark="#000", light="#fff")
    return svg
