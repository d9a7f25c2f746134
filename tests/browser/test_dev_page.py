"""The /dev page (development mode): demo accounts with live TOTP codes and the file outbox."""

from __future__ import annotations

import aiohttp
import pyotp
import pytest
from aiohttp import web
from playwright.async_api import Browser, expect

from tests.booking_flow import offer, reserve
from tests.browser.conftest import PageErrors, new_page
from tests.browser.test_staff_browser import secret_of
from vibue.core.clock import ManualClock
from vibue.core.settings import Settings


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.replace(mail_transport="file")  # what `make run` uses


async def test_dev_page_lists_accounts_codes_and_the_outbox(
    browser: Browser,
    base_url: str,
    app: web.Application,
    clock: ManualClock,
    page_errors: PageErrors,
) -> None:
    async with aiohttp.ClientSession(base_url=base_url, cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        o = await offer(session)
        reserved = await reserve(session, o, "2026-11-30T09:00:00+01:00")

    page = await new_page(browser, page_errors)
    await page.goto(base_url + "/dev")
    code = pyotp.TOTP(await secret_of(app, "s.berger")).at(clock.now())
    await expect(page.get_by_test_id("totp-s.berger")).to_have_text(code)
    await expect(page.get_by_test_id("dev-accounts")).to_contain_text("Demo-Berger-2026")
    mail = page.get_by_test_id("outbox-mail").first
    await expect(mail).to_contain_text(reserved["reference"], timeout=10_000)
    assert page_errors.errors == []


async def test_dev_page_does_not_exist_in_production(aiohttp_client: object, settings: Settings) -> None:
    from vibue.app import create_app

    production = settings.replace(mode="production", seed_demo=False, secret_key="p" * 40)
    client = await aiohttp_client(create_app(production))  # type: ignore[operator]
    hidden = ("/dev", "/dev/assets/dev.js", "/static/dev/index.html", "/static/dev/dev.js", "/api/dev/accounts")
    for path in hidden:
        response = await client.get(path)
        assert response.status == 404, path
    assert (await client.get("/static/js/api.js")).status == 200


async def test_dev_tools_need_a_loopback_address(aiohttp_client: object, settings: Settings) -> None:
    from vibue.app import create_app

    exposed = settings.replace(host="0.0.0.0")  # noqa: S104 (the case under test)
    client = await aiohttp_client(create_app(exposed))  # type: ignore[operator]
    for path in ("/dev", "/api/dev/accounts"):
        assert (await client.get(path)).status == 404, path


async def test_dev_page_creates_a_video_appointment_to_try(
    browser: Browser, base_url: str, page_errors: PageErrors, clock: ManualClock
) -> None:
    page = await new_page(browser, page_errors)
    await page.goto(base_url + "/dev")
    await page.get_by_test_id("demo-call").click()
    link = page.get_by_test_id("demo-call-link")
    await expect(link).to_be_visible()
    # What happens, honestly: the confirmation is in the outbox now, the code only once asked for.
    result = page.get_by_test_id("demo-call-result")
    await expect(result).to_contain_text("Bestätigung liegt im Postausgang")
    await expect(result).to_contain_text("erst, wenn Sie ihn dort mit „Code per E-Mail anfordern“ anfordern")
    await link.click()
    await expect(page.get_by_test_id("request-code")).to_be_visible()
    assert page_errors.errors == []
