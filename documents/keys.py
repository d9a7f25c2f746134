"""The office seal's key and certificates: a PKCS#12 file, a PKCS#11 token or the development PKI.

Loaded once at start (`load`), then reused by every seal. pyHanko's SimpleSigner parses the key
from DER on every signature, and cryptography checks an RSA key when it parses it (150 ms for
3072 bits on the CI machine): `CachedKeySigner` parses it once.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ec import ECDSA, EllipticCurvePrivateKey
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from pyhanko.keys import load_certs_from_pemder
from pyhanko.sign.signers import SimpleSigner
from pyhanko.sign.signers.pdf_cms import Signer
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

from documents import pki
from vibue.core.settings import Settings, SettingsError


class CachedKeySigner(SimpleSigner):
    """A SimpleSigner whose private key is parsed (and checked) once, not at every signature."""

    def __init__(self, base: SimpleSigner) -> None:
        super().__init__(
            signing_cert=base.signing_cert,
            signing_key=base.signing_key,
            cert_registry=base.cert_registry,
        )
        self._key = serialization.load_der_private_key(base.signing_key.dump(), password=None)

    async def async_sign_raw(self, data: bytes, digest_algorithm: str, dry_run: bool = False) -> bytes:
        if dry_run and isinstance(self._key, RSAPrivateKey):
            # pyHanko's size estimate only needs the length: an RSA signature is as long as the modulus.
            return bytes(self._key.key_size // 8)
        return self.sign_raw(data, digest_algorithm)

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm).signature_algo
        hash_algo = get_pyca_cryptography_hash(digest_algorithm)
        if mechanism == "rsassa_pkcs1v15" and isinstance(self._key, RSAPrivateKey):
            return self._key.sign(data, PKCS1v15(), hash_algo)
        if mechanism == "ecdsa" and isinstance(self._key, EllipticCurvePrivateKey):
            return self._key.sign(data, ECDSA(hash_algo))
        return super().sign_raw(data, digest_algorithm)  # PSS and the rest: pyHanko's own way


@dataclass
class SealKey:
    signer: Signer
    certificate: asn1_x509.Certificate
    # The CA certificates known besides the seal's (from the PKCS#12 file and seal_chain_file).
    ca_certs: tuple[asn1_x509.Certificate, ...]
    # The development root (PEM) when the key is the development PKI's, else None.
    development_root: bytes | None = None
    token: bool = False  # a PKCS#11 token: a failure may be the token, not the network
    close: Callable[[], None] = field(default=lambda: None)

    @property
    def trust_roots(self) -> tuple[asn1_x509.Certificate, ...]:
        """The self-signed ones among the CA certificates: where a validation of the chain ends."""
        return tuple(cert for cert in self.ca_certs if cert.self_signed != "no")

    @property
    def revocation_urls(self) -> bool:
        """Whether the seal's chain names CRL or OCSP responders, so B-LT revocation data can be fetched."""
        chain = (self.certificate, *(cert for cert in self.ca_certs if cert.self_signed == "no"))
        return any(cert.crl_distribution_points or cert.ocsp_urls for cert in chain)


def _chain(settings: Settings) -> list[asn1_x509.Certificate]:
    if not settings.seal_chain_file:
        return []
    try:
        return list(load_certs_from_pemder([settings.seal_chain_file]))  # type: ignore[no-untyped-call]
    except (OSError, ValueError) as exc:
        raise SettingsError(f"VIBUE_SEAL_CHAIN_FILE: cannot read {settings.seal_chain_file}: {exc}") from None


def _from_pkcs12(
    path: Path, password: str, extra: list[asn1_x509.Certificate]
) -> tuple[CachedKeySigner, list[asn1_x509.Certificate]]:
    try:
        data = path.read_bytes()
        base = SimpleSigner.load_pkcs12_data(data, extra, password.encode() if password else None)
    except (OSError, ValueError) as exc:
        raise SettingsError(f"cannot load the seal's PKCS#12 file {path}: {exc}") from None
    signer = CachedKeySigner(base)
    if signer.signing_cert is None:  # pragma: no cover - load_pkcs12_data always sets one
        raise SettingsError(f"the PKCS#12 file {path} holds no certificate")
    others = [cert for cert in signer.cert_registry if cert != signer.signing_cert]
    return signer, others


def _from_pkcs11(settings: Settings, extra: list[asn1_x509.Certificate]) -> SealKey:
    from pkcs11.exceptions import PKCS11Error
    from pyhanko.config.pkcs11 import TokenCriteria
    from pyhanko.sign import pkcs11 as pyhanko_pkcs11

    try:
        session = pyhanko_pkcs11.open_pkcs11_session(
            settings.seal_pkcs11_module,
            token_criteria=TokenCriteria(label=settings.seal_pkcs11_token),
            user_pin=settings.seal_pkcs11_pin or None,
        )
    except (OSError, PKCS11Error, RuntimeError) as exc:
        raise SettingsError(
            f"cannot open the PKCS#11 token {settings.seal_pkcs11_token!r} "
            f"with {settings.seal_pkcs11_module}: {type(exc).__name__} {exc}"
        ) from None
    signer = pyhanko_pkcs11.PKCS11Signer(
        session,
        key_label=settings.seal_pkcs11_key_label,
        cert_label=settings.seal_pkcs11_key_label,
        ca_chain=extra,
    )
    try:
        # Key handle and certificate fetched now, once (pyHanko would do it at the first signature).
        asyncio.run(signer.ensure_objects_loaded())  # type: ignore[no-untyped-call]
    except (PKCS11Error, RuntimeError) as exc:
        with contextlib.suppress(PKCS11Error):
            session.close()
        raise SettingsError(
            f"the PKCS#11 token holds no key and certificate labelled {settings.seal_pkcs11_key_label!r}: {exc}"
        ) from None
    certificate = signer.signing_cert
    assert certificate is not None  # ensure_objects_loaded fetched it or raised
    return SealKey(
        signer=signer,
        certificate=certificate,
        ca_certs=tuple(extra),
        token=True,
        close=session.close,
    )


def load(settings: Settings) -> SealKey:
    """The seal's key as the settings choose it; SettingsError (a start error) when it cannot be had.

    Blocking (key files, a token, the first start's key generation): call it at start or in a thread.
    """
    extra = _chain(settings)
    if settings.seal_key_source == "pkcs11":
        return _from_pkcs11(settings, extra)
    if settings.seal_key_source == "pkcs12":
        signer, others = _from_pkcs12(Path(settings.seal_pkcs12_file), settings.seal_pkcs12_password, extra)
        assert signer.signing_cert is not None
        return SealKey(signer=signer, certificate=signer.signing_cert, ca_certs=tuple(others))
    if settings.production:
        raise SettingsError(
            "production mode refuses the development PKI: set VIBUE_SEAL_KEY_SOURCE to pkcs12 or pkcs11 "
            "and give the office seal's key"
        )
    development = pki.ensure(settings.data_path, settings.city_name)
    signer, others = _from_pkcs12(development.seal_file, "", extra)
    assert signer.signing_cert is not None
    return SealKey(
        signer=signer,
        certificate=signer.signing_cert,
        ca_certs=tuple(others),
        development_root=development.root_pem(),
    )
