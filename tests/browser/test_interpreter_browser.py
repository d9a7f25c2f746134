"""A three-party call: the clerk invites an interpreter by a one-time link; everybody sees and
decodes everybody, the link works once, and a reload rejoins directly."""

from __future__ import annotations

import re

import pytest
from aiohttp import web
from playwright.async_api import Browser, Page, expect

from tests.browser.conftest import DESKTOP, PHONE, PageErrors, assert_accessible, assert_no_horizontal_scroll, new_page
from tests.browser.test_call_browser import book, citizen_reaches_waiting_room, clerk_admits, decodes_video
from tests.browser.test_staff_browser import at_app_time
from tests.smtp import MailCatcher
from vibue.core.clock import ManualClock
from vibue.core.settings import Settings


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.replace(reconnect_grace_seconds=30.0)


async def all_decode(page: Page, testid: str, count: int) -> None:
    loc = page.locator(f"[data-testid='{testid}']")
    await expect(loc).to_have_count(count, timeout=20_000)
    for i in range(count):
        await expect(loc.nth(i)).not_to_have_attribute("data-frames-decoded", "0", timeout=25_000)
    before = [int(await loc.nth(i).get_attribute("data-frames-decoded") or 0) for i in range(count)]
    for _ in range(60):
        await page.wait_for_timeout(250)
        now = [int(await loc.nth(i).get_attribute("data-frames-decoded") or 0) for i in range(count)]
        if all(a > b for a, b in zip(now, before, strict=True)):
            return
    raise AssertionError(f"{testid} stuck on {page.url}: {before}")


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
async def test_an_interpreter_joins_the_call_by_invitation(
    browser: Browser,
    base_url: str,
    app: web.Application,
    clock: ManualClock,
    mail_catcher: MailCatcher,
    page_errors: PageErrors,
    viewport: dict[str, int],
) -> None:
    token = await book(base_url, mail_catcher)
    clock.advance(minutes=50)
    citizen = await new_page(browser, page_errors)
    clerk = await new_page(browser, page_errors)
    interp = await new_page(browser, page_errors, viewport=viewport)
    for p in (citizen, clerk, interp):
        await at_app_time(p, clock)
    await citizen_reaches_waiting_room(citizen, base_url, token, mail_catcher)
    await clerk_admits(clerk, base_url, app, clock)
    await decodes_video(citizen)
    await decodes_video(clerk)

    await clerk.get_by_test_id("invite-interpreter").click()
    link = clerk.get_by_test_id("invite-link")
    await expect(link).to_have_value(re.compile(r"/dolmetschen/[A-Za-z0-9_-]+$"))
    await expect(clerk.get_by_test_id("invite-expiry")).to_contain_text("Gültig bis")
    url = await link.input_value()
    await clerk.get_by_test_id("copy-invite").click()
    await expect(clerk.get_by_test_id("invite-copied")).not_to_be_empty()
    assert url.startswith(f"{base_url}/dolmetschen/")

    await interp.goto(url)
    await expect(interp.get_by_test_id("invitation-summary")).to_be_visible()
    await expect(interp.get_by_test_id("precall-preview")).to_be_visible()
    await assert_accessible(interp)
    if viewport is PHONE:
        await assert_no_horizontal_scroll(interp)
    await interp.get_by_test_id("interpreter-join").click()
    await expect(interp.locator("#interpreter-name-error")).to_be_visible()
    await interp.get_by_test_id("interpreter-name").fill("Amal Haddad")
    await interp.get_by_test_id("interpreter-language").fill("Arabisch")
    await interp.get_by_test_id("interpreter-join").click()
    await expect(interp.get_by_test_id("interpreter-call")).to_be_visible(timeout=20_000)

    await all_decode(interp, "remote-video", 2)
    await all_decode(citizen, "remote-video-interpreter", 1)
    await all_decode(clerk, "remote-video-interpreter", 1)
    await decodes_video(citizen)
    await decodes_video(clerk)
    for p in (citizen, clerk):
        fig = p.locator("figure[data-role='interpreter'] figcaption")
        await expect(fig).to_contain_text("Amal Haddad")
        await expect(fig).to_contain_text("Dolmetschen: Arabisch")
    await expect(clerk.get_by_test_id("interpreter-present")).to_contain_text("Amal Haddad")
    await expect(clerk.get_by_test_id("invite-link")).to_be_hidden()
    if viewport is PHONE:
        await assert_no_horizontal_scroll(interp)
    await assert_accessible(interp)
    await assert_accessible(clerk)

    # The link works once.
    other = await new_page(browser, page_errors)
    await other.goto(url)
    await expect(other.get_by_test_id("invitation-status")).to_have_attribute("data-status", "used")

    # Chat names the interpreter.
    await interp.get_by_test_id("chat-input").fill("Guten Tag")
    await interp.get_by_test_id("chat-send").click()
    await expect(citizen.get_by_test_id("chat-log")).to_contain_text("Amal Haddad")

    # Reload: straight back in.
    await interp.reload()
    await expect(interp.get_by_test_id("interpreter-call")).to_be_visible(timeout=20_000)
    await all_decode(interp, "remote-video", 2)
    await all_decode(citizen, "remote-video-interpreter", 1)
    await all_decode(clerk, "remote-video-interpreter", 1)

    await clerk.get_by_test_id("identity-document").select_option("personalausweis")
    await clerk.get_by_test_id("identity-confirm").click()
    # As a clerk would: see the check recorded before ending, else the console asks about it first.
    await expect(clerk.get_by_test_id("identity-status")).to_have_attribute("data-checked", "true")
    await clerk.get_by_test_id("outcome-completed").check()
    await clerk.get_by_test_id("end-call").click()
    await expect(citizen.get_by_test_id("call-ended")).to_be_visible()
    await expect(interp.get_by_test_id("interpreter-ended")).to_be_visible()
    assert page_errors.errors == []


