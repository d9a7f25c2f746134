"""Staff sign in with password and TOTP in the browser; lockout; a role that may not see the desk."""

from __future__ import annotations

import asyncio
import re

import pyotp
from aiohttp import web
from playwright.async_api import Browser, Page, Route, expect
from sqlalchemy import select

from tests.browser.conftest import PHONE, PageErrors, assert_accessible, assert_no_horizontal_scroll, new_page
from vibue.core.clock import ManualClock
from vibue.models import Staff
from vibue.seed import DEMO_STAFF
from vibue.web.appkeys import SESSIONS


async def secret_of(app: web.Application, username: str) -> str:
    async with app[SESSIONS]() as session:
        secret = await session.scalar(select(Staff.totp_secret).where(Staff.username == username))
    assert secret
    return secret


def password_of(username: str) -> str:
    return next(d.password for d in DEMO_STAFF if d.username == username)


async def sign_in(page: Page, base_url: str, username: str, password: str, code: str) -> None:
    await page.goto(base_url + "/anmelden")
    await page.get_by_test_id("signin-username").fill(username)
    await page.get_by_test_id("signin-password").fill(password)
    await page.get_by_test_id("signin-code").fill(code)
    await page.get_by_test_id("signin-submit").click()


async def at_app_time(page: Page, clock: ManualClock) -> None:
    # The clerk page asks for "today" by the browser's calendar; align it with the app's clock.
    await page.clock.set_system_time(clock.now())


async def test_clerk_signs_in_with_totp_sees_the_day_and_counts_a_walk_in(
    browser: Browser, base_url: str, app: web.Application, clock: ManualClock, page_errors: PageErrors
) -> None:
    page = await new_page(browser, page_errors)
    await at_app_time(page, clock)
    await page.goto(base_url + "/anmelden")
    await assert_accessible(page)
    code = pyotp.TOTP(await secret_of(app, "s.berger")).at(clock.now())
    await sign_in(page, base_url, "s.berger", password_of("s.berger"), code)
    await expect(page).to_have_url(re.compile(r"/sachbearbeitung$"))
    await expect(page.get_by_test_id("staff-info")).to_contain_text("Sabine Berger")
    await expect(page.get_by_test_id("day-table")).to_be_visible()

    walk_in = page.locator("button[data-testid^='walkin-']").filter(has_text="Meldebescheinigung").first
    count_id = (await walk_in.get_attribute("data-testid") or "").replace("walkin-", "walkin-count-")
    await walk_in.click()
    await expect(page.get_by_test_id(count_id)).to_contain_text("1")
    await walk_in.click()
    await expect(page.get_by_test_id(count_id)).to_contain_text("2")

    # The same code a second time is a replay: refused even with the right password.
    await page.get_by_test_id("sign-out").click()
    await expect(page).to_have_url(re.compile(r"/anmelden$"))
    await sign_in(page, base_url, "s.berger", password_of("s.berger"), code)
    await expect(page.get_by_test_id("signin-alert")).to_contain_text("falsch")
    assert page_errors.errors == []


async def test_enter_before_the_script_is_ready_never_puts_the_password_in_the_address(
    browser: Browser, base_url: str, app: web.Application, clock: ManualClock, page_errors: PageErrors
) -> None:
    """On a slow line a password manager's Enter can come before sign-in.js has bound the form.

    A native submit would be a GET with the password in the address bar, history and server log;
    the disabled default button stops it, and what was typed stays for the real sign-in.
    """
    page = await new_page(browser, page_errors)
    await at_app_time(page, clock)
    release = asyncio.Event()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))

    async def hold_config(route: Route) -> None:
        await release.wait()
        await route.continue_()

    await page.route("**/api/config", hold_config)
    await page.goto(base_url + "/anmelden", wait_until="domcontentloaded")
    submit = page.get_by_test_id("signin-submit")
    await expect(submit).to_be_disabled()
    password = password_of("s.berger")
    await page.get_by_test_id("signin-username").fill("s.berger")
    await page.get_by_test_id("signin-password").fill(password)
    await page.get_by_test_id("signin-password").press("Enter")

    release.set()
    await expect(submit).to_be_enabled()
    assert not [url for url in requested if "password" in url or password in url]
    await expect(page.get_by_test_id("signin-password")).to_have_value(password)
    await page.get_by_test_id("signin-code").fill(pyotp.TOTP(await secret_of(app, "s.berger")).at(clock.now()))
    await page.get_by_test_id("signin-code").press("Enter")
    await expect(page).to_have_url(re.compile(r"/sachbearbeitung$"))
    assert page_errors.errors == []


async def test_five_failures_lock_the_account(
    browser: Browser, base_url: str, app: web.Application, clock: ManualClock, page_errors: PageErrors
) -> None:
    page = await new_page(browser, page_errors, viewport=PHONE)
    for _ in range(5):
        await sign_in(page, base_url, "m.yilmaz", password_of("m.yilmaz"), "000000")
        await expect(page.get_by_test_id("signin-alert")).to_contain_text("falsch")
    await assert_no_horizontal_scroll(page)
    right = pyotp.TOTP(await secret_of(app, "m.yilmaz")).at(clock.now())
    await sign_in(page, base_url, "m.yilmaz", password_of("m.yilmaz"), right)
    await expect(page.get_by_test_id("signin-alert")).to_contain_text("15 Minuten gesperrt")
    await expect(page).to_have_url(re.compile(r"/anmelden$"))

    clock.advance(minutes=16)
    later = pyotp.TOTP(await secret_of(app, "m.yilmaz")).at(clock.now())
    await sign_in(page, base_url, "m.yilmaz", password_of("m.yilmaz"), later)
    await expect(page).to_have_url(re.compile(r"/sachbearbeitung$"))
    assert page_errors.errors == []


async def test_support_staff_may_not_use_the_clerk_desk(
    browser: Browser, base_url: str, app: web.Application, clock: ManualClock, page_errors: PageErrors
) -> None:
    page = await new_page(browser, page_errors)
    await at_app_time(page, clock)
    code = pyotp.TOTP(await secret_of(app, "j.weber")).at(clock.now())
    await sign_in(page, base_url, "j.weber", password_of("j.weber"), code)
    await expect(page).to_have_url(re.compile(r"/sachbearbeitung$"))
    await expect(page.get_by_test_id("clerk-alert")).to_contain_text("Berechtigung")
    await expect(page.locator("button[data-testid^='walkin-']")).to_have_count(0)


async def test_signed_out_visitors_are_sent_to_sign_in(
    browser: Browser, base_url: str, page_errors: PageErrors
) -> None:
    page = await new_page(browser, page_errors)
    await page.goto(base_url + "/sachbearbeitung")
    await expect(page).to_have_url(re.compile(r"/anmelden"))
