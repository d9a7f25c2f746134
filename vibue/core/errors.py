"""Domain errors. Raised anywhere in the core, translated once at the edge (vibue.web.middleware).

`code` is stable and machine-readable; the human message comes from the message catalog
(vibue/core/messages/*.json, key "error.<code>") in the caller's language.
"""

from __future__ import annotations

from typing import Any, Self


class DomainError(Exception):
    # A bare DomainError is a 400 like BadRequest (not "invalid", which Invalid answers with 422).
    status = 400
    code = "bad_request"
    # Set by keeping_changes(): vibue.core.db.unit_of_work commits before the error goes on.
    keep_changes = False
    # Seconds after which trying again makes sense; HTTP answers carry it as Retry-After.
    retry_after: int | None = None

    def __init__(self, code: str | None = None, *, fields: dict[str, str] | None = None, **params: Any) -> None:
        self.code = code or type(self).code
        # field name -> message key (translated at the edge) or already-translated text
        self.fields = fields or {}
        self.params = params
        super().__init__(self.code)

    def keeping_changes(self) -> Self:
        """This refusal must not undo what led to it (an attempt counted, an audit entry): commit first."""
        self.keep_changes = True
        return self


class Invalid(DomainError):
    status = 422
    code = "invalid"


class BadRequest(DomainError):
    status = 400
    code = "bad_request"


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class TooLarge(DomainError):
    status = 413
    code = "too_large"


class RateLimited(DomainError):
    status = 429
    code = "rate_limited"
    retry_after: int

    def __init__(self, retry_after: int, code: str | None = None) -> None:
        super().__init__(code, retry_after=retry_after)
        self.retry_after = retry_after


class LimitsUnavailable(DomainError):
    """The shared rate limits and lockouts (Redis) do not answer: refused rather than uncounted."""

    status = 503
    code = "limits_unavailable"
    retry_after: int

    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after=retry_after)
        self.retry_after = retry_after


class SealUnavailable(DomainError):
    """The seal could not be applied: the timestamp authority, a revocation responder or the key
    token did not answer. Nothing was issued; trying again later may work."""

    status = 503
    code = "seal_unavailable"
    retry_after: int = 30

    def __init__(self, retry_after: int = 30) -> None:
        super().__init__(retry_after=retry_after)
        self.retry_after = retry_after


class Unavailable(DomainError):
    """No document factory is plugged into this server (documents_unavailable)."""

    status = 503
    code = "documents_unavailable"


class Locked(DomainError):
    status = 423
    code = "locked"
