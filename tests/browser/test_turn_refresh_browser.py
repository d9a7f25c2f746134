"""TURN credentials in the browser: handed out with the admission and refreshed before they expire,
so an ICE restart late in a long call still finds a relay (docs/signaling.md, `ice.refresh`)."""

from __future__ import annotations

import pytest
from aiohttp import web
from playwright.async_api import Browser, Page

from tests.browser.conftest import PageErrors
from tests.browser.test_call_browser import KEEP_PEERS, LIVE_PEER, decodes_video, start_call
from tests.smtp import MailCatcher
from vibue.core.clock import ManualClock
from vibue.core.settings import Settings

TTL_SECONDS = 20


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # Nothing listens on the discard port: the call connects directly on loopback anyway.
    return settings.replace(
        turn_urls="turn:127.0.0.1:9?transport=udp", turn_secret="turn-test-secret", turn_ttl_seconds=TTL_SECONDS
    )


async def turn_expiry(page: Page) -> int:
    """The expiry (unix seconds) in the TURN user name the page's peer connection is configured with."""
    username = await page.evaluate(
        f"{LIVE_PEER}.getConfiguration().iceServers.map((s) => s.username).find(Boolean) || ''"
    )
    assert username, "no TURN server in the peer connection's configuration"
    return int(username.split(":")[0])


async def test_turn_credentials_are_refreshed_before_they_expire(
    browser: Browser,
    base_url: str,
    app: web.Application,
    clock: ManualClock,
    mail_catcher: MailCatcher,
    page_errors: PageErrors,
) -> None:
    citizen, clerk, _ = await start_call(
        browser, base_url, app, clock, mail_catcher, page_errors, init_script=KEEP_PEERS
    )
    first = {page: await turn_expiry(page) for page in (citizen, clerk)}
    # The server's time moves on, so a credential issued from now on expires later.
    clock.advance(seconds=3 * TTL_SECONDS)
    for page in (citizen, clerk):
        for _ in range(120):  # the page asks half-way to the expiry, at least 10 s apart
            if await turn_expiry(page) > first[page]:
                break
            await page.wait_for_timeout(500)
        else:
            raise AssertionError(f"TURN credentials never refreshed on {page.url}")
    for page in (citizen, clerk):
        await decodes_video(page)
    assert page_errors.errors == []
