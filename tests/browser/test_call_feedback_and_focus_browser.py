"""Small things around the call in Chromium, each with the real module: the connection test's
verdict (no stray "null", read out to screen readers), its start button keeping keyboard focus
while the test runs, the chat keeping what was typed while a message was on its way, and the
clerk's day heading taking focus when a call ends."""

from __future__ import annotations

import re

import pyotp
from aiohttp import web
from playwright.async_api import Browser, Page, expect

from tests.browser.conftest import PageErrors, new_page
from tests.browser.test_staff_browser import password_of, secret_of, sign_in
from vibue.core.clock import ManualClock

# The connection-test section with a stand-in for the measurement: the test decides when it
# ends (window.finishTest(outcome)) and what it found.
MOUNT_CONNTEST = """
async () => {
  const mod = await import('/static/js/connection-test.js');
  let catalog = await (await fetch('/static/i18n/de.json')).json();
  window.useCatalog = async (lang) => { catalog = await (await fetch(`/static/i18n/${lang}.json`)).json(); };
  const t = (key, params = {}) => (catalog[key] ?? key)
    .replace(/\\{(\\w+)\\}/g, (m, name) => (name in params ? String(params[name]) : m));
  window.conntestRuns = 0;
  const container = document.createElement('div');
  (document.querySelector('main') || document.body).prepend(container);
  window.conntestUi = mod.renderConnectionTest(container, t, {
    run: () => {
      window.conntestRuns += 1;
      return new Promise((resolve) => { window.finishTest = resolve; });
    },
  });
}
"""

# A chat panel whose sends are acknowledged when the test says so (window.ack()).
MOUNT_CHAT = """
async () => {
  const { ChatPanel } = await import('/static/js/chat.js');
  window.sent = [];
  const panel = new ChatPanel({
    idPrefix: 'polish',
    send: (text) => {
      window.sent.push(text);
      return new Promise((resolve) => { window.ack = resolve; });
    },
    who: () => 'Erika',
  });
  (document.querySelector('main') || document.body).prepend(panel.element);
}
"""

FINISH_ONCE = "(outcome) => { const finish = window.finishTest; window.finishTest = undefined; finish(outcome); }"
FOCUS_DAY_HEADING = (
    "async () => (await import('/static/js/dom.js')).focusHeading(document.getElementById('day-heading'))"
)

GOOD = {"verdict": "good", "reason": "good", "rtt_ms": 24, "loss": 0, "bitrate_kbps": 226, "stored": True}
NONE = {"verdict": "none", "reason": "no_connection", "rtt_ms": None, "loss": None, "bitrate_kbps": None}


async def conntest_page(browser: Browser, base_url: str, errors: PageErrors) -> Page:
    page = await new_page(browser, errors)
    await page.goto(base_url + "/")
    await page.evaluate(MOUNT_CONNTEST)
    return page


async def active_testid(page: Page) -> str | None:
    result: str | None = await page.evaluate("document.activeElement.dataset.testid ?? null")
    return result


async def test_the_verdict_shows_no_stray_null_and_is_read_out(
    browser: Browser, base_url: str, page_errors: PageErrors
) -> None:
    page = await conntest_page(browser, base_url, page_errors)
    verdict = page.get_by_test_id("conntest-verdict")
    for outcome, word in ((GOOD, "gut"), (NONE, "keine Verbindung")):
        await page.get_by_test_id("conntest-start").click()
        await page.wait_for_function("window.finishTest !== undefined")
        await page.evaluate(FINISH_ONCE, outcome)
        await expect(verdict).to_contain_text(f"Ergebnis: {word}")
        text = await verdict.inner_text()
        assert "null" not in text, text
        # The verdict and its reason reach screen readers through the page's polite live region.
        await expect(page.locator("#live-status")).to_have_text(re.compile(rf"^Ergebnis: {word}\. \S"))
    assert "Datenrate" not in await verdict.inner_text()  # "none" has no measurements
    assert page_errors.errors == []


