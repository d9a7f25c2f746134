"""The seal's key on a PKCS#11 token: a SoftHSM2 token made by the test, in its own configuration."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pkcs11
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from pkcs11 import Attribute, CertificateType, ObjectClass

from documents import pki
from documents.sealing import Sealer
from tests.documents.checks import BOX, WHEN, assert_valid, sample_pdf
from vibue.core.settings import SettingsError, load

MODULE = "/usr/lib/softhsm/libsofthsm2.so"
TOKEN = "vibue-test"
PIN = "4711-0815"
LABEL = "dienstsiegel"


@pytest.fixture
def token(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> pki.DevelopmentPki:
    """A fresh token holding the development PKI's seal key and certificate."""
    (tmp_path / "tokens").mkdir()
    conf = tmp_path / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {tmp_path / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n")
    monkeypatch.setenv("SOFTHSM2_CONF", str(conf))
    subprocess.run(
        ["softhsm2-util", "--init-token", "--free", "--label", TOKEN, "--pin", PIN, "--so-pin", "12345678"],
        check=True,
        capture_output=True,
    )
    made = pki.ensure(tmp_path / "pki-source", "Heidelberg")
    key, cert, _others = pkcs12.load_key_and_certificates(made.seal_file.read_bytes(), None)
    assert key is not None and cert is not None
    key_file = tmp_path / "seal.key.pem"
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    subprocess.run(
        ["softhsm2-util", "--import", str(key_file), "--token", TOKEN, "--label", LABEL, "--id", "01", "--pin", PIN],
        check=True,
        capture_output=True,
    )
    key_file.unlink()
    # softhsm2-util imports keys only: the certificate goes on the token over PKCS#11 itself.
    with pkcs11.lib(MODULE).get_token(token_label=TOKEN).open(rw=True, user_pin=PIN) as session:
        session.create_object(
            {
                Attribute.CLASS: ObjectClass.CERTIFICATE,
                Attribute.CERTIFICATE_TYPE: CertificateType.X_509,
                Attribute.TOKEN: True,
                Attribute.LABEL: LABEL,
                Attribute.ID: b"\x01",
                Attribute.SUBJECT: cert.subject.public_bytes(),
                Attribute.VALUE: cert.public_bytes(serialization.Encoding.DER),
            }
        )
    return made


def token_settings(tmp_path: Path, **changes: str) -> dict[str, str]:
    values = {
        "VIBUE_DATA_DIR": str(tmp_path / "var"),
        "VIBUE_SEAL_KEY_SOURCE": "pkcs11",
        "VIBUE_SEAL_PKCS11_MODULE": MODULE,
        "VIBUE_SEAL_PKCS11_TOKEN": TOKEN,
        "VIBUE_SEAL_PKCS11_PIN": PIN,
        "VIBUE_SEAL_PKCS11_KEY_LABEL": LABEL,
        "VIBUE_SEAL_CHAIN_FILE": str(tmp_path / "pki-source" / "pki" / "root.pem"),
    }
    values.update(changes)
    return values


async def test_a_softhsm2_token_seals_and_the_seal_validates(token: pki.DevelopmentPki, tmp_path: Path) -> None:
    sealer = await Sealer.start(load(token_settings(tmp_path)))
    try:
        assert sealer.key.token and sealer.root_certificate() is None
        seal_cert = x509.load_der_x509_certificate(sealer.key.certificate.dump())
        assert "Dienstsiegel" in seal_cert.subject.rfc4514_string()
        for _ in range(2):  # the session and key handle opened at start serve every seal
            document = await sealer.seal(
                sample_pdf(), page=0, box=BOX, clerk_name="Jörg Weiß", office="Bürgeramt Virtuell", when=WHEN
            )
            assert document.level == "B-B"
        await assert_valid(document, token.root_pem(), tmp_path)
    finally:
        sealer.close()


def test_a_wrong_pin_is_a_start_error(token: pki.DevelopmentPki, tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="cannot open the PKCS#11 token"):
        Sealer.open(load(token_settings(tmp_path, VIBUE_SEAL_PKCS11_PIN="0000-0000")))
