"""The app as run.py builds it: documents.setup's real factory renders the template and seals it.

At B-B with the development PKI the download validates with pdfsig against the root the
verification page offers. With VIBUE_SEAL_TSA_URL set to the loopback certomancer TSA the document
is B-T, and with certomancer's PKCS#12 as the seal key B-LT: the issue answer, the citizen's list
and the public verification say so, and the downloaded file proves it. A timestamp authority or a
revocation responder that does not answer gives the clerk 503 `seal_unavailable` and leaves no
row and no file behind.

The other tests of this folder use tests/issued/factory.py (a port double that can fail and race on
demand); these show that the real parts meet through the port.
"""

from __future__ import annotations

import hashlib
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

import documents
import signaling
from tests.documents.checks import Pdfsig, assert_valid, tampered
from tests.documents.testpki import ServedPki, serve
from tests.helpers import post_json, with_development_pki
from tests.issued.conftest import Call
from tests.issued.test_issuing import count_rows, running_call
from tests.smtp import MailCatcher
from vibue.app import create_app
from vibue.core.clock import ManualClock
from vibue.core.settings import Settings
from vibue.issued.ports import Level, SealedDocument

KEY = "sealed-in-the-app-01"
SEAL_UNAVAILABLE = (
    "Das Dokument konnte gerade nicht elektronisch gesiegelt werden (Zeitstempel- oder Prüfdienst nicht"
    " erreichbar). Es wurde nichts ausgestellt. Bitte versuchen Sie es in 30 Sekunden erneut – Ihre"
    " Eingaben bleiben erhalten."
)


@pytest.fixture
def settings(settings: Settings, development_pki: Path) -> Settings:
    """The data dir holds the development PKI already, as after the app's first start; one worker
    process renders and seals, as in production (two would only cost more start-up here)."""
    return with_development_pki(settings.replace(seal_workers=1), development_pki)


@pytest.fixture(scope="module")
def test_pki(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedPki]:
    """certomancer's timestamp authority and CRL repository on loopback, for this module's apps."""
    with serve(tmp_path_factory.mktemp("certomancer")) as served:
        yield served


async def real_app(aiohttp_client: Any, settings: Settings, clock: ManualClock) -> TestClient[Any, Any]:
    """The app with documents.setup, the factory run.py plugs in, under these settings."""
    app = create_app(settings, clock=clock, setups=[signaling.setup, documents.setup])
    test_client: TestClient[Any, Any] = await aiohttp_client(app)
    return test_client


@pytest.fixture
async def real_client(aiohttp_client: Any, settings: Settings, clock: ManualClock) -> TestClient[Any, Any]:
    return await real_app(aiohttp_client, settings, clock)