async def test_a_language_switch_shows_the_same_result_in_the_new_language(
    browser: Browser, base_url: str, page_errors: PageErrors
) -> None:
    page = await conntest_page(browser, base_url, page_errors)
    await page.get_by_test_id("conntest-start").click()
    await page.wait_for_function("window.finishTest !== undefined")
    await page.evaluate(FINISH_ONCE, GOOD)
    await expect(page.get_by_test_id("conntest-verdict")).to_contain_text("Ergebnis: gut")
    await page.evaluate("async () => { await window.useCatalog('en'); window.conntestUi.retranslate(); }")
    section = page.get_by_test_id("conntest")
    await expect(section.locator("h3")).to_have_text("Connection test")
    await expect(page.get_by_test_id("conntest-start")).to_have_text("Test again")
    await expect(page.get_by_test_id("conntest-status")).to_have_text("The connection test is finished.")
    await expect(page.get_by_test_id("conntest-verdict")).to_contain_text("Result: good")
    assert "Ergebnis" not in await section.inner_text()
    assert page_errors.errors == []


async def test_the_start_button_keeps_focus_while_the_test_runs(
    browser: Browser, base_url: str, page_errors: PageErrors
) -> None:
    page = await conntest_page(browser, base_url, page_errors)
    start = page.get_by_test_id("conntest-start")
    await start.click()
    await expect(page.get_by_test_id("conntest-status")).to_have_text("Verbindung wird aufgebaut …")
    assert await active_testid(page) == "conntest-start"
    await expect(start).to_have_attribute("aria-disabled", "true")
    await page.keyboard.press("Enter")  # busy: a second press does not start a second test
    await page.evaluate("(outcome) => window.finishTest(outcome)", GOOD)
    await expect(start).to_have_text("Erneut testen")
    await expect(start).not_to_have_attribute("aria-disabled", "true")
    assert await active_testid(page) == "conntest-start"
    assert await page.evaluate("window.conntestRuns") == 1
    assert page_errors.errors == []


async def test_the_chat_keeps_what_was_typed_while_a_message_was_sent(
    browser: Browser, base_url: str, page_errors: PageErrors
) -> None:
    page = await new_page(browser, page_errors)
    await page.goto(base_url + "/")
    await page.evaluate(MOUNT_CHAT)
    field = page.get_by_test_id("chat-input")

    await field.fill("Guten Morgen")
    await page.get_by_test_id("chat-send").click()
    await page.wait_for_function("window.ack !== undefined")
    await page.evaluate("() => { const ack = window.ack; window.ack = undefined; ack(); }")
    await expect(field).to_have_value("")  # sent and nothing new: the field is cleared

    await field.fill("Hören Sie mich?")
    await page.get_by_test_id("chat-send").click()
    await page.wait_for_function("window.ack !== undefined")
    await field.fill("Ich sehe Sie nicht")  # typed while the first message is on its way
    await page.evaluate("window.ack()")
    await expect(field).to_be_focused()
    await expect(field).to_have_value("Ich sehe Sie nicht")
    assert await page.evaluate("window.sent") == ["Guten Morgen", "Hören Sie mich?"]
    assert page_errors.errors == []


async def test_the_day_heading_can_take_focus_when_a_call_ends(
    browser: Browser, base_url: str, app: web.Application, clock: ManualClock, page_errors: PageErrors
) -> None:
    page = await new_page(browser, page_errors)
    code = pyotp.TOTP(await secret_of(app, "s.berger")).at(clock.now())
    await sign_in(page, base_url, "s.berger", password_of("s.berger"), code)
    await expect(page).to_have_url(re.compile(r"/sachbearbeitung$"))
    # clerk-call.js moves focus here with focusHeading() once a call has ended.
    await page.evaluate(FOCUS_DAY_HEADING)
    await expect(page.locator("#day-heading")).to_be_focused()
    assert page_errors.errors == []
