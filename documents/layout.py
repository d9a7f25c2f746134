"""The page every template shares: letterhead, flowing body, responsibility line, and on the last
page the Prüfcode with its QR code, the notice for a printout and the empty signature field.

A template's body adds paragraphs and label/value rows to a `Flow`; the flow wraps every value to
the column (hard-breaking a word longer than a line) and starts a new page when one is full, so
no value runs off the page. Drawing waits until the page count is known ("Seite 1 von 2").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from io import BytesIO
from zoneinfo import ZoneInfo

import segno
from reportlab.lib.colors import Color, black
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from documents.fonts import BOLD, MONO, REGULAR, register
from vibue.issued.ports import IssueFacts

WIDTH, HEIGHT = A4
LEFT, RIGHT, TOP, BOTTOM = 25 * mm, 20 * mm, 20 * mm, 22 * mm
COLUMN = WIDTH - LEFT - RIGHT
LABEL_WIDTH = 52 * mm
PREVIEW = "VORSCHAU – nicht gültig"
SEAL_LABEL = "Unterschrift, Dienstsiegel"
# The signature field: wide enough for pyHanko's stamp (office, clerk, time) in three lines.
SEAL_WIDTH, SEAL_HEIGHT = 70 * mm, 26 * mm
QR_SIZE = 30 * mm
GREY = Color(0.35, 0.35, 0.35)
LINE = Color(0.6, 0.6, 0.6)
RED = Color(0.75, 0.05, 0.05)

Op = Callable[[Canvas], None]


@dataclass(frozen=True)
class Page:
    pdf: bytes
    seal_page: int
    seal_box: tuple[float, float, float, float]


def wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """`text` as lines no wider than `width`: broken at spaces, a longer word broken anywhere."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split(" "):
            candidate = f"{line} {word}" if line else word
            if stringWidth(candidate, font, size) <= width:
                line = candidate
                continue
            if line:
                lines.append(line)
            line = ""
            for ch in word:
                if line and stringWidth(line + ch, font, size) > width:
                    lines.append(line)
                    line = ""
                line += ch
        lines.append(line)
    return lines


def clean(text: str) -> str:
    """A fact printed as it is (names, addresses from the server's own records), minus any control
    character, so a stray line break cannot move text."""
    return "".join(ch if ch.isprintable() else " " for ch in text).strip()


