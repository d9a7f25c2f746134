"""The retention job: applies recordings-policy/policy.toml to the database once a day.

One run is one unit of work: blank the personal data of finished appointments, delete what has outlived
its period, and write one audit entry ("retention.applied") with counts only. Deletions are driven by a
small table of rules (table, timestamp column, policy period); a rule whose table does not exist yet
(documents, client telemetry before their issues land) is skipped, so the job keeps working as the
schema grows.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from aiohttp import web
from sqlalchemy import String, and_, column, delete, inspect, table, update
from sqlalchemy.engine import Connection, CursorResult
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from vibue.compliance.policy import Policy
from vibue.core import audit
from vibue.core.clock import Clock
from vibue.mail.transports import FileOutbox
from vibue.models import Appointment
from vibue.models.base import UTCDateTime
from vibue.web.appkeys import CLOCK, POLICY, SESSIONS, SETTINGS

log = logging.getLogger(__name__)

# Appointment statuses after which nothing more happens to the appointment.


@dataclass(frozen=True)
class Rule:
    """Delete rows of `table` whose `column` is older than the policy period `period`."""

    report_field: str
    table: str
    column: str
    period: str
    # Only rows whose `status` column is one of these (None: every row).
    statuses: tuple[str, ...] | None = None


# Order matters: rows that may refer to appointments (documents, telemetry) go before appointments.
# The documents and client_telemetry tables arrive with later issues; their rules name the
# table and column those issues are expected to create - adjust here if they differ.
RULES = (
    Rule("deleted_documents", "documents", "created_at", "documents"),
    Rule("deleted_client_telemetry", "client_telemetry", "created_at", "client_telemetry"),
    Rule("deleted_appointments", "appointments", "end_at", "appointments"),
    Rule("deleted_reservations", "appointments", "reserved_until", "unconfirmed_reservations", ("reserved",)),
    Rule("deleted_audit_entries", "audit_log", "at", "audit_log"),
    Rule("deleted_mails", "mail_queue", "created_at", "mail_queue", ("sent", "failed")),
    Rule("deleted_staff_sessions", "staff_sessions", "expires_at", "staff_sessions"),
)


@dataclass(frozen=True)
class RetentionReport:
    """What one run changed: counts only, never which rows."""

    anonymised_appointments: int = 0
    deleted_documents: int = 0
    deleted_client_telemetry: int = 0
    deleted_appointments: int = 0
    deleted_reservations: int = 0
    deleted_audit_entries: int = 0
    deleted_mails: int = 0
    deleted_staff_sessions: int = 0
    # Tables a rule names that do not exist (yet) in this database.
    skipped_tables: tuple[str, ...] = ()

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


async def _apply_rule(session: AsyncSession, rule: Rule, cutoff: datetime) -> int:
    stamp = column(rule.column, UTCDateTime())
    target = table(rule.table, stamp, column("status", String()))
    condition = stamp < cutoff
    if rule.statuses is not None:
        condition = and_(condition, target.c.status.in_(rule.statuses))
    return await _rowcount(session, delete(target).where(condition))


async def apply_retention(*, session: AsyncSession, policy: Policy, now: datetime) -> RetentionReport:
    """Apply the retention policy in the caller's unit of work and audit the counts; run it in its own session."""
    periods: dict[str, timedelta] = {name: getattr(policy.retention, name) for name in policy.retention.days()}
    connection = await session.connection()
    present = await connection.run_sync(_existing_tables, {rule.table for rule in RULES})
    counts: dict[str, Any] = {}
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
    # After the deletions, so rows about to go are not first rewritten. Whatever the status: an
    # appointment that ended a month ago is over, even if nobody recorded its outcome.
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
    report = RetentionReport(**counts, skipped_tables=tuple(skipped))
    details: dict[str, Any] = report.counts()
    audit.record(session=session, at=now, actor="system", action="retention.applied", **details)
    return report


async def run_retention(sessions: async_sessionmaker[AsyncSession], policy: Policy, clock: Clock) -> RetentionReport:
    """One run in its own transaction, logged with counts only."""
    async with sessions.begin() as session:
        report = await apply_retention(session=session, policy=policy, now=clock.now())
    changed = ", ".join(f"{key}={value}" for key, value in report.counts().items() if value) or "nothing to do"
    skipped = f" (tables not present yet: {', '.join(report.skipped_tables)})" if report.skipped_tables else ""
    log.info("retention applied: %s%s", changed, skipped)
    return report


async def _retention_loop(app: web.Application, interval: float) -> None:
    sessions, policy, clock, settings = app[SESSIONS], app[POLICY], app[CLOCK], app[SETTINGS]
    while True:
        try:
            await run_retention(sessions, policy, clock)
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
