"""The TrueType fonts every document is set in, registered with reportlab once.

DejaVu from Debian's fonts-dejavu-core (scripts/system-deps.sh installs it): embedded as subsets,
so a PDF looks the same everywhere, and with the Latin, Greek and Cyrillic letters of names
beyond umlauts and ß. No standard-14 font (Helvetica, Courier) is ever used: reportlab's canvas
starts on REGULAR instead of its Helvetica default (documents/layout.py).
"""

from __future__ import annotations

import threading
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

# Where Debian puts DejaVu (fonts-dejavu-core); the others are where other distributions do.
FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/share/fonts/TTF"),
)
REGULAR = "VibueSans"
BOLD = "VibueSans-Bold"
MONO = "VibueMono-Bold"  # the Prüfcode: digits and letters that cannot be confused at a glance
_FILES = {REGULAR: "DejaVuSans.ttf", BOLD: "DejaVuSans-Bold.ttf", MONO: "DejaVuSansMono-Bold.ttf"}

_lock = threading.Lock()
_registered = False


def font_file(name: str) -> Path:
    for folder in FONT_DIRS:
        path = folder / name
        if path.is_file():
            return path
    raise RuntimeError(f"font {name} not found in {', '.join(map(str, FONT_DIRS))}: install fonts-dejavu-core")


def register() -> None:
    """Register the fonts with reportlab (once per process; safe from any thread)."""
    global _registered
    with _lock:
        if _registered:
            return
        for name, file in _FILES.items():
            pdfmetrics.registerFont(TTFont(name, str(font_file(file))))
        _registered = True


def _glyphs(name: str) -> dict[int, int]:
    register()
    font = pdfmetrics.getFont(name)
    assert isinstance(font, TTFont)
    glyphs: dict[int, int] = font.face.charToGlyph
    return glyphs


def uncovered(text: str, name: str = REGULAR) -> list[str]:
    """The characters of `text` the font has no glyph for (they would print as an empty box)."""
    glyphs = _glyphs(name)
    return [ch for ch in text if ch not in " \n" and ord(ch) not in glyphs]
