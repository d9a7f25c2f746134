"""The recording and retention policy (recordings-policy/policy.toml), loaded and validated once at start.

Validation is strict on purpose: a missing or unknown key, a period out of range or recording switched on
is refused with one line naming the file and the key, and the app does not start. Retention periods are
`timedelta`s (whole days); `period.days` gives the number written in the file.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

POLICY_VERSION = 1
MAX_DAYS = 3650

# Everything the app may ever store about a call. The policy chooses a subset; anything else is refused.
CALL_METADATA_ITEMS = (
    "start_time",
    "end_time",
    "duration",
    "outcome",
    "channel",
    "identity_check_document_type",
)
# Never stored, whatever the policy says. The policy must list each of them under recording.never_stored.
NEVER_STORED = ("id_numbers", "id_images", "media", "sdp", "ip_addresses")
RECORDING_SWITCHES = ("audio", "video", "screenshots")
RETENTION_KEYS = (
    "appointment_personal_data",
    "call_data",
    "appointments",
    "unconfirmed_reservations",
    "audit_log",
    "documents",
    "client_telemetry",
    "mail_queue",
    "staff_sessions",
)


class PolicyError(ValueError):
    """The policy file is missing, not TOML, or breaks a rule; the message is one line naming the key."""


@dataclass(frozen=True)
class RecordingPolicy:
    audio: bool
    video: bool
    screenshots: bool
    call_metadata: tuple[str, ...]
    never_stored: tuple[str, ...]


@dataclass(frozen=True)
class RetentionPolicy:
    """How long each kind of data is kept; each period counts from the moment named in policy.toml."""

    appointment_personal_data: timedelta
    call_data: timedelta
    appointments: timedelta
    unconfirmed_reservations: timedelta
    audit_log: timedelta
    documents: timedelta
    client_telemetry: timedelta
    mail_queue: timedelta
    staff_sessions: timedelta

    def days(self) -> dict[str, int]:
        """Every period as whole days, keyed like policy.toml (for logs and the admin view)."""
        return {key: getattr(self, key).days for key in RETENTION_KEYS}


@dataclass(frozen=True)
class Policy:
    version: int
    recording: RecordingPolicy
    retention: RetentionPolicy
    source: str


def _toml(value: Any) -> str:
    """A value as it would be written in TOML, so messages quote what the file says."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return str(value)


class _Reader:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, key: str, problem: str) -> PolicyError:
        return PolicyError(f"{self.source}: {key} {problem}")

    def table(self, data: dict[str, Any], key: str, known: tuple[str, ...], prefix: str = "") -> dict[str, Any]:
        if key not in data:
            raise self.fail(prefix + key, "is missing")
        value = data[key]
        if not isinstance(value, dict):
            raise self.fail(prefix + key, f"must be a table, got {_toml(value)}")
        self.only(value, known, f"{prefix}{key}.")
        return value

    def only(self, data: dict[str, Any], known: tuple[str, ...], prefix: str) -> None:
        for key in data:
            if key not in known:
                raise self.fail(prefix + key, f"is not a known key (known: {', '.join(known)})")

    def require(self, data: dict[str, Any], key: str, prefix: str) -> Any:
        if key not in data:
            raise self.fail(prefix + key, "is missing")
        return data[key]

    def names(self, data: dict[str, Any], key: str, prefix: str) -> tuple[str, ...]:
        value = self.require(data, key, prefix)
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise self.fail(prefix + key, f"must be a list of names, got {_toml(value)}")
        if len(set(value)) != len(value):
            raise self.fail(prefix + key, "lists a name twice")
        return tuple(value)


def _recording(reader: _Reader, data: dict[str, Any]) -> RecordingPolicy:
    known = (*RECORDING_SWITCHES, "call_metadata", "never_stored")
    table = reader.table(data, "recording", known)
    for key in RECORDING_SWITCHES:
        value = reader.require(table, key, "recording.")
        if value is not False:
            raise reader.fail(
                f"recording.{key}",
                f"must be false: ViBü never records calls (consented recording is not available), got {_toml(value)}",
            )
    never_stored = reader.names(table, "never_stored", "recording.")
    for item in NEVER_STORED:
        if item not in never_stored:
            raise reader.fail("recording.never_stored", f"must include {item}")
    call_metadata = reader.names(table, "call_metadata", "recording.")
    for item in call_metadata:
        if item in never_stored:
            raise reader.fail("recording.call_metadata", f"must not include {item}: it is listed under never_stored")
        if item not in CALL_METADATA_ITEMS:
            raise reader.fail(
                "recording.call_metadata",
                f"must only name known items ({', '.join(CALL_METADATA_ITEMS)}), got {_toml(item)}",
            )
    return RecordingPolicy(
        audio=False, video=False, screenshots=False, call_metadata=call_metadata, never_stored=never_stored
    )


def _retention(reader: _Reader, data: dict[str, Any]) -> RetentionPolicy:
    table = reader.table(data, "retention", RETENTION_KEYS)
    periods: dict[str, timedelta] = {}
    for key in RETENTION_KEYS:
        value = reader.require(table, key, "retention.")
        # bool is an int in Python; `true` is not a number of days.
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_DAYS:
            raise reader.fail(
                f"retention.{key}", f"must be a whole number of days between 0 and {MAX_DAYS}, got {_toml(value)}"
            )
        periods[key] = timedelta(days=value)
    # An issued document refers to its appointment: it cannot outlive the appointment's row.
    if periods["documents"] > periods["appointments"]:
        raise reader.fail(
            "retention.documents",
            f"must not be longer than retention.appointments ({periods['appointments'].days} days), "
            f"got {periods['documents'].days}",
        )
    return RetentionPolicy(**periods)


def parse_policy(text: str, source: str) -> Policy:
    """Validate policy TOML text; `source` names the file in error messages."""
    reader = _Reader(source)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{source}: not valid TOML: {exc}") from None
    reader.only(data, ("version", "recording", "retention"), "")
    version = reader.require(data, "version", "")
    if isinstance(version, bool) or version != POLICY_VERSION:
        raise reader.fail("version", f"must be {POLICY_VERSION}, got {_toml(version)}")
    recording = _recording(reader, data)
    retention = _retention(reader, data)
    return Policy(version=POLICY_VERSION, recording=recording, retention=retention, source=source)


def load_policy(path: str | Path) -> Policy:
    """Read and validate the policy file; raise PolicyError (one line: file, key, problem) if it is unusable."""
    source = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise PolicyError(f"{source}: cannot read the policy file: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise PolicyError(f"{source}: not valid TOML: the file is not UTF-8") from None
    return parse_policy(text, source)
