"""The retention job on both backends: blanks old personal data, deletes what has outlived its period."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy import Column, Integer, MetaData, Table, delete, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import vibue.compliance.retention
from tests.conftest import TEST_NOW
from vibue.compliance.policy import Policy, load_policy
from vibue.compliance.retention import RetentionReport, apply_retention, retention_job
from vibue.core.clock import ManualClock
from vibue.core.settings import Settings
from vibue.models import Appointment, AuditEntry, Concern, Location, QueuedMail, ServiceUnit, Staff, StaffSession
from vibue.models.base import UTCDateTime
from vibue.web.appkeys import CLOCK, POLICY, SESSIONS, SETTINGS

POLICY_FILE = Path(__file__).resolve().parents[2] / "recordings-policy" / "policy.toml"
DAY = timedelta(days=1)
NOW = TEST_NOW


@pytest.fixture
def policy() -> Policy:
    return load_policy(POLICY_FILE)


class World:
    """Inserts rows directly, with the foreign keys an appointment needs."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions
        self.unit_id = self.concern_id = self.location_id = self.staff_id = 0
        self.count = 0

    async def setup(self) -> None:
        async with self.sessions.begin() as session:
            unit = ServiceUnit(slug="bv", name_de="Bürgeramt Virtuell", name_en="Virtual citizen office")
            concern = Concern(slug="meldebescheinigung", name_de="Meldebescheinigung", name_en="Registration")
            concern.duration_minutes = 15
            location = Location(slug="online", name="Online", kind="virtual")
            staff = Staff(
                username="clerk",
                display_name="Clerk",
                role="clerk",
                password_hash="x",
                totp_secret="x",
                created_at=NOW - 400 * DAY,
            )
            session.add_all([unit, concern, location, staff])
            await session.flush()
            self.unit_id, self.concern_id, self.location_id, self.staff_id = unit.id, concern.id, location.id, staff.id

    async def appointment(
        self, *, status: str, end: datetime, reserved_until: datetime | None = None, anonymised: bool = False
    ) -> int:
        self.count += 1
        n = self.count
        async with self.sessions.begin() as session:
            row = Appointment(
                reference=f"VB-{n:06d}",
                manage_token_hash=None if anonymised else f"{n:064d}",
                unit_id=self.unit_id,
                concern_id=self.concern_id,
                location_id=self.location_id,
                channel="video",
                status=status,
                start_at=end - timedelta(minutes=15),
                end_at=end,
                reserved_until=reserved_until,
                citizen_name="" if anonymised else f"Erika Mustermann {n}",
                citizen_email="" if anonymised else f"erika{n}@example.org",
                citizen_phone="" if anonymised else "+49 6221 000000",
                created_at=end - 10 * DAY,
                updated_at=end - 10 * DAY,
                anonymised_at=end + 31 * DAY if anonymised else None,
            )
            session.add(row)
            await session.flush()
            return row.id

    async def audit(self, at: datetime, action: str = "booking.created") -> int:
        async with self.sessions.begin() as session:
            row = AuditEntry(at=at, actor="system", action=action, subject="", details={})
            session.add(row)
            await session.flush()
            return row.id

    async def mail(self, status: str, created: datetime) -> int:
        async with self.sessions.begin() as session:
            row = QueuedMail(
                recipient="erika@example.org",
                message=b"Subject: Termin\r\n\r\nHallo",
                status=status,
                attempts=1,
                next_attempt_at=created,
                created_at=created,
                sent_at=created if status == "sent" else None,
            )
            session.add(row)
            await session.flush()
            return row.id

    async def staff_session(self, token: str, expires: datetime) -> None:
        async with self.sessions.begin() as session:
            session.add(
                StaffSession(
                    token_hash=token,
                    staff_id=self.staff_id,
                    created_at=expires - timedelta(hours=10),
                    expires_at=expires,
                )
            )


@pytest.fixture
async def world(sessions: async_sessionmaker[AsyncSession]) -> World:
    world = World(sessions)
    await world.setup()
    return world


async def run(sessions: async_sessionmaker[AsyncSession], policy: Policy, now: datetime = NOW) -> RetentionReport:
    async with sessions.begin() as session:
        return await apply_retention(session=session, policy=policy, now=now)


async def appointments(sessions: async_sessionmaker[AsyncSession]) -> dict[int, dict[str, Any]]:
    async with sessions() as session:
        rows = (await session.scalars(select(Appointment))).all()
        return {row.id: {c.key: getattr(row, c.key) for c in Appointment.__table__.columns} for row in rows}


