"""What every booking operation needs besides the session: the time, the settings, the mail queue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from aiohttp import web

from vibue.core.settings import Settings
from vibue.mail.queue import MailQueue
from vibue.web.appkeys import CLOCK, MAIL, SETTINGS


@dataclass(frozen=True)
class Context:
    """What every booking operation needs besides the session: time, settings, the mail queue."""

    now: datetime
    settings: Settings
    mail: MailQueue

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.settings.timezone)

    @classmethod
    def of(cls, request: web.Request) -> Context:
        """The context of one HTTP request (booking, video and dev routes share it)."""
        app = request.app
        return cls(now=app[CLOCK].now(), settings=app[SETTINGS], mail=app[MAIL])
