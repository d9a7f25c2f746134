"""Real test databases: a migrated template per backend, cloned for each test.

Migrating once and cloning (file copy on SQLite, CREATE DATABASE ... TEMPLATE on PostgreSQL)
keeps every test isolated without paying for the migrations each time.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import asyncpg

from vibue.core.db import make_engine, migrate

PG_ADMIN_DSN = os.environ.get("VIBUE_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")
# One template per test process, so parallel runs on one machine never drop each other's.
PG_TEMPLATE = f"vibue_test_template_{os.getpid()}"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def pg_url(database: str) -> str:
    base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    return f"{base}/{database}"


async def pg_available() -> bool:
    try:
        connection = await asyncpg.connect(PG_ADMIN_DSN, timeout=5)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    await connection.close()
    return True


async def admin_sql(sql: str) -> None:
    connection = await asyncpg.connect(PG_ADMIN_DSN, timeout=10)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


async def build_pg_template() -> None:
    await admin_sql(f'DROP DATABASE IF EXISTS "{PG_TEMPLATE}" WITH (FORCE)')
    await admin_sql(f'CREATE DATABASE "{PG_TEMPLATE}"')
    engine = make_engine(pg_url(PG_TEMPLATE))
    try:
        await migrate(engine)
    finally:
        await engine.dispose()


async def clone_pg() -> tuple[str, str]:
    name = f"vibue_t_{uuid.uuid4().hex[:12]}"
    await admin_sql(f'CREATE DATABASE "{name}" TEMPLATE "{PG_TEMPLATE}"')
    return name, pg_url(name)


async def drop_pg(name: str) -> None:
    await admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def build_sqlite_template(folder: Path) -> Path:
    path = folder / "template.sqlite3"
    engine = make_engine(f"sqlite+aiosqlite:///{path}")
    try:
        await migrate(engine)
    finally:
        await engine.dispose()
    return path


def clone_sqlite(template: Path, folder: Path) -> str:
    target = folder / f"{uuid.uuid4().hex[:12]}.sqlite3"
    shutil.copyfile(template, target)
    return f"sqlite+aiosqlite:///{target}"
