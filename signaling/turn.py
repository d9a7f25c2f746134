"""ICE servers for browsers: STUN from settings, and TURN with time-limited credentials.

coturn's shared-secret scheme ("use-auth-secret"): the user name is "<expiry unix time>:<id>",
the password base64(HMAC-SHA1(secret, user name)). coturn checks both without a database, and a
leaked credential stops working at its expiry. Handed out only to admitted call members.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timedelta
from typing import Any

from vibue.core.settings import Settings


def credential(secret: str, user: str, expires: datetime) -> tuple[str, str]:
    username = f"{int(expires.timestamp())}:{user}"
    password = base64.b64encode(hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()).decode()
    return username, password


def ice_servers(settings: Settings, *, participant_id: int | None, now: datetime) -> list[dict[str, Any]]:
    """STUN for everybody; TURN only with a participant (an admitted member) and a configured secret."""
    servers: list[dict[str, Any]] = []
    stun = [url.strip() for url in settings.stun_urls.split(",") if url.strip()]
    if stun:
        servers.append({"urls": stun})
    turn = [url.strip() for url in settings.turn_urls.split(",") if url.strip()]
    if turn and settings.turn_secret and participant_id is not None:
        expires = now + timedelta(seconds=settings.turn_ttl_seconds)
        username, password = credential(settings.turn_secret, f"p{participant_id}", expires)
        servers.append({"urls": turn, "username": username, "credential": password})
    return servers
