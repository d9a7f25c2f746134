"""Every datum of a video call follows its period: at +31 days the retention job has left none of it."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.compliance.test_retention import DAY, NOW, World, policy, run, world

# The fixtures, shared with the retention job's other tests.
__all__ = ["policy", "world"]
from vibue.compliance.policy import Policy
from vibue.models import Appointment, AuditEntry, Base, CallParticipant, IdentityCode, InterpreterInvitation

# What an anonymised appointment keeps for statistics: the booking's shape and the call's metadata
# (recordings-policy/policy.toml recording.call_metadata). Every other column must be empty.
KEPT = {
    "id",
    "reference",
    "unit_id",
    "concern_id",
    "location_id",
    "channel",
    "status",
    "start_at",
    "end_at",
    "reserved_until",
    "lang",
    "clerk_id",
    "created_at",
    "updated_at",
    "anonymised_at",
    "call_started_at",
    "call_ended_at",
    "outcome",
    "identity_document",
}


def planted(tag: str) -> dict[str, str]:
    """Values that only a call's data holds, so a scan of the whole database can look for them."""
    return {
        "interpreter": f"Ayşe Dolmetsch {tag}",
        "language": f"Türkisch {tag}",
        "sid": f"sid-{tag}-0123456789",
        "code_hash": f"code{tag}".ljust(64, "c"),
        "token_hash": f"link{tag}".ljust(64, "t"),
        "reason": f"relay-{tag}",
        "verdict": f"limited-{tag}",
    }


async def call(world: World, sessions: async_sessionmaker[AsyncSession], *, end: datetime, tag: str) -> int:
    """A video appointment whose call happened: three members, a code, an invitation, the audit trail."""
    appointment_id = await world.appointment(status="completed", end=end)
    values = planted(tag)
    start = end - timedelta(minutes=15)
    async with sessions.begin() as session:
        appointment = await session.get_one(Appointment, appointment_id)
        appointment.identity_document = "Personalausweis"
        appointment.identity_checked_at = start + timedelta(minutes=2)
        appointment.outcome = "completed"
        appointment.call_started_at = start
        appointment.call_ended_at = end
        times = {"waiting_since": start, "admitted_at": start, "left_at": end, "disconnected_at": end}
        test = {"verdict": values["verdict"], "reason": values["reason"], "rtt_ms": 87, "loss": 0.0123}
        session.add_all(
            [
                CallParticipant(
                    appointment_id=appointment_id,
                    role="citizen",
                    state="left",
                    code_verified_at=start,
                    connection_sid=values["sid"],
                    connection_test=test | {"bitrate_kbps": 912.5, "tested_at": start.isoformat()},
                    **times,
                ),
                CallParticipant(
                    appointment_id=appointment_id, role="clerk", staff_id=world.staff_id, state="left", **times
                ),
                CallParticipant(
                    appointment_id=appointment_id,
                    role="interpreter",
                    state="left",
                    display_name=values["interpreter"],
                    language=values["language"],
                    **times,
                ),
                IdentityCode(
                    appointment_id=appointment_id,
                    code_hash=values["code_hash"],
                    created_at=start,
                    expires_at=end,
                    attempts=1,
                    used_at=start,
                ),
                InterpreterInvitation(
                    appointment_id=appointment_id,
                    token_hash=values["token_hash"],
                    created_by=world.staff_id,
                    created_at=start,
                    expires_at=end,
                    used_at=start,
                ),
            ]
        )
        subject = f"appointment:{appointment_id}"
        for action, details in [
            ("connection_test.result", {"verdict": values["verdict"]}),
            ("call.identity_checked", {"document": "Personalausweis"}),
            ("call.ended", {"outcome": "completed"}),
        ]:
            session.add(AuditEntry(at=start, actor="staff:1", action=action, subject=subject, details=details))
    return appointment_id


async def database_text(sessions: async_sessionmaker[AsyncSession]) -> str:
    """Every row of every table, as text: what a reader of the database could find."""
    async with sessions() as session:
        rows = [
            repr(tuple(row)) for table in Base.metadata.sorted_tables for row in (await session.execute(table.select()))
        ]
    return "\n".join(rows)


