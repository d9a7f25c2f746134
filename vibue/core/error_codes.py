"""Every error code the server sends, declared once (docs/decisions.md: one list of error codes).

HTTP answers carry them as `{"error": {"code", ...}}`, Socket.IO acknowledgements and `error`
events as `{"ok": false, "error": {"code", ...}}`, refused connections as `connect_error`'s
`data.code`. The texts stay in the message catalog: `error.<code>`, and `error.socket_<code>` for
a refused connection. Raise sites keep their string literals; tests/core/test_error_codes.py
checks every literal against this list, and the list against the catalogs and `web/js/`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ErrorCode:
    code: str
    meaning: str
    # The HTTP status it is answered with; None: never sent over HTTP.
    status: int | None = None
    # Sent in a Socket.IO acknowledgement or `error` event.
    socket: bool = False
    # Refuses a Socket.IO connection (`connect_error`); its text is `error.socket_<code>`.
    connect: bool = False

    @property
    def http(self) -> bool:
        return self.status is not None


_CODES = (
    # -- the generic ones: the error classes' defaults, aiohttp's own errors, the routing itself
    ErrorCode("invalid", "Invalid input (the default of Invalid)", 422),
    ErrorCode("bad_request", "The request cannot be processed (aiohttp's 400, BadRequest's default)", 400),
    ErrorCode("unauthorized", "Not signed in (HTTP); no valid join token or staff session (socket)", 401, connect=True),
    ErrorCode("forbidden", "Not allowed; at connect: a staff role that may not take calls", 403, connect=True),
    ErrorCode("not_found", "No such page, route or entry", 404),
    ErrorCode("method_not_allowed", "The route exists, the method does not", 405),
    ErrorCode("conflict", "Conflicts with existing data (the default of Conflict)", 409),
    ErrorCode("too_large", "A request or socket event over the size limit", 413, socket=True),
    ErrorCode("unsupported_media_type", "aiohttp's 415", 415),
    ErrorCode("locked", "Temporarily locked (the default of Locked)", 423),
    ErrorCode("rate_limited", "Too many requests or events; HTTP adds Retry-After", 429, socket=True),
    ErrorCode("internal", "An unexpected server error, logged with the request id", 500, socket=True),
    ErrorCode("database_unavailable", "GET /healthz: the database does not answer", 503),
    ErrorCode(
        "limits_unavailable",
        "Redis, which holds the shared rate limits and lockouts, does not answer; Retry-After",
        503,
    ),
    ErrorCode("validation_failed", "The body or query does not fit the endpoint's model; see fields", 422),
    ErrorCode("json_required", "A body that is not Content-Type: application/json", 400),
    ErrorCode("malformed_json", "A body that is not valid JSON", 400),
    ErrorCode("json_too_complex", "A JSON body nested over 32 levels or with a number over 40 characters", 400),
    ErrorCode("body_too_large", "A body over 64 KB", 413),
    ErrorCode(
        "not_signed_in", "An endpoint for staff without a staff session; a staff socket signed out", 401, socket=True
    ),
    ErrorCode("role_forbidden", "The staff member's role may not call this endpoint", 403),
    ErrorCode("csrf_failed", "A state-changing request without the echoed CSRF cookie", 403),
    # -- catalog and booking
    ErrorCode("unit_not_found", "No such service unit", 404),
    ErrorCode("concern_not_found", "No such concern, or not offered by the unit", 404),
    ErrorCode("location_not_found", "No such location for the concern", 404),
    ErrorCode("slot_unavailable", "The time is not a bookable slot", 409),
    ErrorCode("slot_taken", "The slot was taken by someone else", 409),
    ErrorCode("open_booking_exists", "The citizen already holds an open booking for the concern", 409),
    ErrorCode("booking_not_found", "The booking link's token matches no appointment", 404),
    ErrorCode("reservation_expired", "The reservation was not confirmed in time", 409),
    ErrorCode("status_conflict", "Not possible in the appointment's current status", 409, socket=True),
    # -- staff sign-in
    ErrorCode("invalid_credentials", "User name, password or TOTP code wrong", 401),
    ErrorCode("account_locked", "Locked after too many failed sign-ins", 423),
    ErrorCode("enrolment_invalid", "The TOTP enrolment token expired or is unknown", 401),
    ErrorCode("code_invalid", "The staff member's TOTP code is wrong or was used", 401),
    # -- video: identity codes, the pre-call page, connection test, interpreters
    ErrorCode("identity_code_missing", "No identity code was requested yet; fields.code", 422),
    ErrorCode("identity_code_wrong", "The identity code is wrong; fields.code, attempts left", 422),
    ErrorCode("identity_code_used", "The identity code was used already", 409),
    ErrorCode("identity_code_voided", "The identity code is void (a newer one, or 5 wrong entries)", 409),
    ErrorCode("identity_code_expired", "The identity code is older than 10 minutes", 409),
    ErrorCode("video_not_open", "Outside the video room's opening hours", 409, socket=True),
    ErrorCode("not_a_video_appointment", "The appointment is not a video appointment", 409),
    ErrorCode("connection_test_busy", "Every echo peer of this process is in use", 503),
    ErrorCode("connection_test_offer_invalid", "An SDP offer the echo peer cannot use", 422),
    ErrorCode("connection_test_unknown", "A connection test id the server did not issue", 422),
    ErrorCode("invitation_not_found", "No such interpreter invitation", 404),
    ErrorCode("invitation_used", "The interpreter invitation was used already", 409),
    ErrorCode("invitation_expired", "The interpreter invitation was replaced or its room closed", 409),
    # -- issued documents and their verification
    ErrorCode("template_not_found", "No document template with this id (documents/templates/)", 404),
    ErrorCode("document_not_found", "No such document, or not one the caller may see", 404),
    ErrorCode("document_revoked", "The document was revoked already", 409),
    ErrorCode("idempotency_conflict", "The idempotency key was used for a different request", 409),
    ErrorCode(
        "seal_unavailable", "The seal key, timestamp authority or revocation data did not answer; Retry-After", 503
    ),
    ErrorCode("documents_unavailable", "No document factory is plugged into this server", 503),
    ErrorCode("root_certificate_unavailable", "No development root certificate: the seal is a production one", 404),
    # -- Socket.IO only
    ErrorCode("token_expired", "The join token's time is up", connect=True),
    ErrorCode("forbidden_origin", "A WebSocket handshake from another site", connect=True),
    ErrorCode(
        "call_over",
        "The citizen was denied, an interpreter left or the appointment ended; room.join: it ended or was cancelled",
        socket=True,
        connect=True,
    ),
    ErrorCode(
        "appointment_not_found",
        "No video appointment with this id (any more); HTTP: or not one of the clerk's units",
        404,
        socket=True,
        connect=True,
    ),
    ErrorCode("invalid_payload", "An event's payload does not fit its schema", socket=True),
    ErrorCode("unknown_event", "An event the server does not know", socket=True),
    ErrorCode("not_admitted", "The sender is not a member of the room", socket=True),
    ErrorCode("wrong_room", "The signal's target is not in the sender's room", socket=True),
    ErrorCode("peer_not_connected", "The signal's target is in the call but its connection is gone", socket=True),
    ErrorCode("forbidden_role", "The sender's role may not send this event", socket=True),
    ErrorCode("forbidden_room", "A clerk with no shift for the room's unit and location", socket=True),
    ErrorCode("not_waiting", "Nobody is waiting to be admitted or denied", socket=True),
)

CODES: dict[str, ErrorCode] = {entry.code: entry for entry in _CODES}
if len(CODES) != len(_CODES):  # pragma: no cover - a typo caught at import
    raise ValueError("an error code is declared twice")


def status_of(code: str) -> int:
    """The HTTP status `code` is answered with (KeyError for a code not in the list)."""
    status = CODES[code].status
    if status is None:
        raise KeyError(f"{code} is not an HTTP error code")
    return status
