"""What the tests ask of a sealed PDF: a small reportlab page, pyHanko's validator, pdfsig with NSS."""

from __future__ import annotations

import io
import subprocess
from dataclasses import dataclass
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

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
BOX = (340.0, 60.0, 540.0, 130.0)


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
