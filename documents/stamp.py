"""The seal's visible stamp: office, clerk's name and time in DejaVu Sans, embedded.

pyHanko's GlyphAccumulator parses the whole TrueType file at every signature, and DejaVu Sans'
layout tables make that 100+ ms. So the font is cut once, at start, to the Latin, punctuation and
currency glyphs a German office's names and dates need, without layout tables, and every stamp
reads the cut from memory.
"""

from __future__ import annotations

import functools
import io
from datetime import datetime
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont
from fontTools.ttLib.scaleUpem import scale_upem
from pyhanko.pdf_utils.font.api import FontEngineFactory
from pyhanko.pdf_utils.font.opentype import GlyphAccumulator
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.pdf_utils.writer import BasePdfFileWriter
from pyhanko.stamp import TextStampStyle

from vibue.core.settings import SettingsError

# fonts-dejavu-core (scripts/system-deps.sh).
FONT_FILE = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
FONT_SIZE = 9
# Basic Latin to Latin Extended-B, Latin Extended Additional, general punctuation, the euro sign.
_CODEPOINTS = (*range(0x20, 0x250), *range(0x1E00, 0x1F00), *range(0x2000, 0x2070), 0x20AC)
TEXT = "Elektronisch gesiegelt\n%(office)s\n%(clerk)s\n%(when)s"


@functools.cache
def font_subset(path: Path = FONT_FILE) -> bytes:
    """The stamp's font, cut to the glyphs it may need (once per process)."""
    try:
        font = TTFont(str(path))
    except OSError:
        raise SettingsError(f"the seal's stamp font {path} is missing: install fonts-dejavu-core") from None
    options = subset.Options()
    options.layout_features = []
    options.drop_tables += ["GSUB", "GPOS", "GDEF", "kern", "FFTM"]
    options.name_IDs = ["*"]
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=_CODEPOINTS)
    subsetter.subset(font)
    # pyHanko writes the glyph widths (/W) in font units, which PDF reads as thousandths of an em:
    # at DejaVu's 2048 units per em every letter stood twice its width apart. At 1000 both agree.
    scale_upem(font, 1000)
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


class SubsetFontFactory(FontEngineFactory):
    """pyHanko's GlyphAccumulator over the cut font in memory (it still subsets per document)."""

    def __init__(self, font: bytes, size: int = FONT_SIZE) -> None:
        self.font = font
        self.size = size

    def create_font_engine(self, writer: BasePdfFileWriter, obj_stream: object = None) -> GlyphAccumulator:
        if obj_stream is None and writer.stream_xrefs:
            obj_stream = writer.prepare_object_stream()  # type: ignore[no-untyped-call]
        return GlyphAccumulator(
            writer=writer,
            font_handle=io.BytesIO(self.font),
            font_size=self.size,
            bcp47_lang_code="de-DE",
            obj_stream=obj_stream,
        )


def style() -> TextStampStyle:
    return TextStampStyle(stamp_text=TEXT, text_box_style=TextBoxStyle(font=SubsetFontFactory(font_subset())))


def params(office: str, clerk_name: str, when: datetime) -> dict[str, str]:
    """The stamp's lines; `when` already in the office's zone."""
    return {"office": office, "clerk": clerk_name, "when": when.strftime("%d.%m.%Y, %H:%M Uhr")}
