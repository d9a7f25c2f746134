"""The verification page /v/{id}: the browser hashes a PDF itself (WebCrypto equals hashlib), the code comes from #.

The verdicts of issued documents are shown by test_documents_in_call_browser.py; these tests cover
what the page does on its own, against the real app (with its development seal).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from playwright.async_api import Browser, Page, Request, expect

from tests.browser.conftest import PageErrors, assert_accessible, assert_no_horizontal_scroll, new_page
from tests.browser.pdfs import sample_pdf

DOCUMENT_ID = "Zq3vH8kLm2Np4Rs6Tu8Vw0"


async def open_verify(page: Page, base_url: str, fragment: str = "") -> list[Request]:
    requests: list[Request] = []
    page.on("request", lambda request: requests.append(request))
    await page.goto(f"{base_url}/v/{DOCUMENT_ID}{fragment}")
    await expect(page.get_by_test_id("file-input")).to_be_enabled()  # the page's start-up is done
    return requests


async def test_a_dropped_pdf_is_hashed_in_the_browser_and_never_uploaded(
    browser: Browser, base_url: str, page_errors: PageErrors, tmp_path: Path
) -> None:
    pdf = sample_pdf([["Meldebestätigung", "Jürgen Groß"]])
    path = tmp_path / "meldebestaetigung.pdf"
    path.write_bytes(pdf)
    page = await new_page(browser, page_errors)
    requests = await open_verify(page, base_url)
    await expect(page.get_by_test_id("file-check")).to_contain_text("Die Datei verlässt Ihr Gerät nicht")

    await page.get_by_test_id("file-input").set_input_files(str(path))
    digest = hashlib.sha256(pdf).hexdigest()
    await expect(page.get_by_test_id("file-hash")).to_have_text(
        f"Fingerabdruck (SHA-256) von meldebestaetigung.pdf: {digest}"
    )
    # No check code yet: nothing to compare with, and the page says what to do.
    await expect(page.get_by_test_id("file-result")).to_have_attribute("data-match", "unknown")
    await expect(page.get_by_test_id("file-verdict")).to_contain_text("Geben Sie den Prüfcode ein")

    # One changed byte: another fingerprint.
    tampered = bytearray(pdf)
    tampered[len(tampered) // 2] ^= 0x01
    other = tmp_path / "veraendert.pdf"
    other.write_bytes(bytes(tampered))
    await page.get_by_test_id("file-input").set_input_files(str(other))
    await expect(page.get_by_test_id("file-hash")).to_contain_text(hashlib.sha256(bytes(tampered)).hexdigest())

    # The file's bytes went nowhere: no request carried a body, nor went to another origin.
    assert [r.url for r in requests if r.post_data_buffer and pdf[:64] in r.post_data_buffer] == []
    assert [r.url for r in requests if not r.url.startswith(base_url)] == []
    assert page_errors.errors == []


async def test_the_code_after_the_hash_is_read_and_a_malformed_one_is_explained_at_the_field(
    browser: Browser, base_url: str, page_errors: PageErrors
) -> None:
    page = await new_page(browser, page_errors)
    requests = await open_verify(page, base_url, "#7kq4m2xd9p")
    await expect(page.get_by_test_id("check-code")).to_have_value("7KQ4-M2XD-9P")
    # Once the server answered (no such document: "nicht prüfbar")...
    await expect(page.get_by_test_id("verdict")).to_have_attribute("data-verdict", "unverifiable")
    # ...it was asked with the code as printed; the fragment itself was never part of a request URL.
    posted = [r for r in requests if r.method == "POST"]
    assert [r.url for r in posted] == [f"{base_url}/api/verify/{DOCUMENT_ID}"]
    assert posted[0].post_data_json == {"check_code": "7KQ4-M2XD-9P"}
    assert all("#" not in r.url and "7KQ4" not in r.url.upper() for r in requests)

    code = page.get_by_test_id("check-code")
    await code.fill("12345")
    await code.press("Enter")
    await expect(code).to_have_attribute("aria-invalid", "true")
    await expect(page.locator("#check-code-error")).to_have_text(
        "Der Prüfcode hat 10 Zeichen (Ziffern und Buchstaben), zum Beispiel 7KQ4-M2XD-9P."
    )
    await expect(code).to_be_focused()
    assert len([r for r in requests if r.method == "POST"]) == 1  # the malformed code was not sent
    # The development seal's root certificate is offered, and the link gives the PEM itself.
    link = page.get_by_test_id("root-cert").get_by_role(
        "link", name="Wurzelzertifikat dieser Testumgebung herunterladen"
    )
    async with page.expect_download() as info:
        await link.click()
    pem = (await (await info.value).path()).read_bytes()
    assert pem.startswith(b"-----BEGIN CERTIFICATE-----")


async def test_the_page_reads_english_works_by_keyboard_and_fits_a_phone(
    browser: Browser, base_url: str, page_errors: PageErrors
) -> None:
    page = await new_page(browser, page_errors, viewport={"width": 360, "height": 740}, locale="en-GB")
    await open_verify(page, base_url)
    await expect(page.get_by_role("heading", level=1)).to_have_text("Check a document")
    await expect(page.get_by_test_id("file-check")).to_contain_text("The file never leaves your device")
    await expect(page.get_by_test_id("check-code")).to_be_focused()
    await page.keyboard.type("7KQ4M2XD9")  # nine characters
    await page.keyboard.press("Enter")
    await expect(page.locator("#check-code-error")).to_contain_text("The check code has 10 characters")
    await assert_no_horizontal_scroll(page)
    await assert_accessible(page)
    text = (await page.locator("main").inner_text()).lower()
    assert not any(word in text for word in ("revok", "annul", "withdr"))
    assert page_errors.errors == []
