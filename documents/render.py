"""render(): a template's fields and the issue's facts as an A4 PDF, with the empty field the seal goes in.

reportlab keeps process-wide state (its font registry, rl_config, the canvas's font cache), so one
render runs at a time: callers may call it from a thread pool (it is synchronous and CPU-bound).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from documents.layout import Flow
from documents.templates import template, validate
from documents.templates.base import OFFICE_ZONE
from vibue.issued.ports import IssueFacts

_lock = threading.Lock()


@dataclass(frozen=True)
class RenderedPdf:
    pdf: bytes
    seal_page: int  # 0-based: the last page
    seal_box: tuple[float, float, float, float]  # PDF points x1, y1, x2, y2: "Unterschrift, Dienstsiegel"


def render(
    template_id: str, fields: dict[str, str], facts: IssueFacts, *, preview: bool = False, zone: str = OFFICE_ZONE
) -> RenderedPdf:
    """The document; fields are validated (and normalised) again. `zone` is the office's (settings.timezone)."""
    chosen = template(template_id)
    values = validate(template_id, fields)
    with _lock:
        flow = Flow(facts, chosen.title_de, preview=preview, zone=zone)
        chosen.body(flow, values)
        page = flow.finish(author=facts.office)
    return RenderedPdf(page.pdf, page.seal_page, page.seal_box)
