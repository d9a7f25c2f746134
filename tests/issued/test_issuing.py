"""Issuing in the call, the citizen's download and the public verification, against real databases."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from tests.helpers import post_json, sign_in, sign_out
from tests.issued.conftest import Call, booked, set_status, verify_citizen
from tests.issued.factory import PlainFactory
from tests.smtp import MailCatcher
from vibue.core.clock import ManualClock
from vibue.core.settings import Settings
from vibue.issued.check_codes import check_code, matches
from vibue.models import AuditEntry, IssuedDocument
from vibue.seed import DEMO_STAFF
from vibue.web.appkeys import SESSIONS

FIELDS = {"name": "Erika Mustermann", "address": "Marktplatz 10\n69117 Heidelberg", "moved_in": "2026-11-01"}
KEY = "double-click-safe-0001"


def issue_body(key: str = KEY, **fields: str) -> dict[str, Any]:
    return {"template_id": "meldebestaetigung", "fields": {**FIELDS, **fields}, "idempotency_key": key}


async def as_staff(client: TestClient[Any, Any], username: str) -> None:
    password = next(d.password for d in DEMO_STAFF if d.username == username)
    await sign_in(client, None, username, password)


async def running_call(
    client: TestClient[Any, Any], catcher: MailCatcher, clock: ManualClock, *, minutes: int = 50
) -> Call:
    call = await booked(client, catcher)
    clock.advance(minutes=minutes)  # 07:50: the room is open
    await verify_citizen(client, catcher, call, "erika@example.org", count=3)
    await set_status(client, call, "in_call")
    await as_staff(client, "s.berger")
    return call


async def count_rows(client: TestClient[Any, Any]) -> int:
    async with client.app[SESSIONS]() as session:
        return int(await session.scalar(select(func.count()).select_from(IssuedDocument)) or 0)


def pdf_files(settings: Settings) -> list[Path]:
    return sorted((settings.data_path / "documents").glob("*.pdf"))


async def test_issue_download_verify_and_revoke(
    client: TestClient[Any, Any], mail_catcher: MailCatcher, clock: ManualClock, settings: Settings
) -> None:
    call = await running_call(client, mail_catcher, clock)
    listed = await (await client.get(f"/api/clerk/appointments/{call.appointment_id}/document-templates")).json()
    first = listed["templates"][0]
    assert (first["id"], first["suggested"]) == ("meldebestaetigung", True)
    assert [t["suggested"] for t in listed["templates"]] == [True, False]
    assert {f["name"]: f["value"] for f in first["fields"]}["name"] == "Erika Mustermann"
    assert first["fields"][0] == {
        "name": "name", "label": "Name", "kind": "text", "required": True, "max_length": 120,
        "value": "Erika Mustermann",
    }  # fmt: skip

    preview = await post_json(
        client, f"/api/clerk/appointments/{call.appointment_id}/document-preview",
        {"template_id": "meldebestaetigung", "fields": FIELDS},
    )  # fmt: skip
    assert preview.status == 200
    assert preview.content_type == "application/pdf"
    assert (await preview.read()).startswith(b"%PDF")
    assert pdf_files(settings) == []  # a preview stores nothing

    issued = await post_json(client, f"/api/clerk/appointments/{call.appointment_id}/documents", issue_body())
    assert issued.status == 201, await issued.text()
    doc = (await issued.json())["document"]
    code = check_code(settings.secret_key, doc["id"])
    assert len(doc["id"]) == 22
    assert doc["check_code"] == code
    assert doc["verify_url"] == f"http://127.0.0.1:8080/v/{doc['id']}#{code}"
    assert (doc["status"], doc["revoked_at"], doc["title"], doc["level"]) == ("valid", None, "Meldebestätigung", "B-B")

    again = await post_json(client, f"/api/clerk/appointments/{call.appointment_id}/documents", issue_body())
    assert again.status == 200
    assert (await again.json())["document"]["id"] == doc["id"]
    other = await post_json(
        client, f"/api/clerk/appointments/{call.appointment_id}/documents", issue_body(name="Max Mustermann")
    )
    assert other.status == 409
    assert (await other.json())["error"]["code"] == "idempotency_conflict"
    assert await count_rows(client) == 1

    pdf = await client.get(doc["download_url"])
    data = await pdf.read()
    assert pdf.headers["Content-Disposition"].startswith("attachment")
    assert hashlib.sha256(data).hexdigest() == doc["sha256"]
    assert pdf_files(settings) == [settings.data_path / "documents" / f"{doc['id']}.pdf"]

    async with client.app[SESSIONS]() as session:
        entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "document.issued"))
    assert entry is not None
    assert "Erika" not in str(entry.details) and "Marktplatz" not in str(entry.details)

    citizen = await (await client.get(f"/api/video/{call.token}/documents")).json()
    assert [d["id"] for d in citizen["documents"]] == [doc["id"]]
    inline = await client.get(citizen["documents"][0]["download_url"])
    assert inline.headers["Content-Disposition"].startswith("inline")
    assert await inline.read() == data
    attached = await client.get(citizen["documents"][0]["download_url"] + "?download=1")
    assert attached.headers["Content-Disposition"].startswith("attachment")

    verdict = await (await post_json(client, f"/api/verify/{doc['id']}", {"check_code": code.lower()})).json()
    assert verdict["verdict"] == "valid"
    assert verdict["document"]["holder"] == "E*** M***"
    assert verdict["document"]["office"] == "Bürgeramt Virtuell"
    assert verdict["document"]["sha256"] == doc["sha256"]
    assert "Gültig" in verdict["reason"]
    for document_id, given in ((doc["id"], "AAAA-AAAA-AA"), ("x" * 22, code)):
        neutral = await (await post_json(client, f"/api/verify/{document_id}", {"check_code": given})).json()
        assert neutral == {
            "verdict": "unverifiable",
            "reason": neutral["reason"],
            "document": None,
        }
        assert "Nicht prüfbar" in neutral["reason"]

    revoked = await post_json(client, f"/api/clerk/documents/{doc['id']}/revoke", {"reason": "Tippfehler im Namen"})
    assert revoked.status == 200
    assert (await revoked.json())["document"]["status"] == "revoked"
    twice = await post_json(client, f"/api/clerk/documents/{doc['id']}/revoke", {"reason": "noch einmal"})
    assert (twice.status, (await twice.json())["error"]["code"]) == (409, "document_revoked")
    verdict = await (await post_json(client, f"/api/verify/{doc['id']}", {"check_code": code})).json()
    assert verdict["verdict"] == "revoked"
    assert verdict["document"]["revoked_at"] is not None


def test_check_codes_read_leniently() -> None:
    code = check_code("secret", "abc")
    assert len(code) == 12 and code[4] == code[9] == "-"
    assert all(ch not in "ILOU" for ch in code.replace("-", ""))
    assert matches("secret", "abc", code.replace("-", " ").lower())
    assert not matches("secret", "abd", code)
    assert check_code("other secret", "abc") != code


async def test_outsiders_get_nothing(
    client: TestClient[Any, Any], mail_catcher: MailCatcher, clock: ManualClock, settings: Settings
) -> None:
    # Booked while the clock says 07:00; the rooms of 08:15 and 08:30 open at 08:00 and 08:15.
    other = await booked(client, mail_catcher, email="max@example.org", start="2026-11-30T08:15:00+01:00")
    unverified = await booked(client, mail_catcher, email="ulla@example.org", start="2026-11-30T08:30:00+01:00")
    call = await running_call(client, mail_catcher, clock, minutes=76)  # 08:16
    issued = await post_json(client, f"/api/clerk/appointments/{call.appointment_id}/documents", issue_body())
    doc = (await issued.json())["document"]
    citizen_url = f"/api/video/{call.token}/documents/{doc['id']}/pdf"

    # Another citizen, identity verified for their own appointment.
    await verify_citizen(client, mail_catcher, other, "max@example.org", count=3)
    foreign = await client.get(f"/api/video/{other.token}/documents/{doc['id']}/pdf")
    assert (foreign.status, (await foreign.json())["error"]["code"]) == (404, "document_not_found")
    assert (await (await client.get(f"/api/video/{other.token}/documents")).json())["documents"] == []

    # A citizen of a booking whose identity code was not entered.
    answer = await client.get(f"/api/video/{unverified.token}/documents")
    assert (answer.status, (await answer.json())["error"]["code"]) == (422, "identity_code_missing")

    # A clerk of another unit: as if neither appointment nor document existed.
    await sign_out(client)
    await as_staff(client, "l.hoffmann")
    for path in (doc["download_url"], f"/api/clerk/appointments/{call.appointment_id}/documents"):
        answer = await client.get(path)
        assert answer.status == 404, path
    refused = await post_json(client, f"/api/clerk/appointments/{call.appointment_id}/documents", issue_body("k" * 20))
    assert (await refused.json())["error"]["code"] == "appointment_not_found"
    revoke = await post_json(client, f"/api/clerk/documents/{doc['id']}/revoke", {"reason": "fremd"})
    assert (await revoke.json())["error"]["code"] == "document_not_found"

    # Anonymous: no staff cookie, no booking link.
    await sign_out(client)
    answer = await client.get(doc["download_url"])
    assert (answer.status, (await answer.json())["error"]["code"]) == (401, "not_signed_in")
    answer = await client.get(f"/api/video/{'z' * 22}/documents/{doc['id']}/pdf")
    assert (answer.status, (await answer.json())["error"]["code"]) == (404, "booking_not_found")
    # ... while the right citizen still can.
    assert (await client.get(citizen_url)).status == 200


async def test_refusals_before_sealing(
    client: TestClient[Any, Any], mail_catcher: MailCatcher, clock: ManualClock, settings: Settings
) -> None:
    call = await running_call(client, mail_catcher, clock)
    path = f"/api/clerk/appointments/{call.appointment_id}/documents"
    bad = await post_json(client, path, issue_body(moved_in="gestern", name=""))
    assert bad.status == 422
    assert set((await bad.json())["error"]["fields"]) == {"moved_in", "name"}
    unknown = await post_json(client, path, {**issue_body(), "template_id": "waffenschein"})
    assert (unknown.status, (await unknown.json())["error"]["code"]) == (404, "template_not_found")
    short_key = await post_json(client, path, issue_body("short"))
    assert "idempotency_key" in (await short_key.json())["error"]["fields"]
    await set_status(client, call, "confirmed")
    not_running = await post_json(client, path, issue_body())
    assert (not_running.status, (await not_running.json())["error"]["code"]) == (409, "status_conflict")
    assert await count_rows(client) == 0


async def test_a_seal_failure_issues_nothing(
    client: TestClient[Any, Any],
    mail_catcher: MailCatcher,
    clock: ManualClock,
    settings: Settings,
    factory: PlainFactory,
) -> None:
    call = await running_call(client, mail_catcher, clock)
    factory.fail_next = True
    path = f"/api/clerk/appointments/{call.appointment_id}/documents"
    failed = await post_json(client, path, issue_body())
    assert failed.status == 503
    assert failed.headers["Retry-After"] == "30"
    assert (await failed.json())["error"]["code"] == "seal_unavailable"
    assert await count_rows(client) == 0
    assert pdf_files(settings) == []
    retried = await post_json(client, path, issue_body())  # the same key works once the seal is back
    assert retried.status == 201


async def test_a_double_click_issues_one_document(
    client: TestClient[Any, Any],
    mail_catcher: MailCatcher,
    clock: ManualClock,
    settings: Settings,
    factory: PlainFactory,
) -> None:
    call = await running_call(client, mail_catcher, clock)
    factory.barrier = asyncio.Barrier(2)  # both requests are past the check before either stores
    path = f"/api/clerk/appointments/{call.appointment_id}/documents"
    first, second = await asyncio.gather(post_json(client, path, issue_body()), post_json(client, path, issue_body()))
    assert sorted([first.status, second.status]) == [200, 201]
    ids = {(await first.json())["document"]["id"], (await second.json())["document"]["id"]}
    assert len(ids) == 1
    assert factory.issued == 2  # both sealed; one row, one file
    assert await count_rows(client) == 1
    assert [p.stem for p in pdf_files(settings)] == list(ids)


async def test_root_certificate(client: TestClient[Any, Any], factory: PlainFactory) -> None:
    answer = await client.get("/api/verify/root-certificate")
    assert answer.status == 200
    assert answer.content_type == "application/x-pem-file"
    assert answer.headers["Content-Disposition"] == 'attachment; filename="vibue-entwicklungs-wurzel.pem"'
    assert (await answer.read()).startswith(b"-----BEGIN CERTIFICATE-----")
    factory.root = None
    answer = await client.get("/api/verify/root-certificate")
    assert (answer.status, (await answer.json())["error"]["code"]) == (404, "root_certificate_unavailable")
