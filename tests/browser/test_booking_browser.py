"""A citizen books a video appointment through the 5 pages, confirms and cancels from the email."""

from __future__ import annotations

import re

import aiohttp
import pytest
from playwright.async_api import Browser, Page, expect

from tests.booking_flow import free_starts, offer, slots
from tests.browser.conftest import (
    DESKTOP,
    PHONE,
    PageErrors,
    assert_accessible,
    assert_no_horizontal_scroll,
    new_page,
)
from tests.smtp import MailCatcher, links

FIRST_FREE = "2026-11-30T08:00:00+01:00"  # the test clock says Monday 07:00; bookable from 08:00


async def step(page: Page, number: int) -> None:
    await expect(page).to_have_url(re.compile(rf"/buchen/{number}$"))
    await expect(page.get_by_test_id("progress-label")).to_contain_text(f"{number} von 5")


async def book_through_the_five_pages(page: Page, base_url: str, email: str, *, check_a11y: bool) -> str:
    await page.goto(base_url + "/")
    await page.get_by_test_id("start-booking").click()
    await step(page, 1)
    if check_a11y:
        await assert_accessible(page)
    await page.get_by_test_id("unit-buergeramt-virtuell").check()
    await expect(page.get_by_test_id("summary-unit")).to_contain_text("Bürgeramt Virtuell")
    await page.get_by_test_id("next-step").click()

    await step(page, 2)
    await page.get_by_test_id("concern-an-ummeldung").check()
    await expect(page.get_by_test_id("checklist")).to_contain_text("Wohnungsgeberbestätigung")
    await page.get_by_test_id("next-step").click()

    await step(page, 3)
    await page.get_by_test_id("location-bv-video").check()
    await page.get_by_test_id("next-step").click()

    await step(page, 4)
    # Browser back and forward keep what was chosen.
    await page.go_back()
    await step(page, 3)
    await expect(page.get_by_test_id("location-bv-video")).to_be_checked()
    await page.go_forward()
    await step(page, 4)
    next_free = page.get_by_test_id("next-free-slot")
    await expect(next_free).to_have_attribute("data-start", FIRST_FREE)
    await next_free.click()
    await expect(next_free).to_have_attribute("aria-pressed", "true")
    await expect(page.get_by_test_id("summary-datetime")).to_contain_text("08:00")
    if check_a11y:
        await assert_accessible(page)
    await page.get_by_test_id("next-step").click()

    await step(page, 5)
    await page.get_by_test_id("field-name").fill("Erika Mustermann")
    await page.get_by_test_id("field-email").fill(email)
    await page.get_by_test_id("field-phone").fill("06221 58-0")
    await page.get_by_test_id("field-privacy").check()
    await expect(page.get_by_test_id("summary-concern")).to_contain_text("An- und Ummeldung")
    if check_a11y:
        await assert_accessible(page)
    await page.get_by_test_id("submit-booking").click()

    reference = page.get_by_test_id("booking-reference")
    await expect(reference).to_be_visible()
    await expect(reference).to_have_text(re.compile(r"VB-[A-Z0-9]{6}"))
    return (await reference.text_content() or "").strip()


async def slot_is_free(base_url: str) -> bool:
    async with aiohttp.ClientSession(base_url=base_url) as session:
        o = await offer(session)
        return FIRST_FREE in free_starts(await slots(session, o))


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
async def test_book_confirm_and_cancel_a_video_appointment(
    browser: Browser,
    base_url: str,
    mail_catcher: MailCatcher,
    page_errors: PageErrors,
    viewport: dict[str, int],
) -> None:
    page = await new_page(browser, page_errors, viewport=viewport)
    email = f"erika.{viewport['width']}@example.org"
    reference = await book_through_the_five_pages(page, base_url, email, check_a11y=viewport is DESKTOP)
    if viewport is PHONE:
        await assert_no_horizontal_scroll(page)
    assert not await slot_is_free(base_url)

    reservation_mail = (await mail_catcher.receive(email))[0]
    assert reference in str(reservation_mail["Subject"])
    confirm_link = next(link for link in links(reservation_mail) if "aktion=bestaetigen" in link)
    assert confirm_link.startswith(base_url)

    await page.goto(confirm_link)
    await expect(page.get_by_test_id("booking-status")).to_contain_text("bestätigt")
    await expect(page.get_by_test_id("join-link")).to_be_visible()
    confirmation = (await mail_catcher.receive(email, count=2))[1]
    assert "bestätigt" in str(confirmation["Subject"])
    if viewport is PHONE:
        await assert_no_horizontal_scroll(page)
    else:
        await assert_accessible(page)

    manage_link = next(link for link in links(confirmation) if "/termin/" in link and "aktion" not in link)
    await page.goto(manage_link)
    await page.get_by_test_id("cancel-booking").click()
    await page.get_by_test_id("confirm-cancel").click()
    await expect(page.get_by_test_id("booking-status")).to_contain_text("abgesagt")
    await mail_catcher.receive(email, count=3)
    assert await slot_is_free(base_url), "the cancelled slot is bookable again at once"
    assert page_errors.errors == []


async def test_english_booking_pages(browser: Browser, base_url: str, page_errors: PageErrors) -> None:
    page = await new_page(browser, page_errors)
    await page.goto(base_url + "/buchen/1")
    await page.get_by_role("button", name="English").click()
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    await expect(page.get_by_test_id("progress-label")).to_contain_text("Step 1 of 5")
    await expect(page.get_by_test_id("unit-buergeramt-virtuell").locator("xpath=..")).to_contain_text(
        "Virtual Citizens' Office"
    )
    assert page_errors.errors == []


async def test_a_taken_slot_sends_the_citizen_back_to_step_four(
    browser: Browser, base_url: str, page_errors: PageErrors, mail_catcher: MailCatcher
) -> None:
    page = await new_page(browser, page_errors)
    await page.goto(base_url + "/buchen/1")
    await page.get_by_test_id("unit-buergeramt-virtuell").check()
    await page.get_by_test_id("next-step").click()
    await page.get_by_test_id("concern-an-ummeldung").check()
    await page.get_by_test_id("next-step").click()
    await page.get_by_test_id("location-bv-video").check()
    await page.get_by_test_id("next-step").click()
    # Taking the next free slot may first load its week: wait until it is chosen, as a person sees.
    await page.get_by_test_id("next-free-slot").click()
    await expect(page.get_by_test_id("next-free-slot")).to_have_attribute("aria-pressed", "true")
    await page.get_by_test_id("next-step").click()
    await page.get_by_test_id("field-name").fill("Max Mustermann")
    await page.get_by_test_id("field-email").fill("max@example.org")
    await page.get_by_test_id("field-privacy").check()

    # Somebody else takes the slot in the meantime.
    other = await new_page(browser, page_errors)
    await book_through_the_five_pages(other, base_url, "fast@example.org", check_a11y=False)

    await page.get_by_test_id("submit-booking").click()
    await step(page, 4)
    await expect(page.get_by_test_id("booking-alert")).to_contain_text("gerade vergeben")
    await expect(page.get_by_test_id("next-free-slot")).not_to_have_attribute("data-start", FIRST_FREE)
    await page.get_by_test_id("next-free-slot").click()
    await page.get_by_test_id("next-step").click()
    await expect(page.get_by_test_id("field-email")).to_have_value("max@example.org")
    assert page_errors.errors == []
