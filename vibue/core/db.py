"""Database engine, session maker and migrations (Alembic, run at start)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from vibue.core.errors import DomainError

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"
# Values per `IN (...)` list: well inside every SQLite build's limit on bound parameters (999 in old ones).
IN_LIST_LIMIT = 500
V = TypeVar("V", int, str)


def in_lists(values: Iterable[V]) -> Iterator[list[V]]:
    """`values` without repeats, sorted, in lists of at most IN_LIST_LIMIT: one statement each."""
    ordered = sorted(set(values))
    for start in range(0, len(ordered), IN_LIST_LIMIT):
        yield ordered[start : start + IN_LIST_LIMIT]


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An engine with the pragmas we rely on: WAL, foreign keys and a generous busy timeout on SQLite."""
    # SQL errors would otherwise quote their parameters (addresses, names) into logged tracebacks.
    kwargs.setdefault("hide_parameters", True)
    if is_sqlite(url):
        if ":///" in url and not url.endswith(":memory:"):
            Path(url.split(":///", 1)[1]).parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("connect_args", {"timeout": 30})
        kwargs.setdefault("pool_size", 8)
        kwargs.setdefault("max_overflow", 8)
        kwargs.setdefault("pool_timeout", 60)
        engine = create_async_engine(url, **kwargs)

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 10)
    kwargs.setdefault("pool_timeout", 60)
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(url, **kwargs)


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def unit_of_work(maker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One transaction: committed when the block ends, rolled back when it raises.

    The one way to "commit, then fail": a DomainError raised with `keeping_changes()` (a wrong code
    counted, a refusal audited) commits what the block wrote, then reaches the caller.
    """
    kept: DomainError | None = None
    async with maker.begin() as session:
        try:
            yield session
        except DomainError as error:
            if not error.keep_changes:
                raise
            kept = error
    if kept is not None:
        raise kept


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def _upgrade(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


def _downgrade(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.downgrade(config, revision)


async def migrate(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the schema to `revision`. Alembic is synchronous; it runs on the async connection's greenlet."""
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade, revision)


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    async with engine.begin() as connection:
        await connection.run_sync(_downgrade, revision)


async def ping(engine: AsyncEngine, seconds: float = 5.0) -> None:
    """Raise if the database does not answer a trivial query in time."""
    async with asyncio.timeout(seconds), engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
