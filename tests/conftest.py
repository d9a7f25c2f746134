"""Shared fixtures: real databases (SQLite and PostgreSQL), a real SMTP server, the app in-process."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from documents import pki
from tests import databases
from tests.smtp import MailCatcher
from vibue.core.clock import ManualClock
from vibue.core.db import make_engine, make_sessionmaker
from vibue.core.settings import Settings

# Monday 30 November 2026, 07:00 in Heidelberg: before opening, a full week ahead.
TEST_NOW = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _collect_garbage(_frozen_imports: None) -> Iterator[None]:
    """A socket or transport left open is reported when the garbage collector finds it; collecting
    after every test makes that warning (an error, see pyproject.toml) fail the test that leaked
    it instead of whichever test happens to run into the collection later."""
    yield
    gc.collect()


@pytest.fixture(scope="session")
def _frozen_imports() -> None:
    """What was built before the first test (the imported modules of the app, pyHanko, reportlab,
    Playwright, ...) lives for the whole session: frozen, the collection after each test skips it.
    It took ~90 ms per test otherwise, a tenth of the suite; what a test leaks is created after
    this, so it is still found."""
    gc.collect()
    gc.freeze()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return asyncio.run(databases.build_sqlite_template(tmp_path_factory.mktemp("sqlite-template")))


@pytest.fixture(scope="session")
def pg_template() -> Iterator[bool]:
    if not asyncio.run(databases.pg_available()):
        if databases.in_ci():
            pytest.fail("PostgreSQL at 127.0.0.1:5432 is required in CI and did not answer")
        pytest.skip("PostgreSQL not running (outside CI only)")
    asyncio.run(databases.build_pg_template())
    yield True
    asyncio.run(databases.drop_pg(databases.PG_TEMPLATE))


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A freshly migrated, empty database URL for one test, on each backend."""
    if request.param == "sqlite":
        yield databases.clone_sqlite(request.getfixturevalue("sqlite_template"), tmp_path)
        return
    request.getfixturevalue("pg_template")
    name, url = asyncio.run(databases.clone_pg())
    try:
        yield url
    finally:
        asyncio.run(databases.drop_pg(name))


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(db_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return make_sessionmaker(engine)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(TEST_NOW)


@pytest.fixture
def mail_catcher() -> Iterator[MailCatcher]:
    catcher = MailCatcher()
    catcher.start()
    yield catcher
    catcher.stop()


@pytest.fixture
def settings(db_url: str, tmp_path: Path, mail_catcher: MailCatcher) -> Settings:
    return Settings(
        data_dir=str(tmp_path / "data"),
        database_url=db_url,
        base_url="http://127.0.0.1:8080",
        secret_key="test-secret-key-that-is-long-enough-for-tests",
        mail_transport="smtp",
        smtp_port=mail_catcher.port,
        smtp_timeout=5.0,
        retention_interval_hours=0,
    )


@pytest.fixture(scope="session")
def development_pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One development PKI per test worker: its two RSA 3072 keys take a second or more to make."""
    data_dir = tmp_path_factory.mktemp("development-pki")
    return pki.ensure(data_dir, Settings().city_name).folder


# pytest tears fixtures down in the reverse order of their set-up. pytest-aiohttp's factories are
# often requested before `settings`, so the database was dropped and the SMTP server stopped while
# the app was still shutting down (its mail worker mid-send, the SMTP session's socket leaked).
# Requesting `settings` first makes every app stop before the services it uses.
@pytest.fixture
def aiohttp_client(settings: Settings, aiohttp_client: Any) -> Any:
    return aiohttp_client


@pytest.fixture
def aiohttp_server(settings: Settings, aiohttp_server: Any) -> Any:
    return aiohttp_server


@pytest.fixture
async def client(aiohttp_client: Any, settings: Settings, clock: ManualClock) -> TestClient[Any, Any]:
    from vibue.app import create_app

    app = create_app(settings, clock=clock)
    test_client: TestClient[Any, Any] = await aiohttp_client(app)
    return test_client


@pytest.fixture
async def redis_prefix() -> AsyncIterator[str]:
    """A key prefix of this test's own in the real Redis at 127.0.0.1:6379; its keys go afterwards."""
    import uuid

    import redis.asyncio

    prefix = f"vibue-test-{uuid.uuid4().hex[:12]}"
    yield prefix
    client = redis.asyncio.from_url("redis://127.0.0.1:6379/0")
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}:*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()