async def ids(sessions: async_sessionmaker[AsyncSession], model: Any, key: str = "id") -> set[Any]:
    async with sessions() as session:
        return set((await session.scalars(select(getattr(model, key)))).all())


async def test_personal_data_is_blanked_exactly_when_due(
    world: World, sessions: async_sessionmaker[AsyncSession], policy: Policy
) -> None:
    old_completed = await world.appointment(status="completed", end=NOW - 31 * DAY)
    old_no_show = await world.appointment(status="no_show", end=NOW - 40 * DAY)
    old_cancelled = await world.appointment(status="cancelled", end=NOW - 30 * DAY - timedelta(seconds=1))
    fresh_completed = await world.appointment(status="completed", end=NOW - 29 * DAY)
    edge_completed = await world.appointment(status="completed", end=NOW - 30 * DAY)
    future_confirmed = await world.appointment(status="confirmed", end=NOW + 2 * DAY)
    # Never marked completed or no-show: still over a month after its end, so it is anonymised too.
    stale_confirmed = await world.appointment(status="confirmed", end=NOW - 31 * DAY)
    before = await appointments(sessions)

    report = await run(sessions, policy)

    assert report.anonymised_appointments == 4
    after = await appointments(sessions)
    for key in (old_completed, old_no_show, old_cancelled, stale_confirmed):
        row = after[key]
        assert (row["citizen_name"], row["citizen_email"], row["citizen_phone"]) == ("", "", "")
        assert row["manage_token_hash"] is None
        assert row["anonymised_at"] == NOW
        assert row["updated_at"] == NOW
        # Everything that is not personal data stays for statistics.
        personal = {
            "citizen_name",
            "citizen_email",
            "citizen_phone",
            "manage_token_hash",
            "anonymised_at",
            "updated_at",
        }
        assert {k: v for k, v in row.items() if k not in personal} == {
            k: v for k, v in before[key].items() if k not in personal
        }
    for key in (fresh_completed, edge_completed, future_confirmed):
        assert after[key] == before[key]


async def test_expired_reservations_are_deleted_after_their_grace_period(
    world: World, sessions: async_sessionmaker[AsyncSession], policy: Policy
) -> None:
    long_expired = await world.appointment(status="reserved", end=NOW + 3 * DAY, reserved_until=NOW - 2 * DAY)
    just_expired = await world.appointment(
        status="reserved", end=NOW + 3 * DAY, reserved_until=NOW - timedelta(hours=12)
    )
    holding = await world.appointment(status="reserved", end=NOW + 3 * DAY, reserved_until=NOW + timedelta(minutes=10))
    # A confirmed appointment keeps its old reserved_until: only status "reserved" counts.
    confirmed = await world.appointment(status="confirmed", end=NOW + 3 * DAY, reserved_until=NOW - 5 * DAY)
    before = await appointments(sessions)

    report = await run(sessions, policy)

    assert report.deleted_reservations == 1
    after = await appointments(sessions)
    assert set(after) == {just_expired, holding, confirmed}
    assert long_expired not in after
    assert after == {key: before[key] for key in after}


async def test_expired_reservation_is_anonymised_when_kept_longer(
    world: World, sessions: async_sessionmaker[AsyncSession], policy: Policy
) -> None:
    keep_reservations = dataclasses.replace(policy.retention, unconfirmed_reservations=100 * DAY)
    policy = dataclasses.replace(policy, retention=keep_reservations)
    expired = await world.appointment(status="reserved", end=NOW - 39 * DAY, reserved_until=NOW - 40 * DAY)

    report = await run(sessions, policy)

    assert (report.anonymised_appointments, report.deleted_reservations) == (1, 0)
    row = (await appointments(sessions))[expired]
    assert (row["citizen_name"], row["citizen_email"], row["manage_token_hash"]) == ("", "", None)


async def test_old_appointments_are_deleted(
    world: World, sessions: async_sessionmaker[AsyncSession], policy: Policy
) -> None:
    ancient = await world.appointment(status="completed", end=NOW - 731 * DAY, anonymised=True)
    ancient_confirmed = await world.appointment(status="confirmed", end=NOW - 800 * DAY)
    kept = await world.appointment(status="completed", end=NOW - 729 * DAY, anonymised=True)

    report = await run(sessions, policy)

    assert report.deleted_appointments == 2
    assert report.anonymised_appointments == 0
    assert set(await appointments(sessions)) == {kept}
    assert {ancient, ancient_confirmed}.isdisjoint(await appointments(sessions))


