"""The front end's files: served whole with their type, revalidated by ETag, nothing outside web/."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient


async def test_a_script_is_served_with_its_type_and_revalidated_by_etag(client: TestClient[Any, Any]) -> None:
    first = await client.get("/static/js/api.js")
    assert first.status == 200
    assert first.headers["Content-Type"].startswith("text/javascript")
    assert first.headers["Cache-Control"] == "no-cache"
    assert "export" in await first.text()
    again = await client.get("/static/js/api.js", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status == 304
    assert await again.read() == b""


async def test_pages_are_html_and_unknown_files_are_not_found(client: TestClient[Any, Any]) -> None:
    page = await client.get("/anmelden")
    assert page.status == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert "<html" in await page.text()
    assert (await client.get("/static/../vibue/core/settings.py")).status == 404
    assert (await client.get("/static/js/nothing-here.js")).status == 404


async def test_a_page_is_served_in_the_language_the_api_answers_in(client: TestClient[Any, Any]) -> None:
    # One rule for pages and API: the language cookie, then Accept-Language, then German.
    english = {"Accept-Language": "en-GB,en;q=0.9"}
    page = await client.get("/buchen/1", headers=english)
    assert '<html lang="en">' in await page.text()
    assert "Accept-Language" in page.headers["Vary"]
    units = (await (await client.get("/api/units", headers=english)).json())["units"]
    assert "Virtual Citizens' Office" in [unit["name"] for unit in units]
    assert '<html lang="de">' in await (await client.get("/buchen/1")).text()
    chosen = await client.get("/buchen/1", headers={**english, "Cookie": "vibue_lang=de"})
    assert '<html lang="de">' in await chosen.text()
    # Each language is its own version of the page for a cache.
    again = await client.get("/buchen/1", headers={"If-None-Match": page.headers["ETag"]})
    assert again.status == 200


async def test_the_verification_page_is_served_for_a_document_id_and_the_code_stays_out(
    client: TestClient[Any, Any],
) -> None:
    page = await client.get("/v/Zq3vH8kLm2Np4Rs6Tu8Vw0")
    assert page.status == 200
    assert page.headers["Content-Type"].startswith("text/html")
    text = await page.text()
    assert "/static/js/verify.js" in text
    # The check code after # never reaches the server; the page sends no referrer onwards either.
    assert '<meta name="referrer" content="no-referrer">' in text
    assert (await client.get("/v/short")).status == 404  # not a document id (16-64 URL-safe characters)
    assert (await client.get("/v/" + "a" * 65)).status == 404
