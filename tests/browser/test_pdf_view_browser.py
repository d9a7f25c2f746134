"""pdf.js, vendored under web/vendor/pdfjs/, draws a real PDF under the app's CSP; fetchBytes keeps the error shape."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web
from playwright.async_api import Browser, Page, expect

import signaling
from tests.browser.conftest import PageErrors, assert_no_horizontal_scroll, new_page
from tests.browser.pdfs import sample_pdf
from vibue.app import create_app
from vibue.core.clock import ManualClock
from vibue.core.settings import Settings

PDF = sample_pdf([["Meldebestätigung", "Jürgen Groß, Straße 7"], ["Seite zwei: Öffnungszeiten"]])
PDF_PATH = "/test-files/meldebestaetigung.pdf"


def serve_sample(app: web.Application) -> None:
    """A route of the real app that answers a PDF as the document routes do (attachment name included)."""

    async def sample(request: web.Request) -> web.Response:
        disposition = 'inline; filename="meldebestaetigung.pdf"'
        return web.Response(body=PDF, content_type="application/pdf", headers={"Content-Disposition": disposition})

    app.router.add_get(PDF_PATH, sample)


@pytest.fixture
def app(settings: Settings, clock: ManualClock) -> web.Application:
    return create_app(settings, clock=clock, setups=[signaling.setup, serve_sample])


SHOW = """async (path) => {
  const { fetchBytes } = await import('/static/js/api.js');
  const { showPdf } = await import('/static/js/pdf-view.js');
  const box = document.createElement('div');
  box.id = 'pdf-box';
  document.querySelector('main').append(box);
  const { bytes, filename, type } = await fetchBytes(path);
  const view = await showPdf(box, { bytes, filename, label: 'Test' });
  return { pages: view.pages, filename, type, size: bytes.length };
}"""

# How many pixels of a canvas are not white: a blank canvas (nothing drawn) has none.
INKED = """(canvas) => {
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let inked = 0;
  for (let i = 0; i < data.length; i += 4) if (data[i] < 200 || data[i + 1] < 200 || data[i + 2] < 200) inked += 1;
  return inked;
}"""


async def show_sample(page: Page, base_url: str) -> dict[str, Any]:
    await page.goto(base_url + "/")
    await expect(page.locator("html")).to_have_attribute("lang", "de")
    # The page's start-up is done (catalog loaded) once the language buttons are enabled.
    await expect(page.locator("[data-lang='de']")).to_be_enabled()
    result: dict[str, Any] = await page.evaluate(SHOW, PDF_PATH)
    return result


async def test_a_pdf_is_drawn_page_by_page_with_its_text_and_a_download(
    browser: Browser, base_url: str, page_errors: PageErrors
) -> None:
    page = await new_page(browser, page_errors)
    shown = await show_sample(page, base_url)
    assert shown == {"pages": 2, "filename": "meldebestaetigung.pdf", "type": "application/pdf", "size": len(PDF)}

    view = page.get_by_test_id("pdf-view")
    await expect(view).to_have_attribute("data-state", "shown")
    canvases = page.get_by_test_id("pdf-page")
    await expect(canvases).to_have_count(2)
    await expect(canvases.first).to_have_attribute("aria-label", "Seite 1 von 2")
    for i in range(2):
        assert await canvases.nth(i).get_attribute("data-rendered") == "true"
        assert await canvases.nth(i).evaluate(INKED) > 500  # text and a frame drawn, not a blank sheet
    # The text beneath, umlauts and ß intact (what a screen reader reads).
    text = page.get_by_test_id("pdf-text")
    await expect(text).to_contain_text("Meldebestätigung")
    await expect(text).to_contain_text("Jürgen Groß, Straße 7")
    await expect(text).to_contain_text("Seite zwei: Öffnungszeiten")
    await expect(page.get_by_test_id("pdf-status")).to_have_text("2 Seiten")

    # "Herunterladen" hands over the very bytes that were shown.
    async with page.expect_download() as info:
        await page.get_by_test_id("pdf-download").click()
    download = await info.value
    assert download.suggested_filename == "meldebestaetigung.pdf"
    path = await download.path()
    assert path.read_bytes() == PDF
    assert page_errors.errors == []  # no CSP violation (console errors), no page error


async def test_at_phone_width_the_pages_fit_the_screen(
    browser: Browser, base_url: str, page_errors: PageErrors
) -> None:
    page = await new_page(browser, page_errors, viewport={"width": 360, "height": 740})
    await show_sample(page, base_url)
    await expect(page.get_by_test_id("pdf-view")).to_have_attribute("data-state", "shown")
    box = await page.get_by_test_id("pdf-page").first.bounding_box()
    assert box is not None and box["width"] <= 360
    await assert_no_horizontal_scroll(page)
    assert page_errors.errors == []


async def test_a_broken_pdf_says_so_and_still_offers_the_download(
    browser: Browser, base_url: str, page_errors: PageErrors
) -> None:
    page = await new_page(browser, page_errors)
    await show_sample(page, base_url)
    state = await page.evaluate(
        """async () => {
          const { showPdf } = await import('/static/js/pdf-view.js');
          const box = document.getElementById('pdf-box');
          await showPdf(box, { bytes: new TextEncoder().encode('%PDF-1.7 kaputt'), filename: 'kaputt.pdf' });
          return box.querySelector('[data-testid="pdf-view"]').dataset.state;
        }"""
    )
    assert state == "failed"
    await expect(page.get_by_test_id("pdf-status")).to_contain_text("kann hier nicht angezeigt werden")
    await expect(page.get_by_test_id("pdf-download")).to_have_attribute("download", "kaputt.pdf")
    assert page_errors.errors == []


async def test_fetch_bytes_fails_with_the_apps_error_shape(
    browser: Browser, base_url: str, page_errors: PageErrors
) -> None:
    page = await new_page(browser, page_errors)
    await show_sample(page, base_url)
    err = await page.evaluate(
        """async () => {
          const { fetchBytes, ApiError } = await import('/static/js/api.js');
          try {
            await fetchBytes('/api/video/AAAAAAAAAAAAAAAAAAAAAA');
            return null;
          } catch (e) {
            return { isApiError: e instanceof ApiError, status: e.status, code: e.code, message: e.serverMessage };
          }
        }"""
    )
    assert err is not None and err["isApiError"] is True
    assert err["status"] == 404
    assert err["code"] == "booking_not_found"  # the app's one JSON error shape, read from a non-JSON request
    assert err["message"].startswith("Diesen Termin gibt es nicht")