async def test_old_audit_entries_are_deleted_and_the_run_is_audited(
    world: World, sessions: async_sessionmaker[AsyncSession], policy: Policy
) -> None:
    old = await world.audit(NOW - 366 * DAY)
    kept = await world.audit(NOW - 364 * DAY)

    report = await run(sessions, policy)

    assert report.deleted_audit_entries == 1
    async with sessions() as session:
        entries = (await session.scalars(select(AuditEntry).order_by(AuditEntry.id))).all()
    assert [entry.id for entry in entries][:1] == [kept]
    assert old not in {entry.id for entry in entries}
    applied = entries[-1]
    assert (applied.action, applied.actor, applied.at) == ("retention.applied", "system", NOW)
    assert applied.details == report.counts()
    assert applied.details["deleted_audit_entries"] == 1


async def test_audit_rows_cannot_be_updated(world: World, sessions: async_sessionmaker[AsyncSession]) -> None:
    entry = await world.audit(NOW)
    with pytest.raises(DBAPIError, match="audit log is append-only"):
        async with sessions.begin() as session:
            await session.execute(update(AuditEntry).where(AuditEntry.id == entry).values(action="tampered"))
    # DELETE stays possible: retention needs it.
    async with sessions.begin() as session:
        await session.execute(delete(AuditEntry).where(AuditEntry.id == entry))
    assert await ids(sessions, AuditEntry) == set()


async def test_sent_and_failed_mails_are_deleted(
    world: World, sessions: async_sessionmaker[AsyncSession], policy: Policy
) -> None:
    old_sent = await world.mail("sent", NOW - 8 * DAY)
    old_failed = await world.mail("failed", NOW - 8 * DAY)
    old_pending = await world.mail("pending", NOW - 8 * DAY)
    fresh_sent = await world.mail("sent", NOW - 6 * DAY)

    report = await run(sessions, policy)

    assert report.deleted_mails == 2
    assert await ids(sessions, QueuedMail) == {old_pending, fresh_sent}
    assert {old_sent, old_failed}.isdisjoint(await ids(sessions, QueuedMail))


async def test_expired_staff_sessions_are_deleted(
    world: World, sessions: async_sessionmaker[AsyncSession], policy: Policy
) -> None:
    await world.staff_session("a" * 64, NOW - timedelta(minutes=1))
    await world.staff_session("b" * 64, NOW + timedelta(hours=2))

    report = await run(sessions, policy)

    assert report.deleted_staff_sessions == 1
    assert await ids(sessions, StaffSession, "token_hash") == {"b" * 64}


async def test_missing_tables_are_skipped_and_used_once_they_exist(
    world: World, sessions: async_sessionmaker[AsyncSession], policy: Policy
) -> None:
    report = await run(sessions, policy)
    assert report.skipped_tables == ("client_telemetry",)
    assert report.deleted_client_telemetry == 0

    # A later issue adds the telemetry table: the same rule starts applying, no code change needed.
    later = MetaData()
    telemetry = Table(
        "client_telemetry",
        later,
        Column("id", Integer, primary_key=True),
        Column("created_at", UTCDateTime, nullable=False),
    )
    async with sessions.begin() as session:
        connection = await session.connection()
        await connection.run_sync(later.create_all)
        await session.execute(telemetry.insert(), [{"created_at": NOW - 31 * DAY}, {"created_at": NOW - 29 * DAY}])

    report = await run(sessions, policy)
    assert report.skipped_tables == ()
    assert report.deleted_client_telemetry == 1
    async with sessions() as session:
        left = (await session.execute(select(telemetry.c.created_at))).scalars().all()
    assert left == [NOW - 29 * DAY]


