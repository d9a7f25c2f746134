"""Issue 9 end to end, with the real render and seal (documents.setup, as run.py builds the app).

In a call the clerk previews and issues a Meldebestätigung (a double click issues one); the citizen's
page says "Dokument bereit", shows it and downloads it; its verification page says gültig and the
downloaded file matches (one changed byte does not); after revocation the citizen's list marks it and
the page says widerrufen. Once more at phone width.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from aiohttp import web
from playwright.async_api import Browser, expect

from tests.browser.conftest import DESKTOP, PHONE, PageErrors, assert_no_horizontal_scroll, new_page
from tests.browser.test_call_browser import start_call
from tests.smtp import MailCatcher
from vibue.core.clock import ManualClock
from vibue.core.settings import Settings


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Render and seal in a worker process, as production does (the other browser tests use threads)."""
    return settings.replace(seal_workers=1)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
async def test_a_document_issued_in_the_call_reaches_the_citizen_and_verifies(
    browser: Browser,
    base_url: str,
    app: web.Application,
    clock: ManualClock,
    mail_catcher: MailCatcher,
    page_errors: PageErrors,
    tmp_path: Path,
    viewport: dict[str, int],
) -> None:
    citizen, clerk, _ = await start_call(
        browser, base_url, app, clock, mail_catcher, page_errors, citizen_viewport=viewport
    )

    # The clerk: template (suggested first), preview, issue – twice in a row, one document.
    await expect(clerk.get_by_test_id("doc-template").locator("option")).not_to_have_count(0)
    await clerk.get_by_test_id("doc-template").select_option("meldebestaetigung")
    # The name comes prefilled from the booking; what only the citizen can say is typed.
    await expect(clerk.get_by_test_id("doc-field-name")).not_to_have_value("")
    await clerk.get_by_test_id("doc-field-birth_date").fill("12.08.1964")
    await clerk.get_by_test_id("doc-field-move_in_date").fill("01.11.2026")
    await clerk.get_by_test_id("doc-field-address").fill("Marktplatz 10\n69117 Heidelberg")
    await clerk.get_by_test_id("doc-preview").click()
    preview = clerk.get_by_test_id("doc-preview-view").get_by_test_id("pdf-view")
    await expect(preview).to_have_attribute("data-state", "shown", timeout=30_000)
    await expect(clerk.get_by_test_id("doc-preview-view").get_by_test_id("pdf-text")).to_contain_text(
        "VORSCHAU – nicht gültig"
    )
    await clerk.get_by_test_id("doc-issue").dblclick()
    await expect(clerk.get_by_test_id("doc-issued")).to_be_visible(timeout=30_000)
    await clerk.get_by_test_id("doc-issue").click()  # the same form state again: the same document
    await expect(clerk.get_by_test_id("doc-progress")).to_be_empty(timeout=30_000)
    items = clerk.get_by_test_id("doc-list").locator("li[data-document-id]")
    await expect(items).to_have_count(1)
    doc_id = await items.first.get_attribute("data-document-id")
    assert doc_id

    # The citizen: "Dokument bereit", shown inline, downloaded.
    await expect(citizen.get_by_test_id("document-ready")).to_contain_text("Dokument bereit: Meldebestätigung")
    await expect(citizen.locator("#live-status")).to_contain_text("Dokument bereit")
    await citizen.get_by_test_id(f"show-document-{doc_id}").click()
    shown = citizen.get_by_test_id("citizen-document-view").get_by_test_id("pdf-view")
    await expect(shown).to_have_attribute("data-state", "shown", timeout=30_000)
    await expect(citizen.get_by_test_id("citizen-document-view").get_by_test_id("pdf-page").first).to_have_attribute(
        "data-rendered", "true"
    )
    async with citizen.expect_download() as info:
        await citizen.get_by_test_id(f"download-document-{doc_id}").click()
    pdf = (await (await info.value).path()).read_bytes()
    assert pdf.startswith(b"%PDF")
    if viewport is PHONE:
        await assert_no_horizontal_scroll(citizen)

    # The verification page from the clerk's link (check code after #): gültig, and the file matches.
    verify_url = await clerk.locator(f"li[data-document-id='{doc_id}'] a[target='_blank']").get_attribute("href")
    assert verify_url and f"/v/{doc_id}#" in verify_url
    checker = await new_page(browser, page_errors, viewport=viewport)
    await checker.goto(verify_url)
    await expect(checker.get_by_test_id("verdict")).to_have_attribute("data-verdict", "valid", timeout=20_000)
    await expect(checker.get_by_test_id("verdict-heading")).to_have_text("Gültig")
    await expect(checker.get_by_test_id("fact-title")).to_have_text("Meldebestätigung")
    await expect(checker.get_by_test_id("fact-holder")).to_contain_text("***")
    original = tmp_path / "meldebestaetigung.pdf"
    original.write_bytes(pdf)
    await checker.get_by_test_id("file-input").set_input_files(str(original))
    await expect(checker.get_by_test_id("file-result")).to_have_attribute("data-match", "true")
    await expect(checker.get_by_test_id("file-hash")).to_contain_text(hashlib.sha256(pdf).hexdigest())
    tampered = bytearray(pdf)
    tampered[len(tampered) // 2] ^= 0x01
    changed = tmp_path / "veraendert.pdf"
    changed.write_bytes(bytes(tampered))
    await checker.get_by_test_id("file-input").set_input_files(str(changed))
    await expect(checker.get_by_test_id("file-result")).to_have_attribute("data-match", "false")
    await expect(checker.get_by_test_id("root-cert")).to_be_visible()  # the development PKI's root
    if viewport is PHONE:
        await assert_no_horizontal_scroll(checker)

    # Revocation with a reason: the clerk's list, the citizen's list and the page say so.
    await clerk.get_by_test_id(f"revoke-{doc_id}").click()
    await clerk.get_by_test_id("revoke-reason").fill("Falsche Anschrift eingetragen")
    await clerk.get_by_test_id("revoke-confirm").click()
    await expect(clerk.get_by_test_id(f"doc-status-{doc_id}")).to_contain_text("Widerrufen am")
    await expect(citizen.locator(f"li[data-document-id='{doc_id}']")).to_have_attribute("data-status", "revoked")
    await checker.reload()
    await expect(checker.get_by_test_id("verdict")).to_have_attribute("data-verdict", "revoked", timeout=20_000)
    await expect(checker.get_by_test_id("verdict-heading")).to_have_text("Widerrufen")
    assert page_errors.errors == []
