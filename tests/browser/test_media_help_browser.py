"""The pre-call page explains each camera/microphone failure in German with the next step.

Chromium here auto-accepts fake devices, so each failure is produced the way a browser reports
it: getUserMedia rejects with the DOMException name that browsers use for that case.
"""

from __future__ import annotations

import aiohttp
import pytest
from playwright.async_api import Browser, expect

from tests.booking_flow import confirmed_booking, offer
from tests.browser.conftest import PHONE, PageErrors, assert_accessible, new_page
from tests.browser.test_staff_browser import at_app_time
from tests.smtp import MailCatcher
from vibue.core.clock import ManualClock

FAIL_WITH = """
navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('simulated', '%s'));
"""
NO_WEBRTC = "delete window.RTCPeerConnection;"


@pytest.mark.parametrize(
    ("script", "heading", "step"),
    [
        (FAIL_WITH % "NotAllowedError", "Kamera oder Mikrofon sind gesperrt", "Zulassen"),
        (FAIL_WITH % "NotFoundError", "Keine Kamera oder kein Mikrofon gefunden", ""),
        (FAIL_WITH % "NotReadableError", "Kamera oder Mikrofon sind belegt", ""),
        (NO_WEBRTC, "Dieser Browser unterstützt keine Videotermine", ""),
    ],
    ids=["denied", "no-device", "busy", "unsupported"],
)
async def test_media_failures_get_german_help_with_a_next_step(
    browser: Browser,
    base_url: str,
    clock: ManualClock,
    mail_catcher: MailCatcher,
    page_errors: PageErrors,
    script: str,
    heading: str,
    step: str,
) -> None:
    async with aiohttp.ClientSession(base_url=base_url, cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        token = await confirmed_booking(session, mail_catcher, await offer(session), "2026-11-30T08:00:00+01:00")
    clock.advance(minutes=50)
    page = await new_page(browser, page_errors, viewport=PHONE)
    await at_app_time(page, clock)
    await page.add_init_script(script)
    await page.goto(f"{base_url}/video/{token}")
    help_box = page.get_by_test_id("media-help")
    await expect(help_box).to_be_visible()
    await expect(help_box).to_contain_text(heading)
    steps = help_box.locator("li")
    await expect(steps.first).not_to_be_empty()
    if step:
        await expect(help_box).to_contain_text(step)
    # Without camera and microphone the way on stays open (text chat), and the page stays usable.
    await expect(help_box).to_contain_text("Sie können trotzdem in den Warteraum gehen.")
    await expect(page.get_by_test_id("media-retry")).to_have_text("Erneut versuchen")
    await expect(page.get_by_test_id("request-code")).to_be_visible()
    await assert_accessible(page)
