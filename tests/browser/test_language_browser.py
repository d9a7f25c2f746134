"""A browser set to English, with no language chosen, reads one language: page and API texts alike."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from tests.browser.conftest import PageErrors, new_page


async def test_an_english_browser_gets_an_english_page_with_english_names(
    browser: Browser, base_url: str, page_errors: PageErrors
) -> None:
    page = await new_page(browser, page_errors, locale="en-GB")
    await page.goto(base_url + "/buchen/1")
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    await expect(page.get_by_text("Which office would you like an appointment with?")).to_be_visible()
    await expect(page.get_by_test_id("unit-buergeramt-virtuell").locator("xpath=..")).to_contain_text(
        "Virtual Citizens' Office"
    )
    # Choosing German is remembered and wins over the browser's language, for page and API.
    await page.get_by_role("button", name="Deutsch").click()
    await expect(page.locator("html")).to_have_attribute("lang", "de")
    await page.reload()
    await expect(page.get_by_text("Bei welcher Stelle möchten Sie einen Termin?")).to_be_visible()
    await expect(page.get_by_text("Bürgeramt Virtuell").first).to_be_visible()
    assert page_errors.errors == []
