"""With Secure cookies (HTTPS deployments) the browser signs in through the __Host- prefixed cookies.

Chromium treats http://127.0.0.1 as a secure context, so it stores Secure and __Host- cookies
from the test server as it would from https://termine.example.de.
"""

from __future__ import annotations

import re

import pyotp
import pytest
from aiohttp import web
from playwright.async_api import Browser, expect

from tests.browser.conftest import PageErrors, new_page
from tests.browser.test_staff_browser import at_app_time, password_of, secret_of, sign_in
from vibue.core.clock import ManualClock
from vibue.core.settings import Settings


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.replace(secure_cookies=True)


async def test_clerk_signs_in_and_out_with_host_prefixed_cookies(
    browser: Browser, base_url: str, app: web.Application, clock: ManualClock, page_errors: PageErrors
) -> None:
    page = await new_page(browser, page_errors)
    await at_app_time(page, clock)
    code = pyotp.TOTP(await secret_of(app, "s.berger")).at(clock.now())
    await sign_in(page, base_url, "s.berger", password_of("s.berger"), code)  # CSRF: __Host-vibue_csrf
    await expect(page).to_have_url(re.compile(r"/sachbearbeitung$"))
    await expect(page.get_by_test_id("staff-info")).to_contain_text("Sabine Berger")
    names = {cookie["name"]: cookie for cookie in await page.context.cookies()}
    assert {"__Host-vibue_csrf", "__Host-vibue_staff"} <= set(names)
    assert "vibue_csrf" not in names and "vibue_staff" not in names
    assert names["__Host-vibue_staff"]["secure"] and names["__Host-vibue_staff"]["httpOnly"]

    await page.get_by_test_id("sign-out").click()
    await expect(page).to_have_url(re.compile(r"/anmelden"))
    assert "__Host-vibue_staff" not in {cookie["name"] for cookie in await page.context.cookies()}
    assert page_errors.errors == []