async def test_a_new_link_voids_the_old_one_and_hanging_up_leaves_the_call_running(
    browser: Browser,
    base_url: str,
    app: web.Application,
    clock: ManualClock,
    mail_catcher: MailCatcher,
    page_errors: PageErrors,
) -> None:
    token = await book(base_url, mail_catcher)
    clock.advance(minutes=50)
    citizen = await new_page(browser, page_errors, viewport=PHONE)
    clerk = await new_page(browser, page_errors)
    interp = await new_page(browser, page_errors, viewport=PHONE)
    for p in (citizen, clerk, interp):
        await at_app_time(p, clock)
    await citizen_reaches_waiting_room(citizen, base_url, token, mail_catcher)
    await clerk_admits(clerk, base_url, app, clock)
    await clerk.get_by_test_id("invite-interpreter").click()
    link = clerk.get_by_test_id("invite-link")
    await expect(link).to_have_value(re.compile(r"/dolmetschen/"))
    first = await link.input_value()
    await expect(clerk.get_by_test_id("invite-interpreter")).to_have_text("Neuen Einladungslink erzeugen")
    await clerk.get_by_test_id("invite-interpreter").click()
    await expect(link).not_to_have_value(first)
    second = await link.input_value()
    await interp.goto(first)
    await expect(interp.get_by_test_id("invitation-status")).to_have_attribute("data-status", "expired")
    await interp.goto(second)
    await interp.get_by_test_id("interpreter-name").fill("Olena Koval")
    await interp.get_by_test_id("interpreter-language").fill("Ukrainisch")
    await interp.get_by_test_id("interpreter-join").click()
    await expect(interp.get_by_test_id("interpreter-call")).to_be_visible(timeout=20_000)
    await all_decode(citizen, "remote-video-interpreter", 1)
    await all_decode(interp, "remote-video", 2)
    await assert_no_horizontal_scroll(citizen)
    await interp.get_by_test_id("hangup").click()
    await expect(interp.get_by_test_id("interpreter-ended")).to_have_attribute("data-outcome", "left")
    await expect(citizen.get_by_test_id("remote-video-interpreter")).to_have_count(0)
    await expect(clerk.get_by_test_id("remote-video-interpreter")).to_have_count(0)
    await expect(clerk.get_by_test_id("interpreter-present")).to_be_hidden()
    await decodes_video(citizen)
    await expect(citizen.locator(".call")).to_have_attribute("data-connection", "connected")
    await interp.reload()
    await expect(interp.get_by_test_id("invitation-status")).to_have_attribute("data-status", "used")
    assert page_errors.errors == []
