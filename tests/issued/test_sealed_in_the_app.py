"""The app as run.py builds it: documents.setup's real factory renders the template and seals it with
the development PKI; the download validates with pdfsig against the root the verification page offers.

The other tests of this folder use tests/issued/factory.py (a port double that can fail and race on
demand); this one shows that the real parts meet through the port.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

import documents
import signaling
from tests.documents.checks import Pdfsig, pdffonts, pyhanko_status, tampered
from tests.helpers import post_json, with_development_pki
from tests.issued.conftest import booked, set_status, verify_citizen
from tests.issued.test_issuing import as_staff
from tests.smtp import MailCatcher
from vibue.app import create_app
from vibue.core.clock import ManualClock
from vibue.core.settings import Settings


@pytest.fixture
async def real_client(
    aiohttp_client: Any, settings: Settings, clock: ManualClock, development_pki: Path
) -> TestClient[Any, Any]:
    settings = with_development_pki(settings, development_pki)
    app = create_app(settings, clock=clock, setups=[signaling.setup, documents.setup])
    test_client: TestClient[Any, Any] = await aiohttp_client(app)
    return test_client


async def test_a_sealed_meldebestaetigung_from_the_call_validates(
    real_client: TestClient[Any, Any], mail_catcher: MailCatcher, clock: ManualClock, tmp_path: Path
) -> None:
    client = real_client
    call = await booked(client, mail_catcher)
    clock.advance(minutes=50)
    await verify_citizen(client, mail_catcher, call, "erika@example.org", count=3)
    await set_status(client, call, "in_call")
    await as_staff(client, "s.berger")

    listed = await (await client.get(f"/api/clerk/appointments/{call.appointment_id}/document-templates")).json()
    chosen = next(t for t in listed["templates"] if t["id"] == "meldebestaetigung")
    fields = {f["name"]: f["value"] for f in chosen["fields"]}
    assert fields["name"] == "Erika Mustermann"  # prefilled from the booking
    fields |= {"birth_date": "12.08.1964", "move_in_date": "01.11.2026", "address": "Marktplatz 10\n69117 Heidelberg"}
    shown = {"template_id": "meldebestaetigung", "fields": fields}
    body = {**shown, "idempotency_key": "sealed-in-the-app-01"}

    preview = await post_json(client, f"/api/clerk/appointments/{call.appointment_id}/document-preview", shown)
    assert preview.status == 200, await preview.text()
    issued = await post_json(client, f"/api/clerk/appointments/{call.appointment_id}/documents", body)
    assert issued.status == 201, await issued.text()
    doc = (await issued.json())["document"]
    assert doc["level"] == "B-B"

    pdf = await (await client.get(f"/api/video/{call.token}/documents/{doc['id']}/pdf")).read()
    assert hashlib.sha256(pdf).hexdigest() == doc["sha256"]
    root = await client.get("/api/verify/root-certificate")
    assert root.status == 200
    root_pem = await root.read()

    status = await pyhanko_status(pdf, root_pem)
    assert status.intact and status.valid and status.trusted
    store = Pdfsig.trusting(tmp_path / "nss", root_pem)
    signed = tmp_path / "signed.pdf"
    signed.write_bytes(pdf)
    verdict = store.check(signed)
    assert "Signature is Valid." in verdict and "Certificate is Trusted." in verdict
    assert all(row[-3] == "yes" for row in pdffonts(signed))  # the "emb" column of every font
    broken = tmp_path / "tampered.pdf"
    broken.write_bytes(tampered(pdf))
    assert "Signature is Valid." not in store.check(broken)

    answer = await post_json(client, f"/api/verify/{doc['id']}", {"check_code": doc["check_code"]})
    assert (await answer.json())["verdict"] == "valid"
