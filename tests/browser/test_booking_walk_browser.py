"""What a newcomer's walk through booking and the mail links shows: closed days, the location's
name in both languages, the booking number in one piece, no stale status text, and an old
confirm link of a cancelled booking that says so and offers a new booking."""

from __future__ import annotations

from playwright.async_api import Browser, Page, expect

from tests.booking_flow import offer, reserve, token_from_mail
from tests.browser.conftest import PageErrors, new_page
from tests.browser.test_booking_browser import FIRST_FREE, book_through_the_five_pages
from tests.calls import http
from tests.helpers import post_json
from tests.smtp import MailCatcher, links


async def to_step_four(page: Page, base_url: str) -> None:
    await page.goto(base_url + "/buchen/1")
    await page.get_by_test_id("unit-buergeramt-virtuell").check()
    await page.get_by_test_id("next-step").click()
    await page.get_by_test_id("concern-an-ummeldung").check()
    await page.get_by_test_id("next-step").click()
    await page.get_by_test_id("location-bv-video").check()
    await page.get_by_test_id("next-step").click()


async def test_a_weekend_reads_closed_and_the_video_location_is_named_once(
    browser: Browser, base_url: str, page_errors: PageErrors
) -> None:
    page = await new_page(browser, page_errors)
    await to_step_four(page, base_url)
    saturday = page.locator("label[for$='-day-2026-12-05']")
    await expect(saturday).to_contain_text("geschlossen")  # the office is closed, not booked out
    await expect(page.locator("label[for$='-day-2026-12-04']")).to_contain_text("frei")
    await expect(page.get_by_test_id("summary-location")).to_have_text("Bürgeramt Virtuell (Videotermin)")

    await page.get_by_role("button", name="English").click()
    await expect(saturday).to_contain_text("closed")
    await expect(page.get_by_test_id("summary-location")).to_have_text("Virtual Citizens' Office (video appointment)")
    assert page_errors.errors == []


async def test_after_booking_no_stale_status_text_and_the_number_stays_whole(
    browser: Browser, base_url: str, page_errors: PageErrors
) -> None:
    page = await new_page(browser, page_errors)
    await book_through_the_five_pages(page, base_url, "erika.walk@example.org", check_a11y=False)
    await expect(page.locator("#live-status")).to_have_text("")  # not "Ihr Termin wird reserviert …"
    reference = page.get_by_test_id("booking-reference")
    assert await reference.evaluate("el => getComputedStyle(el).whiteSpace") == "nowrap"
    assert page_errors.errors == []


async def test_the_old_confirm_link_of_a_cancelled_booking_says_so_and_offers_a_new_one(
    browser: Browser, base_url: str, mail_catcher: MailCatcher, page_errors: PageErrors
) -> None:
    async with http(base_url) as session:
        await reserve(session, await offer(session), FIRST_FREE, email="old.link@example.org")
        token = await token_from_mail(mail_catcher, "old.link@example.org")
        answer = await post_json(session, f"/api/bookings/{token}/cancel")
        assert answer.status == 200, await answer.text()
    confirm_link = next(link for link in links(mail_catcher.inbox[0]) if "aktion=bestaetigen" in link)

    page = await new_page(browser, page_errors)
    await page.goto(confirm_link)
    await expect(page.get_by_test_id("manage-outcome")).to_be_visible()
    await expect(page.locator("#outcome-heading")).to_have_text("Ihr Termin wurde abgesagt")
    await expect(page.locator("#outcome-heading")).to_be_focused()
    await expect(page.get_by_test_id("book-again")).to_have_text("Neuen Termin buchen")
    await expect(page.get_by_test_id("booking-status")).to_have_text("abgesagt")
    reference = page.get_by_test_id("booking-reference")
    assert await reference.evaluate("el => getComputedStyle(el).whiteSpace") == "nowrap"
    assert page_errors.errors == []
