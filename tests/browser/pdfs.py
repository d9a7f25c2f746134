"""Real PDFs for browser tests, made with reportlab and an embedded DejaVu font (as the documents are)."""

from __future__ import annotations

import io

from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

DEJAVU = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"  # fonts-dejavu-core (scripts/system-deps.sh)


def sample_pdf(lines_per_page: list[list[str]]) -> bytes:
    """An A4 PDF with one page per entry, each line drawn as text in DejaVu Sans (embedded)."""
    if "DejaVuSans" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("DejaVuSans", DEJAVU))
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4, invariant=True)
    pdf.setTitle("Testdokument")
    for lines in lines_per_page:
        pdf.setFont("DejaVuSans", 18)
        y = A4[1] - 90
        for line in lines:
            pdf.drawString(72, y, line)
            y -= 30
        pdf.rect(72, 120, A4[0] - 144, 80)  # something drawn, not only text
        pdf.showPage()
    pdf.save()
    return out.getvalue()
