"""Verification is rate-limited per client and per document, whatever the answer."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.helpers import post_json
from vibue.core.settings import Settings

DOCUMENT = "d" * 22


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.replace(rate_limit_document_checks=5, rate_limit_document_checks_per_document=2)


async def verdict(client: TestClient[Any, Any], document_id: str) -> tuple[int, str]:
    response = await post_json(client, f"/api/verify/{document_id}", {"check_code": "7KQ4-M2XD-9P"})
    data = await response.json()
    return response.status, data.get("verdict") or data["error"]["code"]


async def test_checks_are_limited_per_document_and_per_client(client: TestClient[Any, Any]) -> None:
    assert [await verdict(client, DOCUMENT) for _ in range(2)] == [(200, "unverifiable")] * 2
    refused = await post_json(client, f"/api/verify/{DOCUMENT}", {"check_code": "7KQ4-M2XD-9P"})
    assert refused.status == 429
    assert int(refused.headers["Retry-After"]) > 0
    # Other documents are still open to this client, up to its own limit (5 hits, the refused one counted).
    assert [await verdict(client, "e" * 22) for _ in range(2)] == [(200, "unverifiable")] * 2
    assert await verdict(client, "f" * 22) == (429, "rate_limited")


async def test_the_api_description_declares_the_pdf_and_pem_answers(client: TestClient[Any, Any]) -> None:
    paths = (await (await client.get("/api/openapi.json")).json())["paths"]
    pdf = paths["/api/clerk/documents/{document_id}/pdf"]["get"]
    assert pdf["responses"]["200"]["content"] == {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}
    assert pdf["parameters"][0]["schema"] == {"type": "string", "pattern": "^[A-Za-z0-9_-]{22}$"}
    root = paths["/api/verify/root-certificate"]["get"]["responses"]
    assert set(root["200"]["content"]) == {"application/x-pem-file"}
    issue = paths["/api/clerk/appointments/{appointment_id}/documents"]["post"]["responses"]
    assert "seal_unavailable" in issue["503"]["description"]
    verify = paths["/api/verify/{document_id}"]["post"]
    assert set(verify["x-error-codes"]) >= {"rate_limited", "limits_unavailable"}
    assert "Retry-After" in verify["responses"]["429"]["headers"]


async def test_concurrent_checks_of_one_document_get_exactly_its_limit(client: TestClient[Any, Any]) -> None:
    # Twelve at once, as a script would send them: the per-document limit (2) still holds exactly.
    answers = await asyncio.gather(*(verdict(client, DOCUMENT) for _ in range(12)))
    assert sorted(answers) == sorted([(200, "unverifiable")] * 2 + [(429, "rate_limited")] * 10)
