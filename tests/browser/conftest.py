"""Browser tests: the real app on a real TCP port, driven by Playwright in Debian's Chromium.

Never a downloaded browser: /usr/bin/chromium (make test installs it with apt-get when missing).
Chromium gets fake camera and microphone devices, so later call tests need no hardware.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, BrowserContext, ConsoleMessage, Page, async_playwright, expect

import documents
import signaling
from tests import databases
from tests.helpers import with_development_pki
from vibue.app import create_app
from vibue.core.clock import ManualClock
from vibue.core.settings import Settings

CHROMIUM = os.environ.get("VIBUE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # we run as root in CI
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--use-fake-ui-for-media-stream",
    # 10 frames a second instead of 30: two browsers encode and decode each other's video in every
    # call test, and on two cores that was what the suite waited for most.
    "--use-fake-device-for-media-stream=fps=10",
]
PHONE = {"width": 375, "height": 740}

# Assertions wait as long as actions do (Page.set_default_timeout below). Playwright's 5 s default
# was too short on a 2-core CI machine running two browsers side by side; waiting longer cannot
# turn a wrong page into a passing test, it only gives a slow right one the time it needs.
expect.set_options(timeout=15_000)
DESKTOP = {"width": 1280, "height": 900}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture
def db_url(tmp_path: Path, sqlite_template: Path) -> str:
    """Browser tests run on SQLite; the API suites cover both databases."""
    return databases.clone_sqlite(sqlite_template, tmp_path)


@pytest.fixture
def port(unused_tcp_port: int) -> int:
    return unused_tcp_port


@pytest.fixture
def settings(settings: Settings, port: int, development_pki: Path) -> Settings:
    # Documents are rendered and sealed in threads (seal_workers=0): spawning the worker processes
    # would cost every app here seconds; test_documents_in_call_browser.py issues through them.
    served = settings.replace(base_url=f"http://127.0.0.1:{port}", port=port, seal_workers=0)
    return with_development_pki(served, development_pki)


@pytest.fixture
def app(settings: Settings, clock: ManualClock) -> web.Application:
    return create_app(settings, clock=clock, setups=[signaling.setup, documents.setup])  # as run.py builds it


@pytest.fixture
async def base_url(aiohttp_server: Any, app: web.Application, port: int) -> str:
    server = await aiohttp_server(app, port=port)
    return f"http://127.0.0.1:{server.port}"


@pytest.fixture(scope="session")
def chromium() -> str:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make test`, which installs Debian's chromium")
    return CHROMIUM


@pytest.fixture
async def browser(chromium: str, base_url: str) -> AsyncIterator[Browser]:
    # Depends on base_url so the browser closes first: the server's shutdown would otherwise wait
    # for the pages' open WebSockets until its timeout.
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
        yield launched
        await launched.close()


class PageErrors:
    """Collects JavaScript errors and failed console output; a test ends by asserting there are none."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def attach(self, page: Page) -> None:
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        page.on("console", self._console)

    def _console(self, message: ConsoleMessage) -> None:
        # 4xx answers the page handles itself show up as "Failed to load resource"; they are expected.
        if message.type == "error" and "Failed to load resource" not in message.text:
            self.errors.append(f"console: {message.text}")


@pytest.fixture
def page_errors() -> PageErrors:
    return PageErrors()


async def new_page(
    browser: Browser, errors: PageErrors, *, viewport: dict[str, int] = DESKTOP, locale: str = "de-DE"
) -> Page:
    context: BrowserContext = await browser.new_context(
        viewport=viewport,  # type: ignore[arg-type]
        locale=locale,  # also the Accept-Language the browser sends
        timezone_id="Europe/Berlin",
        is_mobile=viewport["width"] < 500,
        has_touch=viewport["width"] < 500,
    )
    page = await context.new_page()
    page.set_default_timeout(15_000)
    errors.attach(page)
    return page


async def assert_accessible(page: Page) -> None:
    """axe-core in the page: no serious or critical violation."""
    results = await Axe().run(page)
    bad = [v for v in results.response["violations"] if v.get("impact") in {"serious", "critical"}]
    report = "\n".join(f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:5]}" for v in bad)
    assert not bad, f"accessibility violations on {page.url}:\n{report}"


async def assert_no_horizontal_scroll(page: Page) -> None:
    overflow = await page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 1, f"{page.url} scrolls sideways by {overflow}px at phone width"
