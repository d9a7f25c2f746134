"""The retention job: applies recordings-policy/policy.toml to the database once a day.

One run is one unit of work: blank the personal data of finished appointments, delete what has outlived
its period (a call's rows go at `call_data`), blank what an appointment holds of its call beyond the
policy's metadata, and write one audit entry ("retention.applied") with counts only. Deletions are driven
by a small table of rules (table, timestamp column, policy period); a rule whose table does not exist yet
(client telemetry before its issue lands) is skipped, so the job keeps working as the
schema grows.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

from aiohttp import web
from sqlalchemy import ColumnElement, Integer, String, and_, column, delete, inspect, null, or_, select, table, update
from sqlalchemy.engine import Connection, CursorResult
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import InstrumentedAttribute

from vibue.compliance.policy import Policy
from vibue.core import audit
from vibue.core.clock import Clock
from vibue.mail.transports import FileOutbox
from vibue.models import Appointment, CallParticipant, IssuedDocument
from vibue.models.base import UTCDateTime
from vibue.web.appkeys import CLOCK, POLICY, SESSIONS, SETTINGS

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rule:
    """Delete rows of `table` whose `column` is older than the policy period `period`."""

    report_field: str
    table: str
    # The row's timestamp; "appointment.end_at" for rows of a call: the end of their appointment.
    column: str
    period: str
    # Only rows whose column `only[0]` holds one of the values `only[1]` (None: every row).
    only: tuple[str, tuple[str, ...]] | None = None


OF_APPOINTMENT = "appointment.end_at"
# Order matters: rows that may refer to appointments (telemetry, a call's rows) go before
# appointments; issued documents go first of all, with their files (_delete_documents). The
# client_telemetry table arrives with a later issue; its rule names the table and column that
# issue is expected to create - adjust here if they differ.
RULES = (
    Rule("deleted_client_telemetry", "client_telemetry", "created_at", "client_telemetry"),
    # A call's rows: who was in the room (an interpreter's name and language, connection test results,
    # connection ids), the identity codes and the interpreter links.
    Rule("deleted_call_participants", "call_participants", OF_APPOINTMENT, "call_data"),
    Rule("deleted_identity_codes", "identity_codes", OF_APPOINTMENT, "call_data"),
    Rule("deleted_interpreter_invitations", "interpreter_invitations", OF_APPOINTMENT, "call_data"),
    Rule("deleted_appointments", "appointments", "end_at", "appointments"),
    Rule(
        "deleted_reservations", "appointments", "reserved_until", "unconfirmed_reservations", ("status", ("reserved",))
    ),
    # The audit entry of a connection test holds its verdict: a connection-quality figure.
    Rule("deleted_audit_entries", "audit_log", "at", "client_telemetry", ("action", ("connection_test.result",))),
    Rule("deleted_audit_entries", "audit_log", "at", "audit_log"),
    Rule("deleted_mails", "mail_queue", "created_at", "mail_queue", ("status", ("sent", "failed"))),
    Rule("deleted_staff_sessions", "staff_sessions", "expires_at", "staff_sessions"),
)

# Call metadata (recordings-policy/policy.toml recording.call_metadata) and the column that holds it.
# A column whose item the policy does not list is blanked with the call's other data.
CALL_METADATA_COLUMNS = {
    "start_time": Appointment.call_started_at,
    "end_time": Appointment.call_ended_at,
    "outcome": Appointment.outcome,
    "identity_check_document_type": Appointment.identity_document,
}


@dataclass(frozen=True)
class RetentionReport:
    """What one run changed: counts only, never which rows."""

    anonymised_appointments: int = 0
    cleared_call_details: int = 0
    cleared_connection_tests: int = 0
    deleted_documents: int = 0
    deleted_client_telemetry: int = 0
    deleted_call_participants: int = 0
    deleted_identity_codes: int = 0
    deleted_interpreter_invitations: int = 0
    deleted_appointments: int = 0
    deleted_reservations: int = 0
    deleted_audit_entries: int = 0
    deleted_mails: int = 0
    deleted_staff_sessions: int = 0
    # Tables a rule names that do not exist (yet) in this database.
    skipped_tables: tuple[str, ...] = ()
    # The files of the deleted documents (relative to the data dir): removed once the rows are gone.
    document_files: tuple[str, ...] = ()

    def counts(self) -> dict[str, int]:
        return {key: value for key, value in asdict(self).items() if isinstance(value, int)}

    @property
    def total(self) -> int:
        return sum(self.counts().values())


def _existing_tables(connection: Connection, names: set[str]) -> set[str]:
    inspector = inspect(connection)
    return {name for name in names if inspector.has_table(name)}


async def _rowcount(session: AsyncSession, statement: Any) -> int:
    result = cast(CursorResult[Any], await session.execute(statement))
    return max(result.rowcount, 0)


def _ended_before(cutoff: datetime) -> Any:
    """The ids of appointments that ended before `cutoff`."""
    return select(Appointment.id).where(Appointment.end_at < cutoff)


async def _apply_rule(session: AsyncSession, rule: Rule, cutoff: datetime) -> int:
    condition: ColumnElement[bool]
    if rule.column == OF_APPOINTMENT:
        target = table(rule.table, column("appointment_id", Integer()))
        condition = target.c.appointment_id.in_(_ended_before(cutoff))
    else:
        stamp = column(rule.column, UTCDateTime())
        target = table(rule.table, stamp)
        condition = stamp < cutoff
    if rule.only is not None:
        name, values = rule.only
        condition = and_(condition, column(name, String()).in_(values))
    return await _rowcount(session, delete(target).where(condition))


async def _clear_call_details(session: AsyncSession, policy: Policy, cutoff: datetime, now: datetime) -> int:
    """Blank what an appointment row holds of its call beyond the metadata the policy lists."""
    columns: list[InstrumentedAttribute[Any]] = [Appointment.identity_checked_at]
    columns += [col for item, col in CALL_METADATA_COLUMNS.items() if item not in policy.recording.call_metadata]
    statement = (
        update(Appointment)
        .where(Appointment.end_at < cutoff, or_(*(col.is_not(None) for col in columns)))
        .values(dict.fromkeys(columns) | {Appointment.updated_at: now})
        .execution_options(synchronize_session=False)
    )
    return await _rowcount(session, statement)


async def _clear_connection_tests(session: AsyncSession, cutoff: datetime) -> int:
    """Drop connection test results of calls whose appointment ended before `cutoff`."""
    statement = (
        update(CallParticipant)
        .where(CallParticipant.connection_test.is_not(None), CallParticipant.appointment_id.in_(_ended_before(cutoff)))
        # SQL NULL, not the JSON value null.
        .values(connection_test=null())
        .execution_options(synchronize_session=False)
    )
    return await _rowcount(session, statement)


async def _delete_documents(session: AsyncSession, periods: dict[str, timedelta], now: datetime) -> list[str]:
    """Delete issued documents past their period - or whose appointment goes now - and return their files."""
    condition = or_(
        IssuedDocument.issued_at < now - periods["documents"],
        IssuedDocument.appointment_id.in_(_ended_before(now - periods["appointments"])),
    )
    files = list(await session.scalars(select(IssuedDocument.file_name).where(condition)))
    if files:
        await session.execute(delete(IssuedDocument).where(condition).execution_options(synchronize_session=False))
    return files


async def apply_retention(*, session: AsyncSession, policy: Policy, now: datetime) -> RetentionReport:
    """Apply the retention policy in the caller's unit of work and audit the counts; run it in its own session."""
    periods: dict[str, timedelta] = {name: getattr(policy.retention, name) for name in policy.retention.days()}
    connection = await session.connection()
    present = await connection.run_sync(_existing_tables, {rule.table for rule in RULES})
    files = await _delete_documents(session, periods, now)
    counts: dict[str, Any] = {"deleted_documents": len(files)}
    skipped: list[str] = []
    for rule in RULES:
        if rule.table not in present:
            counts[rule.report_field] = 0
            if rule.table not in skipped:
                skipped.append(rule.table)
            continue
        counts[rule.report_field] = counts.get(rule.report_field, 0) + await _apply_rule(
            session, rule, now - periods[rule.period]
        )
    # After the deletions, so rows about to go are not first rewritten.
    counts["cleared_call_details"] = await _clear_call_details(session, policy, now - periods["call_data"], now)
    counts["cleared_connection_tests"] = await _clear_connection_tests(session, now - periods["client_telemetry"])
    # Whatever the status: an appointment that ended a month ago is over, even if nobody recorded its outcome.
    anonymise = (
        update(Appointment)
        .where(
            Appointment.anonymised_at.is_(None),
            Appointment.end_at < now - periods["appointment_personal_data"],
        )
        .values(
            citizen_name="",
            citizen_email="",
            citizen_phone="",
            manage_token_hash=None,
            anonymised_at=now,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    counts["anonymised_appointments"] = await _rowcount(session, anonymise)
    report = RetentionReport(**counts, skipped_tables=tuple(skipped), document_files=tuple(files))
    details: dict[str, Any] = report.counts()
    audit.record(session=session, at=now, actor="system", action="retention.applied", **details)
    return report


async def run_retention(
    sessions: async_sessionmaker[AsyncSession], policy: Policy, clock: Clock, data_dir: Path | None = None
) -> RetentionReport:
    """One run in its own transaction, logged with counts only; then the deleted documents' files go."""
    async with sessions.begin() as session:
        report = await apply_retention(session=session, policy=policy, now=clock.now())
    if data_dir is not None and report.document_files:
        # After the commit: a crash in between leaves orphan files, never a row without its file.
        await asyncio.to_thread(_remove_files, [data_dir / name for name in report.document_files])
    changed = ", ".join(f"{key}={value}" for key, value in report.counts().items() if value) or "nothing to do"
    skipped = f" (tables not present yet: {', '.join(report.skipped_tables)})" if report.skipped_tables else ""
    log.info("retention applied: %s%s", changed, skipped)
    return report


def _remove_files(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


async def _retention_loop(app: web.Application, interval: float) -> None:
    sessions, policy, clock, settings = app[SESSIONS], app[POLICY], app[CLOCK], app[SETTINGS]
    while True:
        try:
            await run_retention(sessions, policy, clock, settings.data_path)
            if settings.mail_transport == "file":
                outbox = FileOutbox(settings.data_path / "outbox")
                before = clock.now() - policy.retention.mail_queue
                if removed := await asyncio.to_thread(outbox.purge, before=before):
                    log.info("retention removed %d outbox files", removed)
        except Exception:
            # Logged once here with the traceback; the next run tries again.
            log.exception("retention run failed; retrying in %.1f hours", interval / 3600)
        await asyncio.sleep(interval)


async def retention_job(app: web.Application) -> AsyncIterator[None]:
    """cleanup_ctx: run retention at start and then every retention_interval_hours (0 disables the job)."""
    hours = app[SETTINGS].retention_interval_hours
    if hours <= 0:
        log.info("retention job disabled (retention_interval_hours=0)")
        yield
        return
    task = asyncio.create_task(_retention_loop(app, hours * 3600), name="vibue-retention")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
