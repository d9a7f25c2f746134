"""The connection test in Chromium: web/js/connection-test.js with fake camera and microphone makes
a real WebRTC connection to the server's echo peer, shows a verdict and stores it for the clerk."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from aiohttp import web
from playwright.async_api import Browser, expect
from sqlalchemy import select

import signaling
from signaling.echo import ECHO
from tests.browser.conftest import PageErrors, assert_accessible, new_page
from tests.calls import booked_video
from tests.smtp import MailCatcher
from vibue.app import create_app
from vibue.core.clock import ManualClock
from vibue.core.settings import Settings
from vibue.models import AuditEntry, CallParticipant
from vibue.web.appkeys import SESSIONS

START = "2026-11-30T08:00:00+01:00"

# Renders the section into the page with the real module and German catalog; the test clicks.
MOUNT = """
async (token) => {
  const mod = await import('/static/js/connection-test.js');
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
  const catalog = await (await fetch('/static/i18n/de.json')).json();
  const t = (key, params = {}) => (catalog[key] ?? key)
    .replace(/\\{(\\w+)\\}/g, (m, name) => (name in params ? String(params[name]) : m));
  window.conntestPhases = [];
  const main = document.querySelector('main') || document.body;
  const container = document.createElement('div');
  main.prepend(container);
  const ui = mod.renderConnectionTest(container, t, {
    run: async () => {
      const outcome = await mod.runConnectionTest({
        token,
        stream,
        onProgress: (p) => { window.conntestPhases.push(p.phase); ui.progress(p); },
      });
      window.conntestOutcome = outcome;
      stream.getTracks().forEach((track) => track.stop());
      return outcome;
    },
  });
}
"""


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.replace(min_lead_minutes=0)


@pytest.fixture
def app(settings: Settings, clock: ManualClock) -> web.Application:
    return create_app(settings, clock=clock, setups=[signaling.setup])


async def test_the_connection_test_in_the_browser(
    browser: Browser,
    base_url: str,
    app: web.Application,
    clock: ManualClock,
    mail_catcher: MailCatcher,
    page_errors: PageErrors,
) -> None:
    async with aiohttp.ClientSession(base_url=base_url, cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        token = await booked_video(session, mail_catcher, start=START, email="erika@example.org")
    clock.advance(minutes=61)  # 08:01: the room is open

    page = await new_page(browser, page_errors)
    await page.goto(base_url + "/")
    await page.evaluate(MOUNT, token)
    section = page.get_by_test_id("conntest")
    await expect(section.get_by_role("heading", name="Verbindungstest")).to_be_visible()
    await assert_accessible(page)

    await page.get_by_test_id("conntest-start").click()
    verdict = page.get_by_test_id("conntest-verdict")
    await expect(verdict).to_be_visible(timeout=30_000)
    outcome: dict[str, Any] = await page.evaluate("window.conntestOutcome")
    assert outcome["verdict"] in ("good", "limited"), outcome
    assert outcome["stored"] is True
    assert outcome["rtt_ms"] is not None and outcome["rtt_ms"] < 300
    assert outcome["bitrate_kbps"] > 0
    assert await page.evaluate("window.conntestPhases") == ["connecting", "measuring", "reporting"]
    word = {"good": "gut", "limited": "eingeschränkt"}[outcome["verdict"]]
    await expect(verdict).to_contain_text(f"Ergebnis: {word}")
    await expect(page.get_by_test_id("conntest-status")).to_have_text("Der Verbindungstest ist abgeschlossen.")
    await expect(page.get_by_test_id("conntest-start")).to_have_text("Erneut testen")

    async with app[SESSIONS]() as db:
        stored = await db.scalar(select(CallParticipant.connection_test).where(CallParticipant.role == "citizen"))
        audit = await db.scalar(select(AuditEntry.details).where(AuditEntry.action == "connection_test.result"))
    assert stored is not None
    assert (stored["verdict"], stored["reason"]) == (outcome["verdict"], outcome["reason"])
    assert stored["server"]["packets"] > 0  # the echo peer received the fake camera and microphone
    assert audit == {"verdict": outcome["verdict"]}
    assert app[ECHO].open == 0  # reported: the server closed its peer
    assert page_errors.errors == []
