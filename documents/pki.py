"""The development PKI: a city root CA and the office's seal certificate, made once under the data dir.

Only for `make run` and the tests. Both subjects say so ("NUR ENTWICKLUNG", "nur für Entwicklung
und Tests"), so a document sealed with it cannot pass for a real one, and production mode refuses
it (documents.keys). The root's private key is thrown away after it signed the seal certificate:
nothing else is ever issued from it. The folder appears in one rename, so a crash or a second
process starting at the same moment leaves either no PKI or a whole one, never half of one.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

FOLDER = "pki"
ROOT_FILE = "root.pem"
SEAL_FILE = "seal.p12"
OFFICE = "Bürgeramt Virtuell"
# RSA 3072: what BSI TR-02102-1 asks of new keys; the dev PKI is made once, so its cost does not matter.
KEY_BITS = 3072
ROOT_YEARS = 20
SEAL_YEARS = 5
# A seal certificate this close to its end is replaced at the next start.
RENEW_BEFORE = timedelta(days=30)


@dataclass(frozen=True)
class DevelopmentPki:
    folder: Path

    @property
    def root_file(self) -> Path:
        return self.folder / ROOT_FILE

    @property
    def seal_file(self) -> Path:
        """PKCS#12 without a password (mode 0600): the seal's key, its certificate and the root."""
        return self.folder / SEAL_FILE

    def root_pem(self) -> bytes:
        return self.root_file.read_bytes()


def _name(city: str, common_name: str, unit: str | None = None) -> x509.Name:
    # X.509 caps O and CN at 64 characters: the city is cut, never the development-only label.
    parts = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "DE"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, f"Stadt {city}"[:46] + " (NUR ENTWICKLUNG)"),
    ]
    if unit:
        parts.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit))
    parts.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(parts)


def _issue(city: str, now: datetime) -> tuple[bytes, bytes]:
    """(root certificate PEM, seal PKCS#12) of a new development PKI."""
    root_key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    seal_key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    root_name = _name(city, "Wurzel-CA – nur für Entwicklung und Tests")
    start = now - timedelta(hours=1)  # a clock a little behind still accepts it
    root = (
        x509.CertificateBuilder()
        .subject_name(root_name)
        .issuer_name(root_name)
        .public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(now + timedelta(days=365 * ROOT_YEARS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), critical=False)
        .sign(root_key, hashes.SHA256())
    )
    seal = (
        x509.CertificateBuilder()
        .subject_name(_name(city, "Dienstsiegel – nur für Entwicklung und Tests", OFFICE))
        .issuer_name(root_name)
        .public_key(seal_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(now + timedelta(days=365 * SEAL_YEARS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            # digitalSignature + nonRepudiation (content_commitment): what an electronic seal needs.
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(seal_key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()),
            critical=False,
        )
        .sign(root_key, hashes.SHA256())
    )
    p12 = pkcs12.serialize_key_and_certificates(
        b"vibue-dienstsiegel", seal_key, seal, [root], serialization.NoEncryption()
    )
    return root.public_bytes(serialization.Encoding.PEM), p12


def _write(path: Path, data: bytes, mode: int) -> None:
    with open(path, "xb") as handle:
        os.fchmod(handle.fileno(), mode)
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _usable(pki: DevelopmentPki, now: datetime) -> bool:
    try:
        _key, cert, _others = pkcs12.load_key_and_certificates(pki.seal_file.read_bytes(), None)
        pki.root_pem()
    except (OSError, ValueError):
        return False
    return cert is not None and cert.not_valid_after_utc - RENEW_BEFORE > now


def ensure(data_dir: Path, city: str, *, now: datetime | None = None) -> DevelopmentPki:
    """The development PKI under `data_dir`, made on the first call and reused afterwards."""
    now = now or datetime.now(UTC)
    pki = DevelopmentPki(data_dir / FOLDER)
    if _usable(pki, now):
        return pki
    data_dir.mkdir(parents=True, exist_ok=True)
    if pki.folder.exists():
        # Expired or damaged: keep it beside for whoever wants to look, make a new one.
        with contextlib.suppress(OSError):
            pki.folder.rename(data_dir / f"{FOLDER}.old-{now:%Y%m%d%H%M%S}-{secrets.token_hex(3)}")
    staging = data_dir / f"{FOLDER}.tmp-{secrets.token_hex(6)}"
    staging.mkdir(mode=0o700)
    try:
        root_pem, p12 = _issue(city, now)
        _write(staging / ROOT_FILE, root_pem, 0o644)
        _write(staging / SEAL_FILE, p12, 0o600)
        try:
            staging.rename(pki.folder)
        except OSError:
            # Another process was quicker: use its PKI.
            if not _usable(pki, now):
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return pki
