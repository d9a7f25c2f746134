"""Sealing: B-B with the development PKI and a test PKI, B-T and B-LT against real services on loopback.

Each sealed PDF is checked by pyHanko's validator against the root and by poppler's pdfsig against
an NSS store that trusts only that root; one changed byte must make both say invalid.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import pkcs12

from documents import pki
from documents.keys import CachedKeySigner
from documents.sealing import Sealer
from tests.documents.checks import (
    BOX,
    WHEN,
    Pdfsig,
    assert_valid,
    pyhanko_status,
    sample_pdf,
    settings_for,
    tampered,
)
from tests.documents.testpki import ServedPki, serve
from vibue.core.errors import SealUnavailable
from vibue.core.settings import Settings, SettingsError
from vibue.issued.ports import SealedDocument


@pytest.fixture
async def sealers() -> AsyncIterator[list[Sealer]]:
    made: list[Sealer] = []
    yield made
    for sealer in made:
        sealer.close()


async def open_sealer(sealers: list[Sealer], settings: Settings) -> Sealer:
    sealer = await Sealer.start(settings)
    sealers.append(sealer)
    return sealer


async def seal(sealer: Sealer) -> SealedDocument:
    return await sealer.seal(
        sample_pdf(), page=0, box=BOX, clerk_name="Jörg Weiß", office="Bürgeramt Virtuell", when=WHEN
    )


def test_development_pki_is_made_once_labelled_and_reused(tmp_path: Path) -> None:
    made = pki.ensure(tmp_path, "Heidelberg")
    root_before, seal_before = made.root_pem(), made.seal_file.read_bytes()
    again = pki.ensure(tmp_path, "Heidelberg")
    assert (again.root_pem(), again.seal_file.read_bytes()) == (root_before, seal_before)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["pki"]  # no staging folder left
    assert made.seal_file.stat().st_mode & 0o077 == 0

    root = x509.load_pem_x509_certificate(root_before)
    _key, seal_cert, _others = pkcs12.load_key_and_certificates(seal_before, None)
    assert seal_cert is not None
    for cert in (root, seal_cert):
        subject = cert.subject.rfc4514_string()
        assert "NUR ENTWICKLUNG" in subject and "nur für Entwicklung und Tests" in subject
    usage = seal_cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.content_commitment and not usage.key_cert_sign
    assert seal_cert.issuer == root.subject


async def test_b_b_with_the_development_pki(sealers: list[Sealer], dev_data_dir: Path, tmp_path: Path) -> None:
    sealer = await open_sealer(sealers, settings_for(data_dir=str(dev_data_dir)))
    document = await seal(sealer)
    assert document.level == "B-B"
    root_pem = sealer.root_certificate()
    assert root_pem is not None and root_pem.startswith(b"-----BEGIN CERTIFICATE-----")
    assert root_pem == (dev_data_dir / "pki" / "root.pem").read_bytes()
    await assert_valid(document, root_pem, tmp_path)  # and no timestamp: none is configured


async def test_the_seal_runs_in_a_worker_thread_while_the_loop_goes_on(
    sealers: list[Sealer], dev_data_dir: Path
) -> None:
    sealer = await open_sealer(sealers, settings_for(data_dir=str(dev_data_dir)))
    signer = sealer.key.signer
    assert isinstance(signer, CachedKeySigner)
    threads: list[str] = []
    sign_raw = signer.sign_raw

    def recording_sign_raw(data: bytes, digest_algorithm: str) -> bytes:
        threads.append(threading.current_thread().name)
        signature: bytes = sign_raw(data, digest_algorithm)
        return signature

    signer.sign_raw = recording_sign_raw  # type: ignore[method-assign]
    ticks = 0
    stop = asyncio.Event()

    async def probe() -> None:
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            await asyncio.sleep(0)

    probing = asyncio.create_task(probe())
    sealing = asyncio.create_task(seal(sealer))
    await asyncio.wait({sealing, probing}, return_when=asyncio.FIRST_COMPLETED)
    running_while_sealing = ticks
    stop.set()
    await probing
    document = await sealing
    assert document.pdf.startswith(b"%PDF")
    assert threads and all(name.startswith("vibue-seal") for name in threads), threads
    assert threading.main_thread().name not in threads
    assert running_while_sealing > 0


async def test_b_b_with_a_pkcs12_file(sealers: list[Sealer], test_pki: ServedPki, tmp_path: Path) -> None:
    sealer = await open_sealer(
        sealers,
        settings_for(
            data_dir=str(tmp_path / "var"), seal_key_source="pkcs12", seal_pkcs12_file=str(test_pki.pkcs12_file)
        ),
    )
    assert sealer.root_certificate() is None  # not the development PKI
    document = await seal(sealer)
    assert document.level == "B-B"
    await assert_valid(document, test_pki.root_pem, tmp_path)
    assert not (tmp_path / "var" / "pki").exists()


async def test_b_t_with_a_timestamp_from_the_loopback_authority(
    sealers: list[Sealer], test_pki: ServedPki, dev_data_dir: Path, tmp_path: Path
) -> None:
    # The development seal (no revocation URLs) with the test PKI's TSA: B-T, not B-LT.
    sealer = await open_sealer(sealers, settings_for(data_dir=str(dev_data_dir), seal_tsa_url=test_pki.tsa_url))
    document = await seal(sealer)
    assert document.level == "B-T"
    root_pem = sealer.root_certificate()
    assert root_pem is not None
    await assert_valid(document, root_pem, tmp_path, tsa_root_pem=test_pki.root_pem)


async def test_b_lt_validates_offline_from_the_files_revocation_data(
    sealers: list[Sealer], test_pki: ServedPki, tmp_path: Path
) -> None:
    sealer = await open_sealer(
        sealers,
        settings_for(
            data_dir=str(tmp_path / "var"),
            seal_key_source="pkcs12",
            seal_pkcs12_file=str(test_pki.pkcs12_file),
            seal_tsa_url=test_pki.tsa_url,
        ),
    )
    document = await seal(sealer)
    assert document.level == "B-LT"
    assert b"/DSS" in document.pdf
    await assert_valid(document, test_pki.root_pem, tmp_path)  # offline: only the file's revocation data


async def test_one_changed_byte_makes_pyhanko_and_pdfsig_say_invalid(
    sealers: list[Sealer], dev_data_dir: Path, tmp_path: Path
) -> None:
    sealer = await open_sealer(sealers, settings_for(data_dir=str(dev_data_dir)))
    document = await seal(sealer)
    root_pem = sealer.root_certificate()
    assert root_pem is not None
    changed = tampered(document.pdf)
    assert len(changed) == len(document.pdf) and changed != document.pdf
    status = await pyhanko_status(changed, root_pem)
    assert not status.intact and not status.bottom_line
    pdf_file = tmp_path / "changed.pdf"
    pdf_file.write_bytes(changed)
    report = Pdfsig.trusting(tmp_path / "nss", root_pem).check(pdf_file)
    assert "Signature is Valid." not in report
    assert "Digest Mismatch" in report, report


def closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_timestamp_authority_down_is_seal_unavailable_and_returns_nothing(
    sealers: list[Sealer], dev_data_dir: Path
) -> None:
    url = f"http://127.0.0.1:{closed_port()}/tsa"
    sealer = await open_sealer(sealers, settings_for(data_dir=str(dev_data_dir), seal_tsa_url=url))
    assert sealer.level == "B-T"
    with pytest.raises(SealUnavailable) as raised:
        await seal(sealer)
    assert raised.value.code == "seal_unavailable"
    assert raised.value.status == 503 and raised.value.retry_after == 30


async def test_revocation_responders_down_is_seal_unavailable(
    sealers: list[Sealer], test_pki: ServedPki, tmp_path: Path
) -> None:
    """The TSA answers, but the seal's CRL and OCSP URLs lead to a closed port: no B-LT, no document."""
    with serve(tmp_path / "other", url=f"http://127.0.0.1:{closed_port()}", listen=False) as unreachable:
        sealer = await open_sealer(
            sealers,
            settings_for(
                data_dir=str(tmp_path / "var"),
                seal_key_source="pkcs12",
                seal_pkcs12_file=str(unreachable.pkcs12_file),
                seal_tsa_url=test_pki.tsa_url,
            ),
        )
        assert sealer.level == "B-LT"
        with pytest.raises(SealUnavailable):
            await seal(sealer)


def test_production_refuses_the_development_pki(tmp_path: Path) -> None:
    production = settings_for(mode="production", secret_key="k" * 40, seed_demo="false", data_dir=str(tmp_path / "var"))
    with pytest.raises(SettingsError, match="production mode refuses the development PKI"):
        Sealer.open(production)
    assert not (tmp_path / "var" / "pki").exists()
