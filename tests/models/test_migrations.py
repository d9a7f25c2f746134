"""Migrations run from an empty database to head and back, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from tests import databases
from vibue.core.db import downgrade, make_engine, migrate
from vibue.models import Base


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def _roundtrip(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        assert await connection.run_sync(_tables) == set()
    await migrate(engine)
    async with engine.connect() as connection:
        tables = await connection.run_sync(_tables)
    assert set(Base.metadata.tables) <= tables
    await downgrade(engine, "base")
    async with engine.connect() as connection:
        assert await connection.run_sync(_tables) == {"alembic_version"}
    await migrate(engine)


async def test_sqlite_empty_to_head_and_back(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'm.sqlite3'}")
    try:
        await _roundtrip(engine)
    finally:
        await engine.dispose()


async def test_postgresql_empty_to_head_and_back(pg_template: bool) -> None:
    name = "vibue_migration_test"
    await databases.admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await databases.admin_sql(f'CREATE DATABASE "{name}"')
    engine = make_engine(databases.pg_url(name))
    try:
        await _roundtrip(engine)
    finally:
        await engine.dispose()
        await databases.drop_pg(name)


async def test_sql_errors_do_not_quote_personal_data(tmp_path: Path) -> None:
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'p.sqlite3'}")
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE people (email TEXT UNIQUE)"))
            await connection.execute(text("INSERT INTO people VALUES (:email)"), {"email": "erika@example.org"})
        with pytest.raises(IntegrityError) as raised:
            async with engine.begin() as connection:
                await connection.execute(text("INSERT INTO people VALUES (:email)"), {"email": "erika@example.org"})
        assert "erika@example.org" not in str(raised.value)
    finally:
        await engine.dispose()


async def test_the_migrations_build_exactly_the_models(engine: AsyncEngine) -> None:
    """Head of the migrations and the ORM models agree (the db_url fixture migrated to head)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    async with engine.connect() as connection:
        diff = await connection.run_sync(lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata))
    assert diff == []
