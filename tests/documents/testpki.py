"""A test PKI with real services on loopback: certomancer's RFC 3161 timestamp authority and CRL
repository, served by aiohttp in a thread of their own on 127.0.0.1.

The seal's certificate names the CRL URL, so a Sealer with the PKCS#12 file and the TSA
URL fetches over HTTP exactly as it would from a real trust service.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web
from asn1crypto import pem
from certomancer.integrations.aiohttp_animator import build_animator_app
from certomancer.registry import ArchLabel, CertLabel, CertomancerConfig
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

ARCH = "vibue"
VALIDITY = {"valid-from": "2020-01-01T00:00:00+0000", "valid-to": "2045-01-01T00:00:00+0000"}


def _key_usage(*usages: str) -> dict[str, Any]:
    return {"id": "key_usage", "critical": True, "smart-value": {"schema": "key-usage", "params": list(usages)}}


CRL_FROM_ROOT = {
    "id": "crl_distribution_points",
    "smart-value": {"schema": "crl-dist-url", "params": {"crl-repo-names": ["root"]}},
}


def config(keys_dir: str) -> dict[str, Any]:
    return {
        "keysets": {
            "test": {
                "path-prefix": keys_dir,
                "keys": {name: {"path": f"{name}.key.pem"} for name in ("root", "tsa", "seal")},
            }
        },
        "pki-architectures": {
            ARCH: {
                "keyset": "test",
                "entity-defaults": {"country-name": "DE", "organization-name": "Test-Vertrauensdienst"},
                "entities": {
                    "root": {"common-name": "Test-Wurzel"},
                    "tsa": {"common-name": "Test-Zeitstempel"},
                    "seal": {"organizational-unit-name": "Bürgeramt Virtuell", "common-name": "Test-Dienstsiegel"},
                },
                "certs": {
                    "root": {
                        "subject": "root",
                        "issuer": "root",
                        "validity": VALIDITY,
                        "extensions": [
                            {"id": "basic_constraints", "critical": True, "value": {"ca": True}},
                            _key_usage("digital_signature", "key_cert_sign", "crl_sign"),
                        ],
                    },
                    "tsa": {
                        "issuer": "root",
                        "validity": VALIDITY,
                        "extensions": [
                            _key_usage("digital_signature"),
                            {"id": "extended_key_usage", "critical": True, "value": ["time_stamping"]},
                            CRL_FROM_ROOT,
                        ],
                    },
                    "seal": {
                        "issuer": "root",
                        "validity": VALIDITY,
                        "extensions": [
                            _key_usage("digital_signature", "non_repudiation"),
                            # CRLs only: NSS (pdfsig) rejects certomancer's OCSP answers ("Unknown issue").
                            CRL_FROM_ROOT,
                        ],
                    },
                },
                "services": {
                    "crl-repo": {
                        "root": {"for-issuer": "root", "signing-key": "root", "simulated-update-schedule": "P30D"}
                    },
                    "time-stamping": {"tsa": {"signing-key": "tsa", "signing-cert": "tsa"}},
                },
            }
        },
    }


@dataclass(frozen=True)
class ServedPki:
    url: str
    pkcs12_file: Path
    root_pem: bytes

    @property
    def tsa_url(self) -> str:
        return f"{self.url}/{ARCH}/tsa/tsa"


def _write_keys(folder: Path) -> None:
    for name in ("root", "tsa", "seal"):
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem_bytes = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        (folder / f"{name}.key.pem").write_bytes(pem_bytes)


@contextmanager
def serve(folder: Path, *, url: str = "", listen: bool = True) -> Iterator[ServedPki]:
    """Make the PKI under `folder` and serve its TSA and CRLs on 127.0.0.1 until the block ends.

    listen=False: the PKI only, its certificates naming `url`, where nothing answers.
    """
    folder.mkdir(exist_ok=True)
    keys = folder / "keys"
    keys.mkdir()
    _write_keys(keys)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    url = url or f"http://127.0.0.1:{sock.getsockname()[1]}"
    cfg = CertomancerConfig(config(str(keys)), key_search_dir=str(keys), external_url_prefix=url)
    arch = cfg.get_pki_arch(ArchLabel(ARCH))
    p12 = folder / "seal.p12"
    p12.write_bytes(arch.package_pkcs12(CertLabel("seal"), certs_to_embed=[CertLabel("root")]))
    root_pem = pem.armor("CERTIFICATE", arch.get_cert(CertLabel("root")).dump())
    if not listen:
        sock.close()
        yield ServedPki(url=url, pkcs12_file=p12, root_pem=root_pem)
        return

    runner = web.AppRunner(build_animator_app({arch.arch_label: arch}, with_web_ui=False), access_log=None)
    loop = asyncio.new_event_loop()
    ready = threading.Event()

    def run() -> None:
        # Set up in the server's own thread: the caller may be running an event loop of its own.
        loop.run_until_complete(runner.setup())
        loop.run_until_complete(web.SockSite(runner, sock).start())
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=run, name="certomancer", daemon=True)
    thread.start()
    if not ready.wait(timeout=30):
        raise RuntimeError("the certomancer server did not start")
    try:
        yield ServedPki(url=url, pkcs12_file=p12, root_pem=root_pem)
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=30)
        loop.close()
        sock.close()