async def test_second_run_changes_nothing(
    world: World, sessions: async_sessionmaker[AsyncSession], policy: Policy
) -> None:
    await world.appointment(status="completed", end=NOW - 31 * DAY)
    await world.appointment(status="completed", end=NOW - 731 * DAY)
    await world.appointment(status="reserved", end=NOW + DAY, reserved_until=NOW - 3 * DAY)
    await world.appointment(status="confirmed", end=NOW + DAY)
    await world.audit(NOW - 400 * DAY)
    await world.audit(NOW - DAY)
    await world.mail("sent", NOW - 10 * DAY)
    await world.mail("pending", NOW)
    await world.staff_session("c" * 64, NOW - DAY)

    first = await run(sessions, policy)
    assert first.total == 6
    snapshot = (
        await appointments(sessions),
        await ids(sessions, AuditEntry),
        await ids(sessions, QueuedMail),
        await ids(sessions, StaffSession, "token_hash"),
    )

    second = await run(sessions, policy)

    assert second == RetentionReport(skipped_tables=("client_telemetry",))
    assert second.total == 0
    assert await appointments(sessions) == snapshot[0]
    # The only new row is the second run's own audit entry.
    audit_now = await ids(sessions, AuditEntry)
    assert audit_now > snapshot[1]
    assert len(audit_now - snapshot[1]) == 1
    assert await ids(sessions, QueuedMail) == snapshot[2]
    assert await ids(sessions, StaffSession, "token_hash") == snapshot[3]


def job_app(sessions: async_sessionmaker[AsyncSession], policy: Policy, hours: float) -> web.Application:
    app = web.Application()
    app[SETTINGS] = Settings(retention_interval_hours=hours)
    app[SESSIONS] = sessions
    app[CLOCK] = ManualClock(NOW)
    app[POLICY] = policy
    return app


async def wait_for(condition: Any) -> None:
    """Poll for up to ten seconds: the job runs in its own task."""
    for _ in range(1000):
        if await condition():
            return
        await asyncio.sleep(0.01)
    pytest.fail("the retention job did not get there in time")


async def applied_runs(sessions: async_sessionmaker[AsyncSession]) -> list[dict[str, Any]]:
    async with sessions() as session:
        rows = await session.scalars(select(AuditEntry).where(AuditEntry.action == "retention.applied"))
        return [row.details for row in rows]


async def test_job_runs_at_start_logs_counts_and_stops_cleanly(
    world: World, sessions: async_sessionmaker[AsyncSession], policy: Policy, caplog: pytest.LogCaptureFixture
) -> None:
    await world.appointment(status="completed", end=NOW - 31 * DAY)
    caplog.set_level(logging.INFO, logger="vibue.compliance.retention")
    app = job_app(sessions, policy, hours=24)
    job = contextlib.asynccontextmanager(retention_job)(app)

    async with job:

        async def ran() -> bool:
            return len(await applied_runs(sessions)) == 1

        await wait_for(ran)

    tasks = [task for task in asyncio.all_tasks() if task.get_name() == "vibue-retention"]
    assert tasks == []
    messages = [record.getMessage() for record in caplog.records if record.name == "vibue.compliance.retention"]
    assert messages == ["retention applied: anonymised_appointments=1 (tables not present yet: client_telemetry)"]
    assert "erika" not in caplog.text.lower()


async def test_job_disabled_by_zero_interval(
    world: World, sessions: async_sessionmaker[AsyncSession], policy: Policy, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="vibue.compliance.retention")
    async with contextlib.asynccontextmanager(retention_job)(job_app(sessions, policy, hours=0)):
        await asyncio.sleep(0.05)
    assert await applied_runs(sessions) == []
    assert [record.getMessage() for record in caplog.records] == ["retention job disabled (retention_interval_hours=0)"]


async def test_job_logs_each_failure_once_and_keeps_running(
    world: World,
    sessions: async_sessionmaker[AsyncSession],
    policy: Policy,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def broken(**_: Any) -> RetentionReport:
        raise RuntimeError("database on fire")

    monkeypatch.setattr(vibue.compliance.retention, "apply_retention", broken)
    caplog.set_level(logging.INFO, logger="vibue.compliance.retention")
    # 0.00001 hours = 36 ms between runs.
    async with contextlib.asynccontextmanager(retention_job)(job_app(sessions, policy, hours=0.00001)):

        async def failed_twice() -> bool:
            return sum(record.levelno == logging.ERROR for record in caplog.records) >= 2

        await wait_for(failed_twice)

    errors = [record for record in caplog.records if record.levelno == logging.ERROR]
    assert len(errors) >= 2
    for record in errors:
        assert record.getMessage() == "retention run failed; retrying in 0.0 hours"
        assert record.exc_info is not None
        assert isinstance(record.exc_info[1], RuntimeError)
    assert not [task for task in asyncio.all_tasks() if task.get_name() == "vibue-retention"]
    assert await applied_runs(sessions) == []
