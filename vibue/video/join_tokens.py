"""The credential a verified citizen's browser presents to the signaling server.

A compact HMAC-signed token (no server state to look up): which appointment, which participant,
which role, until when. Signed with the app's secret key; tampering or expiry makes it worthless.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True)
class JoinClaims:
    appointment_id: int
    participant_id: int
    role: str
    expires_at: datetime


class TokenError(ValueError):
    """Not a valid join token; `code` is "unauthorized" or "token_expired"."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(secret: str, payload: str) -> str:
    return _b64(hmac.new(secret.encode(), b"vibue-join:" + payload.encode(), hashlib.sha256).digest())


def issue(secret: str, claims: JoinClaims) -> str:
    body = {
        "a": claims.appointment_id,
        "p": claims.participant_id,
        "r": claims.role,
        "e": int(claims.expires_at.timestamp()),
    }
    payload = _b64(json.dumps(body, separators=(",", ":")).encode())
    return f"{payload}.{_sign(secret, payload)}"


def verify(secret: str, token: object, now: datetime) -> JoinClaims:
    if not isinstance(token, str) or len(token) > 512 or token.count(".") != 1:
        raise TokenError("unauthorized")
    payload, signature = token.split(".")
    # Bytes: compare_digest refuses str with non-ASCII characters (a TypeError, not a refusal).
    if not hmac.compare_digest(signature.encode(), _sign(secret, payload).encode()):
        raise TokenError("unauthorized")
    try:
        body = json.loads(_unb64(payload))
        claims = JoinClaims(int(body["a"]), int(body["p"]), str(body["r"]), datetime.fromtimestamp(body["e"], UTC))
    except (ValueError, KeyError, TypeError):
        raise TokenError("unauthorized") from None
    if claims.expires_at <= now:
        raise TokenError("token_expired")
    return claims
