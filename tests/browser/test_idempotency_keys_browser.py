"""web/js/idempotency.js in the browser: one key per form state, kept across retries and a reload."""

from __future__ import annotations

import re

from playwright.async_api import Browser, expect

from tests.browser.conftest import PageErrors, new_page

KEYS = """async (state) => {
  const { IdempotencyKeys } = await import('/static/js/idempotency.js');
  return new IdempotencyKeys('vibue.test.key').keyFor(state);
}"""


async def test_the_same_state_keeps_its_key_and_a_changed_one_gets_a_new_key(
    browser: Browser, base_url: str, page_errors: PageErrors
) -> None:
    page = await new_page(browser, page_errors)
    await page.goto(base_url + "/")
    await expect(page.locator("[data-lang='de']")).to_be_enabled()
    state = [7, "meldebestaetigung", {"name": "Jürgen Groß", "einzug": "01.12.2026"}]
    first = await page.evaluate(KEYS, state)
    assert re.fullmatch(r"[A-Za-z0-9_-]{32}", first)  # within the contract's 16–64 of [A-Za-z0-9_-]
    assert await page.evaluate(KEYS, state) == first  # a retry (a new panel, the same state)

    await page.reload()  # the tab's sessionStorage keeps it
    await expect(page.locator("[data-lang='de']")).to_be_enabled()
    assert await page.evaluate(KEYS, state) == first

    changed = [7, "meldebestaetigung", {"name": "Jürgen Groß", "einzug": "02.12.2026"}]
    second = await page.evaluate(KEYS, changed)
    assert second != first
    # Back to values sent before: their key again (that request may have gone through unanswered).
    assert await page.evaluate(KEYS, state) == first

    forgotten = await page.evaluate(
        """async (state) => {
          const { IdempotencyKeys } = await import('/static/js/idempotency.js');
          const keys = new IdempotencyKeys('vibue.test.key');
          const before = keys.keyFor(state);
          keys.forget(state);
          return [before, keys.keyFor(state)];
        }""",
        changed,
    )
    assert forgotten[0] != forgotten[1]  # after idempotency_conflict the same state goes out with a fresh key
    assert page_errors.errors == []
