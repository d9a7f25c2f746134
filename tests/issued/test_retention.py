"""Issued documents follow the `documents` period of recordings-policy: file and row go together."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import select

from tests.helpers import post_json
from tests.issued.test_issuing import count_rows, issue_body, pdf_files, running_call
from tests.smtp import MailCatcher
from vibue.compliance.retention import run_retention
from vibue.core.clock import ManualClock
from vibue.core.settings import Settings
from vibue.models import AuditEntry
from vibue.web.appkeys import POLICY, SESSIONS


async def test_the_retention_job_deletes_file_and_row_after_the_period(
    client: TestClient[Any, Any], mail_catcher: MailCatcher, clock: ManualClock, settings: Settings
) -> None:
    call = await running_call(client, mail_catcher, clock)
    issued = await post_json(client, f"/api/clerk/appointments/{call.appointment_id}/documents", issue_body())
    document_id = (await issued.json())["document"]["id"]
    app = client.app

    clock.advance(days=89)
    report = await run_retention(app[SESSIONS], app[POLICY], clock, settings.data_path)
    assert report.deleted_documents == 0
    assert await count_rows(client) == 1
    assert [p.stem for p in pdf_files(settings)] == [document_id]

    clock.advance(days=2)  # 91 days after issue: past `documents = 90`
    report = await run_retention(app[SESSIONS], app[POLICY], clock, settings.data_path)
    assert report.deleted_documents == 1
    assert await count_rows(client) == 0
    assert pdf_files(settings) == []
    async with app[SESSIONS]() as session:
        entry = await session.scalar(
            select(AuditEntry).where(AuditEntry.action == "retention.applied").order_by(AuditEntry.id.desc())
        )
    assert entry is not None and entry.details["deleted_documents"] == 1
    verdict = await post_json(client, f"/api/verify/{document_id}", {"check_code": "AAAA-AAAA-AA"})
    assert (await verdict.json())["verdict"] == "unverifiable"
