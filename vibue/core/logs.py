"""No secret or personal datum in a log line: one filter that rewrites every record before it is written.

aiohttp's parser errors log the raw request line and headers with the client's address ("Error handling
request from ..."), so a booking link, a staff cookie or an email address would reach the log. The
filter redacts the formatted message, the traceback and the stack of each record: cookies, link and
join tokens (and any other long random string), 6-digit codes, email and IP addresses. The composition
root installs it once (run.py); `install_redaction` returns the undo for tests.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable

# Loggers that libraries write to directly, some with handlers of their own (Socket.IO and Engine.IO
# add a StreamHandler when no logging is configured): a filter on the logger covers every handler.
LIBRARY_LOGGERS = (
    "aiohttp.access",
    "aiohttp.server",
    "aiohttp.web",
    "aiohttp.internal",
    "socketio",
    "socketio.server",
    "engineio",
    "engineio.server",
    "asyncio",
)

_COOKIE_HEADER = re.compile(r"(?i)\b((?:set-)?cookie\s*:\s*)[^\r\n'\"]*")
_SECRET_FIELD = re.compile(
    r"(?i)\b((?:__host-)?vibue_\w+|[\w-]*(?:token|code|secret|password|session|csrf|cookie)[\w-]*)"
    r"(\\?[\"']?[ \t]*[=:][ \t]*\\?[\"']?)(?!<)[^\s&;,'\"\\<>]+"
)
# The pages and API paths whose last part is a link secret (vibue.web.pages.PAGES, vibue.core.urls).
_LINK_PATH = re.compile(r"(/(?:termin|video|dolmetschen|api/bookings|api/video|api/interpreter)/)[\w.-]{16,}")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?!\w|\.\d)")
_IPV6 = re.compile(r"(?i)(?<![\w:])(?:[0-9a-f]{0,4}:){2,7}(?:(?:\d{1,3}\.){3}\d{1,3}|[0-9a-f]{1,4})?(?![\w:])")
# Link secrets are 16 to 80 URL-safe characters (vibue.core.urls.LINK_PATTERN); join tokens are two such
# parts joined by a dot. A run that long with a digit, or with mixed case and a "-" or "_", is random
# (unless an "=" follows: then it names a field).
_LONG_RUN = re.compile(r"(?<![\w-])[A-Za-z0-9_-]{16,}(?![\w=-])")
# A code stands alone: six digits inside a request id or after a decimal point are not one.
_CODE = re.compile(r"(?<![\w.-])\d{6}(?![\w-])")


def _ipv6(match: re.Match[str]) -> str:
    text = match.group(0)
    # Times (13:41:31) and Python's "a:b:" are not addresses: require "::" or all eight groups.
    return "<ip>" if "::" in text or text.count(":") == 7 else text


def _long_run(match: re.Match[str]) -> str:
    text = match.group(0)
    if any(c.isdigit() for c in text):
        return "<secret>"
    mixed = any(c.isupper() for c in text) and any(c.islower() for c in text)
    return "<secret>" if mixed and ("-" in text or "_" in text) else text


def redact(text: str) -> str:
    """`text` with cookies, tokens, codes, email and IP addresses replaced by placeholders."""
    text = _COOKIE_HEADER.sub(r"\1<cookie>", text)
    text = _SECRET_FIELD.sub(r"\1\2<secret>", text)
    text = _LINK_PATH.sub(r"\1<secret>", text)
    text = _EMAIL.sub("<email>", text)
    text = _IPV4.sub("<ip>", text)
    text = _IPV6.sub(_ipv6, text)
    text = _LONG_RUN.sub(_long_run, text)
    return _CODE.sub("<code>", text)


class RedactingFilter(logging.Filter):
    """Rewrites a record in place: message, traceback and stack redacted, the exception object dropped."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg, record.args = redact(message), None
        if record.exc_info:
            # The exception itself holds the raw request line: keep only its redacted text.
            record.exc_text = record.exc_text or logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def install_redaction(extra_loggers: Iterable[str] = ()) -> Callable[[], None]:
    """Put the filter on the root logger's handlers, on the library loggers and on every logger that
    does not propagate or has handlers of its own; returns a function that takes it off again."""
    redacting = RedactingFilter()
    names = {*LIBRARY_LOGGERS, *extra_loggers}
    for name, logger in list(logging.Logger.manager.loggerDict.items()):
        if isinstance(logger, logging.Logger) and (not logger.propagate or logger.handlers):
            names.add(name)
    loggers = [logging.getLogger(name) for name in sorted(names)]
    targets: list[logging.Filterer] = [*loggers, *logging.getLogger().handlers]
    targets += [handler for logger in loggers for handler in logger.handlers]
    # Once: a second call (or a handler shared by two loggers) adds no second filter.
    filtered: list[logging.Filterer] = []
    for target in targets:
        if target not in filtered and not any(isinstance(f, RedactingFilter) for f in target.filters):
            target.addFilter(redacting)
            filtered.append(target)

    def uninstall() -> None:
        for target in filtered:
            target.removeFilter(redacting)

    return uninstall
