"""The pre-call page tells a citizen who typed a wrong identity code so beside the code field:
the server's German text next to the input, linked with aria-invalid and aria-describedby, the
field keeps the focus and the alert announces the attempts left; the right code then opens the
waiting room."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from tests.booking_flow import identity_code_from_mail
from tests.browser.conftest import PageErrors, new_page
from tests.browser.test_call_browser import EMAIL, book
from tests.browser.test_staff_browser import at_app_time
from tests.smtp import MailCatcher
from vibue.core.clock import ManualClock

# The server's texts (vibue/core/messages/de.json: field.code_wrong, error.identity_code_wrong).
CODE_WRONG = "Der Code stimmt nicht."
ATTEMPTS_LEFT = "Der Code stimmt nicht. Sie haben noch 4 Versuche."


async def test_a_wrong_code_is_shown_beside_the_code_field(
    browser: Browser, base_url: str, clock: ManualClock, mail_catcher: MailCatcher, page_errors: PageErrors
) -> None:
    token = await book(base_url, mail_catcher)
    clock.advance(minutes=50)  # 07:50: the room is open
    page = await new_page(browser, page_errors)
    await at_app_time(page, clock)
    await page.goto(f"{base_url}/video/{token}")
    await page.get_by_test_id("request-code").click()
    await expect(page.get_by_test_id("code-status")).to_contain_text("e***@example.org")
    code = await identity_code_from_mail(mail_catcher, EMAIL, count=3)
    wrong = code[:-1] + str((int(code[-1]) + 1) % 10)

    field = page.get_by_test_id("code-input")
    await field.fill(wrong)
    await page.get_by_test_id("verify-code").click()
    message = page.locator("#code-input-error")
    await expect(message).to_have_text(CODE_WRONG)
    await expect(field).to_have_attribute("aria-invalid", "true")
    await expect(field).to_have_attribute("aria-describedby", "code-input-error")
    await expect(field).to_be_focused()
    await expect(page.locator("#code-alert")).to_have_text(ATTEMPTS_LEFT)  # role="alert": announced
    for left in ("3 Versuche", "2 Versuche", "1 Versuch"):  # the count's plural form, never "1 Versuche"
        await field.fill(wrong)
        await page.get_by_test_id("verify-code").click()
        await expect(page.locator("#code-alert")).to_have_text(f"{CODE_WRONG} Sie haben noch {left}.")

    await field.fill(code)
    await page.get_by_test_id("verify-code").click()
    await expect(page.get_by_test_id("waiting-room")).to_be_visible()
    await expect(message).to_have_count(0)
    assert page_errors.errors == []