async def rows_of(sessions: async_sessionmaker[AsyncSession], appointment_id: int) -> dict[str, list[Any]]:
    """The rows of every table that refers to the appointment (its call's tables, and any added later)."""
    found: dict[str, list[Any]] = {}
    async with sessions() as session:
        for table in Base.metadata.sorted_tables:
            refs = [fk.parent for fk in table.foreign_keys if fk.column.table.name == "appointments"]
            for ref in refs:
                found[table.name] = list((await session.execute(table.select().where(ref == appointment_id))).all())
    return found


async def test_nothing_of_a_call_is_left_after_its_period(
    world: World, sessions: async_sessionmaker[AsyncSession], policy: Policy
) -> None:
    old = await call(world, sessions, end=NOW - 31 * DAY, tag="old")
    fresh = await call(world, sessions, end=NOW - 29 * DAY, tag="fresh")
    fresh_rows = await rows_of(sessions, fresh)

    report = await run(sessions, policy)

    assert (report.deleted_call_participants, report.deleted_identity_codes) == (3, 1)
    assert (report.deleted_interpreter_invitations, report.cleared_call_details) == (1, 1)
    # The call's own rows are gone, in every table that refers to an appointment.
    left = await rows_of(sessions, old)
    assert set(left) >= {"call_participants", "identity_codes", "interpreter_invitations"}
    assert {name: rows for name, rows in left.items() if rows} == {}
    # The appointment keeps its statistics and the policy's metadata, nothing else.
    async with sessions() as session:
        row = await session.get_one(Appointment, old)
    columns = {column.key: getattr(row, column.key) for column in Appointment.__table__.columns}
    assert {key: value for key, value in columns.items() if key not in KEPT and value not in ("", None)} == {}
    assert (row.identity_document, row.outcome, row.call_ended_at) == ("Personalausweis", "completed", NOW - 31 * DAY)
    # The audit log keeps who did what with the metadata; the connection test's verdict is gone.
    async with sessions() as session:
        entries = (await session.scalars(select(AuditEntry).where(AuditEntry.subject == f"appointment:{old}"))).all()
    assert sorted((entry.action, entry.details) for entry in entries) == [
        ("call.ended", {"outcome": "completed"}),
        ("call.identity_checked", {"document": "Personalausweis"}),
    ]
    # No planted value of the old call anywhere in the database; the fresh call is untouched.
    text = await database_text(sessions)
    assert [value for value in planted("old").values() if value in text] == []
    assert [value for value in planted("fresh").values() if value not in text] == []
    assert await rows_of(sessions, fresh) == fresh_rows
    # And the next run finds nothing more to do.
    assert (await run(sessions, policy)).total == 0


async def test_connection_test_results_follow_the_telemetry_period(
    world: World, sessions: async_sessionmaker[AsyncSession], policy: Policy
) -> None:
    short = dataclasses.replace(policy.retention, client_telemetry=10 * DAY)
    policy = dataclasses.replace(policy, retention=short)
    appointment_id = await call(world, sessions, end=NOW - 11 * DAY, tag="t")

    report = await run(sessions, policy)

    assert (report.cleared_connection_tests, report.deleted_call_participants) == (1, 0)
    async with sessions() as session:
        members = (
            await session.scalars(select(CallParticipant).where(CallParticipant.appointment_id == appointment_id))
        ).all()
        actions = set(await session.scalars(select(AuditEntry.action)))
    assert {member.role: member.connection_test for member in members} == {
        "citizen": None,
        "clerk": None,
        "interpreter": None,
    }
    assert "connection_test.result" not in actions
    assert planted("t")["verdict"] not in await database_text(sessions)


async def test_metadata_the_policy_does_not_list_goes_with_the_call_data(
    world: World, sessions: async_sessionmaker[AsyncSession], policy: Policy
) -> None:
    listed = tuple(item for item in policy.recording.call_metadata if item != "identity_check_document_type")
    policy = dataclasses.replace(policy, recording=dataclasses.replace(policy.recording, call_metadata=listed))
    appointment_id = await call(world, sessions, end=NOW - 31 * DAY, tag="m")

    await run(sessions, policy)

    async with sessions() as session:
        row = await session.get_one(Appointment, appointment_id)
    assert (row.identity_document, row.identity_checked_at, row.outcome) == (None, None, "completed")
