"""The clerk's desk: walk-in buttons inside their panel at 1280 px; a question before a call ends as
completed without an identity check."""

from __future__ import annotations

import re

import pyotp
from aiohttp import web
from playwright.async_api import Browser, expect

from tests.browser.conftest import DESKTOP, PageErrors, assert_accessible, new_page
from tests.browser.test_call_browser import start_call
from tests.browser.test_staff_browser import at_app_time, password_of, secret_of, sign_in
from tests.calls import http
from tests.smtp import MailCatcher
from vibue.core.clock import ManualClock


async def test_the_walk_in_buttons_fit_their_panel_at_desktop_width(
    browser: Browser, base_url: str, app: web.Application, clock: ManualClock, page_errors: PageErrors
) -> None:
    page = await new_page(browser, page_errors, viewport=DESKTOP)
    await at_app_time(page, clock)
    code = pyotp.TOTP(await secret_of(app, "s.berger")).at(clock.now())
    await sign_in(page, base_url, "s.berger", password_of("s.berger"), code)
    await expect(page).to_have_url(re.compile(r"/sachbearbeitung$"))
    buttons = page.locator("button[data-testid^='walkin-']")
    await expect(buttons.first).to_be_visible()
    # Every walk-in row (button and count) ends inside the panel's padding, none sticks out.
    sticking_out = await page.evaluate(
        """() => {
          const panel = document.querySelector('.walkins');
          const inner = panel.getBoundingClientRect().right - parseFloat(getComputedStyle(panel).paddingRight);
          return [...panel.querySelectorAll('.walkin-button, .walkin-count')]
            .filter((el) => el.getBoundingClientRect().right > inner + 0.5)
            .map((el) => el.textContent);
        }"""
    )
    assert sticking_out == []
    assert page_errors.errors == []


async def test_the_clerk_is_asked_before_completing_a_call_without_an_identity_check(
    browser: Browser,
    base_url: str,
    app: web.Application,
    clock: ManualClock,
    mail_catcher: MailCatcher,
    page_errors: PageErrors,
) -> None:
    citizen, clerk, token = await start_call(browser, base_url, app, clock, mail_catcher, page_errors)
    dialog = clerk.get_by_test_id("unchecked-dialog")
    await clerk.get_by_test_id("outcome-completed").check()
    await clerk.get_by_test_id("end-call").click()
    await expect(dialog).to_be_visible()
    await expect(dialog).to_contain_text("keine Identitätsprüfung erfasst")
    await expect(clerk.get_by_test_id("unchecked-back")).to_be_focused()  # the safe choice first
    await assert_accessible(clerk)

    await clerk.keyboard.press("Enter")  # back: the call goes on
    await expect(dialog).to_be_hidden()
    await expect(clerk.get_by_test_id("end-call")).to_be_focused()
    await expect(citizen.get_by_test_id("call-view")).to_be_visible()
    await clerk.get_by_test_id("end-call").click()
    await clerk.keyboard.press("Escape")  # Escape goes back too
    await expect(dialog).to_be_hidden()
    await expect(citizen.get_by_test_id("call-ended")).to_be_hidden()

    await clerk.get_by_test_id("end-call").click()
    await clerk.get_by_test_id("unchecked-confirm").click()
    await expect(citizen.get_by_test_id("call-ended")).to_be_visible()
    # The citizen's hidden live region no longer speaks of the call: the focused heading says it ended.
    await expect(citizen.locator("#live-status")).to_have_text("")
    async with http(base_url) as session, session.get(f"/api/bookings/{token}") as answer:
        assert (await answer.json())["status"] == "completed"
    assert page_errors.errors == []


async def test_with_the_identity_checked_the_call_completes_without_asking(
    browser: Browser,
    base_url: str,
    app: web.Application,
    clock: ManualClock,
    mail_catcher: MailCatcher,
    page_errors: PageErrors,
) -> None:
    citizen, clerk, _ = await start_call(browser, base_url, app, clock, mail_catcher, page_errors)
    await clerk.get_by_role("button", name="English").click()
    await clerk.get_by_test_id("outcome-completed").check()
    await clerk.get_by_test_id("end-call").click()
    await expect(clerk.get_by_test_id("unchecked-dialog")).to_contain_text("No identity check is recorded")
    await clerk.get_by_test_id("unchecked-back").click()
    await clerk.get_by_test_id("identity-document").select_option("personalausweis")
    await clerk.get_by_test_id("identity-confirm").click()
    await expect(clerk.get_by_test_id("identity-status")).to_have_attribute("data-checked", "true")
    await clerk.get_by_test_id("end-call").click()
    await expect(citizen.get_by_test_id("call-ended")).to_be_visible()
    await expect(clerk.get_by_test_id("unchecked-dialog")).to_be_hidden()
    assert page_errors.errors == []