class Flow:
    """The pages of one document as they fill, drawn by `finish`."""

    def __init__(self, facts: IssueFacts, title: str, *, preview: bool, zone: str) -> None:
        register()
        self.facts, self.title, self.preview = facts, title, preview
        self.day = facts.issued_at.astimezone(ZoneInfo(zone)).strftime("%d.%m.%Y")
        self.pages: list[list[Op]] = []
        self.y = 0.0
        self._new_page()

    # -- filling ------------------------------------------------------------------------------------

    def _new_page(self) -> None:
        self.pages.append([])
        if len(self.pages) == 1:
            self.y = self._letterhead()
        else:
            top = HEIGHT - TOP
            line = clean(f"{self.facts.city} · {self.facts.office} · {self.title} (Fortsetzung)")
            self.text(LEFT, top - 9, line, REGULAR, 8.5, GREY)
            self.rule(top - 14)
            self.y = top - 30

    def _room(self, height: float) -> None:
        if self.y - height < BOTTOM + 14:
            self._new_page()

    def draw(self, op: Op) -> None:
        self.pages[-1].append(op)

    def text(self, x: float, y: float, text: str, font: str, size: float, color: Color = black) -> None:
        def op(canvas: Canvas) -> None:
            canvas.setFillColor(color)
            canvas.setFont(font, size)
            canvas.drawString(x, y, text)

        self.draw(op)

    def rule(self, y: float) -> None:
        def op(canvas: Canvas) -> None:
            canvas.setStrokeColor(LINE)
            canvas.setLineWidth(0.6)
            canvas.line(LEFT, y, WIDTH - RIGHT, y)

        self.draw(op)

    def space(self, height: float) -> None:
        self.y -= height

    def paragraph(self, text: str, *, font: str = REGULAR, size: float = 10.5, after: float = 8) -> None:
        leading = size * 1.4
        for line in wrap(clean_lines(text), font, size, COLUMN):
            self._room(leading)
            self.y -= leading
            self.text(LEFT, self.y + leading * 0.28, line, font, size)
        self.y -= after

    def rows(self, rows: list[tuple[str, str]], *, size: float = 10.5) -> None:
        """Label and value side by side; a value wraps in its column and may go on on the next page."""
        leading = size * 1.4
        for label, value in rows:
            labels = wrap(label, BOLD, size - 1, LABEL_WIDTH - 4 * mm)
            values = wrap(value or "–", REGULAR, size, COLUMN - LABEL_WIDTH)
            for index in range(max(len(labels), len(values))):
                self._room(leading)
                self.y -= leading
                baseline = self.y + leading * 0.28
                if index < len(labels):
                    self.text(LEFT, baseline, labels[index], BOLD, size - 1, GREY)
                if index < len(values):
                    self.text(LEFT + LABEL_WIDTH, baseline, values[index], REGULAR, size)
            self.y -= 4
        self.y -= 6  # set the table off from the text after it

    # -- the fixed parts ------------------------------------------------------------------------------

    def _letterhead(self) -> float:
        top = HEIGHT - TOP
        facts = self.facts
        self.text(LEFT, top - 16, clean(facts.city), BOLD, 18)
        self.text(LEFT, top - 33, clean(facts.office), REGULAR, 11.5)
        right = [("Datum", self.day), ("Dokument-Nr.", facts.document_id)]
        for index, (label, value) in enumerate(right):
            y = top - 14 - index * 13

            def op(canvas: Canvas, y: float = y, label: str = label, value: str = clean(value)) -> None:
                canvas.setFillColor(GREY)
                canvas.setFont(REGULAR, 8.5)
                canvas.drawRightString(WIDTH - RIGHT - stringWidth(value, REGULAR, 9) - 6, y, f"{label}:")
                canvas.setFillColor(black)
                canvas.setFont(REGULAR, 9)
                canvas.drawRightString(WIDTH - RIGHT, y, value)

            self.draw(op)
        self.rule(top - 44)
        y = top - 44
        for line in wrap(clean(self.title), BOLD, 15, COLUMN):
            y -= 24
            self.text(LEFT, y, line, BOLD, 15)
        return y - 16

    def responsibility(self) -> None:
        facts = self.facts
        line = f"Verantwortung: {facts.clerk_name}, Telefon {facts.clerk_phone}, E-Mail {facts.clerk_email}"
        self.space(6)
        self.paragraph(clean(line), size=9.5)

    def _check_block(self) -> tuple[float, float, float, float]:
        """The Prüfcode, QR code, notice and signature field at the foot of the last page."""
        facts = self.facts
        address = facts.verify_url.split("#", 1)[0]
        notice = f"Dieses Dokument wurde elektronisch gesiegelt. Prüfen: {address} — Prüfcode {facts.check_code}"
        notice_lines = wrap(clean(notice), REGULAR, 8.5, COLUMN)
        height = QR_SIZE + 10 + len(notice_lines) * 11.5
        self._room(height + 10)
        base = BOTTOM + len(notice_lines) * 11.5 + 10  # the QR code's and the seal field's bottom
        for index, line in enumerate(notice_lines):
            self.text(LEFT, BOTTOM + (len(notice_lines) - 1 - index) * 11.5 + 2, line, REGULAR, 8.5)
        self.draw(lambda canvas: draw_qr(canvas, facts.verify_url, LEFT, base, QR_SIZE))
        x = LEFT + QR_SIZE + 5 * mm
        self.text(x, base + QR_SIZE - 10, "Prüfcode", REGULAR, 8.5, GREY)
        self.text(x, base + QR_SIZE - 26, clean(facts.check_code), MONO, 13)
        for index, hint in enumerate(
            ("QR-Code scannen oder die", "Adresse unten aufrufen und", "den Prüfcode eingeben.")
        ):
            self.text(x, base + QR_SIZE - 40 - index * 10, hint, REGULAR, 8, GREY)
        box = (WIDTH - RIGHT - SEAL_WIDTH, base + 10, WIDTH - RIGHT, base + 10 + SEAL_HEIGHT)

        def frame(canvas: Canvas) -> None:
            canvas.setStrokeColor(LINE)
            canvas.setLineWidth(0.5)
            canvas.rect(box[0], box[1], SEAL_WIDTH, SEAL_HEIGHT, stroke=1, fill=0)
            canvas.setFillColor(GREY)
            canvas.setFont(REGULAR, 8)
            canvas.drawCentredString((box[0] + box[2]) / 2, box[1] - 10, SEAL_LABEL)

        self.draw(frame)
        return box

    def _furniture(self, canvas: Canvas, number: int, count: int) -> None:
        canvas.setFillColor(GREY)
        canvas.setFont(REGULAR, 7.5)
        canvas.drawString(LEFT, 10 * mm, clean(f"{self.facts.city} · {self.facts.office}"))
        canvas.drawRightString(WIDTH - RIGHT, 10 * mm, f"Seite {number} von {count}")
        if not self.preview:
            return
        canvas.setFillColor(RED)
        canvas.setFont(BOLD, 10)
        canvas.drawCentredString(WIDTH / 2, HEIGHT - 11 * mm, f"{PREVIEW} – nicht gesiegelt, nicht zur Vorlage")
        canvas.saveState()
        canvas.setFillColor(Color(0.85, 0.1, 0.1, alpha=0.16))
        canvas.translate(WIDTH / 2, HEIGHT / 2)
        canvas.rotate(52)
        canvas.setFont(BOLD, 54)
        canvas.drawCentredString(0, -18, PREVIEW)
        canvas.restoreState()

    def finish(self, *, author: str, language: str = "de-DE") -> Page:
        self.responsibility()
        box = self._check_block()
        buffer = BytesIO()
        # types-reportlab has initialFontName as a float; reportlab takes the font's name.
        canvas = Canvas(
            buffer,
            pagesize=A4,
            initialFontName=REGULAR,  # type: ignore[arg-type]
            initialFontSize=10,
            lang=language,
            pageCompression=1,
        )
        canvas.setTitle(self.title)
        canvas.setAuthor(author)
        canvas.setSubject(self.title)
        canvas.setCreator("ViBü")
        for number, ops in enumerate(self.pages, start=1):
            for op in ops:
                op(canvas)
            self._furniture(canvas, number, len(self.pages))
            canvas.showPage()
        canvas.save()
        return Page(buffer.getvalue(), len(self.pages) - 1, box)


def clean_lines(text: str) -> str:
    return "\n".join(clean(line) for line in text.split("\n"))


def draw_qr(canvas: Canvas, content: str, x: float, y: float, size: float) -> None:
    """A QR code (segno's matrix, error level M) as filled rectangles, quiet zone included."""
    rows = [list(row) for row in segno.make_qr(content, error="m").matrix_iter(scale=1, border=4)]
    module = size / len(rows)
    path = canvas.beginPath()
    for r, row in enumerate(rows):
        c = 0
        while c < len(row):
            if not row[c]:
                c += 1
                continue
            start = c
            while c < len(row) and row[c]:
                c += 1
            path.rect(x + start * module, y + size - (r + 1) * module, (c - start) * module, module)
    canvas.setFillColor(black)
    canvas.drawPath(path, stroke=0, fill=1)