def closed_port_url() -> str:
    """A loopback URL where nothing listens: the port was bound, then released."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


async def issue_meldebestaetigung(client: TestClient[Any, Any], call: Call) -> Any:
    """The clerk picks the Meldebestätigung in the running call, completes its prefilled fields, issues."""
    listed = await (await client.get(f"/api/clerk/appointments/{call.appointment_id}/document-templates")).json()
    chosen = next(t for t in listed["templates"] if t["id"] == "meldebestaetigung")
    fields = {f["name"]: f["value"] for f in chosen["fields"]}
    assert fields["name"] == "Erika Mustermann"  # prefilled from the booking
    fields |= {"birth_date": "12.08.1964", "move_in_date": "01.11.2026", "address": "Marktplatz 10\n69117 Heidelberg"}
    shown = {"template_id": "meldebestaetigung", "fields": fields}
    preview = await post_json(client, f"/api/clerk/appointments/{call.appointment_id}/document-preview", shown)
    assert preview.status == 200, await preview.text()
    return await post_json(
        client, f"/api/clerk/appointments/{call.appointment_id}/documents", {**shown, "idempotency_key": KEY}
    )


async def issued_and_downloaded(client: TestClient[Any, Any], call: Call) -> tuple[dict[str, Any], bytes]:
    issued = await issue_meldebestaetigung(client, call)
    assert issued.status == 201, await issued.text()
    doc: dict[str, Any] = (await issued.json())["document"]
    pdf = await (await client.get(f"/api/video/{call.token}/documents/{doc['id']}/pdf")).read()
    assert hashlib.sha256(pdf).hexdigest() == doc["sha256"]
    return doc, pdf


async def verified_level(client: TestClient[Any, Any], doc: dict[str, Any]) -> str:
    answer = await (await post_json(client, f"/api/verify/{doc['id']}", {"check_code": doc["check_code"]})).json()
    assert answer["verdict"] == "valid", answer
    level: str = answer["document"]["level"]
    return level


async def test_a_sealed_meldebestaetigung_from_the_call_validates(
    real_client: TestClient[Any, Any], mail_catcher: MailCatcher, clock: ManualClock, tmp_path: Path
) -> None:
    client = real_client
    call = await running_call(client, mail_catcher, clock)
    doc, pdf = await issued_and_downloaded(client, call)
    assert doc["level"] == "B-B"
    root = await client.get("/api/verify/root-certificate")
    assert root.status == 200
    root_pem = await root.read()

    await assert_valid(SealedDocument(pdf=pdf, level="B-B"), root_pem, tmp_path)  # pyHanko, pdfsig, pdffonts
    broken = tmp_path / "tampered.pdf"
    broken.write_bytes(tampered(pdf))
    assert "Signature is Valid." not in Pdfsig.trusting(tmp_path / "nss-tampered", root_pem).check(broken)
    assert await verified_level(client, doc) == "B-B"


@pytest.mark.parametrize("level", ["B-T", "B-LT"])
async def test_a_timestamp_authority_makes_the_document_b_t_or_with_revocation_data_b_lt(
    aiohttp_client: Any,
    settings: Settings,
    clock: ManualClock,
    mail_catcher: MailCatcher,
    test_pki: ServedPki,
    tmp_path: Path,
    level: Level,
) -> None:
    settings = settings.replace(seal_tsa_url=test_pki.tsa_url)
    if level == "B-LT":  # certomancer's seal names its CRL repository: the revocation data goes into the file
        settings = settings.replace(seal_key_source="pkcs12", seal_pkcs12_file=str(test_pki.pkcs12_file))
    client = await real_app(aiohttp_client, settings, clock)
    call = await running_call(client, mail_catcher, clock)
    doc, pdf = await issued_and_downloaded(client, call)

    assert doc["level"] == level
    listed = await (await client.get(f"/api/video/{call.token}/documents")).json()
    assert [(d["id"], d["level"]) for d in listed["documents"]] == [(doc["id"], level)]
    assert await verified_level(client, doc) == level

    root = await client.get("/api/verify/root-certificate")
    if level == "B-T":  # the development seal, timestamped by the test PKI's authority
        assert root.status == 200
        seal_root, tsa_root = await root.read(), test_pki.root_pem
    else:  # a real key: no development root to offer
        assert (root.status, (await root.json())["error"]["code"]) == (404, "root_certificate_unavailable")
        seal_root, tsa_root = test_pki.root_pem, b""
    # B-T: a valid, trusted timestamp; B-LT: that, and valid offline from the file's own revocation data.
    await assert_valid(SealedDocument(pdf=pdf, level=level), seal_root, tmp_path, tsa_root_pem=tsa_root)


def files_under(folder: Path) -> list[Path]:
    return sorted(path.relative_to(folder) for path in folder.rglob("*") if path.is_file())


@pytest.mark.parametrize("failing", ["timestamp", "revocation"])
async def test_a_failed_timestamp_or_revocation_fetch_issues_nothing(
    aiohttp_client: Any,
    settings: Settings,
    clock: ManualClock,
    mail_catcher: MailCatcher,
    test_pki: ServedPki,
    tmp_path: Path,
    failing: str,
) -> None:
    if failing == "timestamp":  # the development seal, a TSA URL where nothing answers
        settings = settings.replace(seal_tsa_url=f"{closed_port_url()}/tsa")
    else:  # the TSA answers; the seal's CRL URL leads to a closed port
        with serve(tmp_path / "unreachable", url=closed_port_url(), listen=False) as unreachable:
            p12 = unreachable.pkcs12_file
        settings = settings.replace(seal_tsa_url=test_pki.tsa_url, seal_key_source="pkcs12", seal_pkcs12_file=str(p12))
    client = await real_app(aiohttp_client, settings, clock)
    call = await running_call(client, mail_catcher, clock)
    before = files_under(settings.data_path)  # the development PKI, if any: made at start

    failed = await issue_meldebestaetigung(client, call)
    assert failed.status == 503
    assert failed.headers["Retry-After"] == "30"
    assert await failed.json() == {"error": {"code": "seal_unavailable", "message": SEAL_UNAVAILABLE, "fields": {}}}
    assert await count_rows(client) == 0
    assert files_under(settings.data_path) == before
    assert not (settings.data_path / "documents").exists() or not any((settings.data_path / "documents").iterdir())
    listed = await (await client.get(f"/api/clerk/appointments/{call.appointment_id}/documents")).json()
    assert listed["documents"] == []
