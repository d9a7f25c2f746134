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
