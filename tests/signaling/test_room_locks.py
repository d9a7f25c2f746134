"""Changes of one room happen one after the other across server processes (PostgreSQL).

Each test holds one transaction open half-way, as a process in the middle of handling an event
would, and starts the competing change in a second transaction, as the other process would. The
competing change must wait for the first to commit and then see its result; reading the old state
would admit a citizen twice, or start a grace period for a connection that was already replaced.
SQLite serves one process (its writers are serialised anyway), so these run on PostgreSQL only.
The last test, about which drop a grace deadline belongs to, rides along on the same set-up.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.common import add_checked_in_citizens
from signaling import grace, rooms
from tests import databases
from tests.conftest import TEST_NOW
from vibue.core.errors import Conflict
from vibue.core.settings import Settings
from vibue.models import AuditEntry, CallParticipant, Staff
from vibue.seed import seed_demo

# Long enough for the competing transaction to read and write if nothing stopped it.
HEAD_START = 0.5
GRACE = timedelta(seconds=60)


@pytest.fixture
def db_url(pg_template: bool) -> Iterator[str]:
    name, url = asyncio.run(databases.clone_pg())
    try:
        yield url
    finally:
        asyncio.run(databases.drop_pg(name))


@pytest.fixture
async def room(sessions: async_sessionmaker[AsyncSession], settings: Settings) -> tuple[int, int]:
    """A checked-in citizen's appointment; yields (appointment id, citizen participant id)."""
    async with sessions.begin() as session:
        await seed_demo(session=session, now=TEST_NOW, settings=settings)
    async with sessions.begin() as session:
        [checked_in] = await add_checked_in_citizens(
            session, count=1, now=TEST_NOW, expires=TEST_NOW + timedelta(hours=1), secret=settings.secret_key
        )
        citizen = await session.scalar(
            select(CallParticipant.id).where(CallParticipant.appointment_id == checked_in.appointment_id)
        )
        assert citizen is not None
    return checked_in.appointment_id, citizen


async def clerk(session: AsyncSession, username: str = "s.berger") -> Staff:
    staff = await session.scalar(select(Staff).where(Staff.username == username))
    assert staff is not None
    return staff


async def while_open(first: AsyncSession, competing: Awaitable[Any]) -> Any:
    """Start `competing` while `first` holds its transaction open, then commit `first`."""
    task = asyncio.ensure_future(competing)
    await asyncio.sleep(HEAD_START)
    waited = not task.done()
    await first.commit()
    result = await asyncio.gather(task, return_exceptions=True)
    assert waited, "the competing change did not wait for the open transaction"
    return result[0]


async def test_two_processes_admitting_at_once_admit_once(
    sessions: async_sessionmaker[AsyncSession], room: tuple[int, int]
) -> None:
    appointment_id, _ = room

    async def second_admit() -> None:
        async with sessions.begin() as session:
            await rooms.admit(
                session, staff=await clerk(session, "a.schmidt"), appointment_id=appointment_id, now=TEST_NOW
            )

    async with sessions() as first:
        await rooms.admit(first, staff=await clerk(first), appointment_id=appointment_id, now=TEST_NOW)
        await first.flush()
        outcome = await while_open(first, second_admit())
    assert isinstance(outcome, Conflict) and outcome.code == "not_waiting"
    async with sessions() as session:
        admitted = await session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "call.admitted")
        )
    assert admitted == 1


async def test_a_reconnect_elsewhere_is_not_taken_for_the_old_connection_dropping(
    sessions: async_sessionmaker[AsyncSession], room: tuple[int, int]
) -> None:
    appointment_id, citizen = room
    async with sessions.begin() as session:
        await rooms.connect_citizen(
            session, participant_id=citizen, appointment_id=appointment_id, sid="old", process_id="p1", now=TEST_NOW
        )

    async def old_connection_drops() -> bool:
        async with sessions.begin() as session:
            return await grace.disconnected(session, participant_id=citizen, sid="old", now=TEST_NOW, grace=GRACE)

    # The page reloads onto another process: the new connection is being registered there while
    # this process notices that the old one closed.
    async with sessions() as first:
        await rooms.connect_citizen(
            first, participant_id=citizen, appointment_id=appointment_id, sid="new", process_id="p2", now=TEST_NOW
        )
        await first.flush()
        started_grace = await while_open(first, old_connection_drops())
    assert started_grace is False
    async with sessions() as session:
        participant = await session.get(CallParticipant, citizen)
        assert participant is not None
        assert (participant.connection_sid, participant.disconnected_at) == ("new", None)


async def test_a_grace_deadline_belongs_to_the_latest_drop(
    sessions: async_sessionmaker[AsyncSession], room: tuple[int, int]
) -> None:
    # Dropped, back after 30 s, dropped again: the first drop's deadline must not end the second
    # connection's grace period; the deadline is the row's, so any process's sweep sees the latest.
    appointment_id, citizen = room
    for n, sid in enumerate(("first", "second")):
        at = TEST_NOW + timedelta(seconds=30 * n)
        async with sessions.begin() as session:
            await rooms.connect_citizen(
                session, participant_id=citizen, appointment_id=appointment_id, sid=sid, process_id="p1", now=at
            )
        async with sessions.begin() as session:
            assert await grace.disconnected(session, participant_id=citizen, sid=sid, now=at, grace=GRACE)
    async with sessions.begin() as session:
        assert await grace.due(session, now=TEST_NOW + timedelta(seconds=61)) == []
        assert not await grace.expire(session, participant_id=citizen, now=TEST_NOW + timedelta(seconds=61))
    async with sessions.begin() as session:
        assert await grace.due(session, now=TEST_NOW + timedelta(seconds=90)) == [(appointment_id, citizen)]
        assert await grace.expire(session, participant_id=citizen, now=TEST_NOW + timedelta(seconds=90))
