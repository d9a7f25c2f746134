"""What the tests ask of a sealed PDF: a small reportlab page, pyHanko's validator, pdfsig with NSS.

`assert_valid` is the one verdict every sealed document of these tests must get, whatever its level.
"""

from __future__ import annotations

import io
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from asn1crypto import pem, x509
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko.sign.validation.status import PdfSignatureStatus
from pyhanko_certvalidator import ValidationContext
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from vibue.core.settings import Settings, load
from vibue.issued.ports import SealedDocument

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
BOX = (340.0, 60.0, 540.0, 130.0)
WHEN = datetime(2026, 12, 4, 15, 5, tzinfo=UTC)


def sample_pdf() -> bytes:
    """One A4 page in an embedded TrueType font, the signature box left empty (as the templates do)."""
    if "DejaVuSans" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("DejaVuSans", FONT))
    out = io.BytesIO()
    page = canvas.Canvas(out, pagesize=A4, initialFontName="DejaVuSans", initialFontSize=11)  # type: ignore[arg-type]
    page.setTitle("Meldebestätigung")
    page.drawString(72, 760, "Stadt Heidelberg – Bürgeramt Virtuell")
    page.drawString(72, 730, "Meldebestätigung für Jörg Weiß, Große Straße 1")
    page.drawString(BOX[0], BOX[1] - 14, "Unterschrift, Dienstsiegel")
    page.showPage()
    page.save()
    return out.getvalue()


def settings_for(**values: str) -> Settings:
    """Settings as the environment gives them: settings_for(seal_tsa_url=...) is VIBUE_SEAL_TSA_URL."""
    return load({f"VIBUE_{name.upper()}": value for name, value in values.items()})


def roots_of(pem_bytes: bytes) -> list[x509.Certificate]:
    return [x509.Certificate.load(der) for _kind, _headers, der in pem.unarmor(pem_bytes, multiple=True)]


async def pyhanko_status(pdf: bytes, root_pem: bytes, *, offline_lt: bool = False) -> PdfSignatureStatus:
    """pyHanko's verdict on the one signature, trusting only `root_pem`.

    offline_lt: no fetching at all and revocation checks that must pass (hard-fail) with only what
    the file's document security store holds: what a B-LT document promises a validator.
    """
    reader = PdfFileReader(io.BytesIO(pdf))
    (signature,) = reader.embedded_signatures
    roots = roots_of(root_pem)
    if offline_lt:
        dss = DocumentSecurityStore.read_dss(reader)
        context = dss.as_validation_context(
            {"trust_roots": roots, "allow_fetching": False, "revocation_mode": "hard-fail"}
        )
    else:
        context = ValidationContext(trust_roots=roots)
    return await async_validate_pdf_signature(signature, context)


@dataclass(frozen=True)
class Pdfsig:
    nss_dir: Path

    @classmethod
    def trusting(cls, folder: Path, root_pem: bytes) -> Pdfsig:
        """An NSS store (certutil) that trusts `root_pem` and nothing else."""
        folder.mkdir()
        (folder / "root.pem").write_bytes(root_pem)
        subprocess.run(["certutil", "-N", "-d", f"sql:{folder}", "--empty-password"], check=True)
        subprocess.run(
            ["certutil", "-A", "-d", f"sql:{folder}", "-n", "root", "-t", "CT,C,C", "-i", str(folder / "root.pem")],
            check=True,
        )
        return cls(folder)

    def check(self, pdf_file: Path) -> str:
        result = subprocess.run(
            ["pdfsig", "-nssdir", f"sql:{self.nss_dir}", str(pdf_file)], capture_output=True, text=True, timeout=60
        )
        return result.stdout + result.stderr


def pdffonts(pdf_file: Path) -> list[list[str]]:
    """pdffonts' rows after the header: name, type, encoding, emb, sub, uni, object id."""
    out = subprocess.run(["pdffonts", str(pdf_file)], capture_output=True, text=True, check=True).stdout
    return [line.split() for line in out.splitlines()[2:] if line.strip()]


def tampered(pdf: bytes) -> bytes:
    """One byte changed inside the signed range (a letter of the producer string)."""
    at = pdf.index(b"ReportLab") + 7
    return pdf[:at] + (b"u" if pdf[at : at + 1] != b"u" else b"x") + pdf[at + 1 :]


def details(status: PdfSignatureStatus) -> str:
    text: str = status.pretty_print_details()  # type: ignore[no-untyped-call]
    return text


async def assert_valid(
    document: SealedDocument, root_pem: bytes, tmp_path: Path, *, tsa_root_pem: bytes = b""
) -> PdfSignatureStatus:
    """pyHanko and pdfsig both find the seal intact and trusted, as its level promises; fonts embedded.

    root_pem: the seal's root, the only one pdfsig's store trusts. tsa_root_pem: the timestamp
    authority's root when it is another one (pyHanko then trusts both). B-T and B-LT must carry a
    valid, trusted timestamp, B-B none; B-LT must validate offline, from the file's revocation data.
    """
    offline_lt = document.level == "B-LT"
    status = await pyhanko_status(document.pdf, root_pem + tsa_root_pem, offline_lt=offline_lt)
    assert status.intact and status.valid and status.trusted, details(status)
    assert status.bottom_line, details(status)
    if document.level == "B-B":
        assert status.timestamp_validity is None
    else:
        stamp = status.timestamp_validity
        assert stamp is not None and stamp.intact and stamp.valid and stamp.trusted, details(status)
    pdf_file = tmp_path / "sealed.pdf"
    pdf_file.write_bytes(document.pdf)
    report = Pdfsig.trusting(tmp_path / "nss", root_pem).check(pdf_file)
    assert "Signature Field Name: Dienstsiegel" in report
    assert "Signature Validation: Signature is Valid." in report, report
    assert "Certificate Validation: Certificate is Trusted." in report, report
    # B-LT adds the revocation data (the DSS) in a revision after the signature, as PAdES has it.
    assert ("Not total document signed" if offline_lt else "Total document signed") in report
    # Every font embedded: the page's and the stamp's (no Courier, no bare Helvetica).
    fonts = pdffonts(pdf_file)
    assert len(fonts) >= 2 and all(row[-5] == "yes" for row in fonts), fonts
    assert any("DejaVuSans-Identity-H" in row[0] for row in fonts), fonts
    return status
