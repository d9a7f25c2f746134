"""Whatever a clerk's form sends, a template renders it or refuses it with field messages; nothing else."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from documents.render import render
from documents.templates import TEMPLATES, validate
from tests.documents.samples import FACTS, FIELDS
from vibue.core.errors import Invalid
from vibue.core.i18n import catalog

HOSTILE = [
    "\u202e",  # right-to-left override
    "\u2066",  # left-to-right isolate
    "\u200f",  # right-to-left mark
    "\u200b",  # zero width space
    "\ud800",  # a lone surrogate (JSON allows "\ud800")
    "\udfff",
    "\x00",
    "\x1b[31m",
    "\r\n",
    "\n",
    "\t",
    "\u2028",
    "\ufeff",
    "😀",
    "🦄",
    "👩\u200d👩\u200d👧",
    "e\u0301\u0301\u0301",
    "مرحبا",
    "שלום",
    "高橋",
    "ß" * 300,
    "W" * 500,  # a word far wider than a line
    "%PDF-1.7 (\\) ) Tj",
    "<script>",
]
pieces = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=40), st.characters(codec=None).map(str))
values = st.lists(pieces, max_size=8).map("".join)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    template_id=st.sampled_from(sorted(TEMPLATES)),
    changes=st.dictionaries(
        st.sampled_from(
            ["name", "address", "birth_date", "remarks", "zone", "children", "valid_until", "kind", "extra"]
        ),
        values,
        max_size=4,
    ),
)
def test_hostile_values_render_or_are_refused_cleanly(template_id: str, changes: dict[str, str]) -> None:
    fields = {**FIELDS[template_id], **changes}
    specs = TEMPLATES[template_id].specs
    refused: Invalid | None = None
    try:
        rendered = render(template_id, fields, FACTS)
    except Invalid as caught:
        refused = caught
    if refused is not None:
        assert refused.code == "validation_failed"
        assert refused.fields and set(refused.fields) <= set(fields)
        messages = catalog("de")
        assert all(key in messages for key in refused.fields.values())
        assert all(name in specs or key == "field.extra_forbidden" for name, key in refused.fields.items())
        return
    assert rendered.pdf.startswith(b"%PDF-") and rendered.pdf.rstrip().endswith(b"%%EOF")
    normalised = validate(template_id, fields)
    assert not any(
        "\ud800" <= ch <= "\udfff" or ch in "\u202e\u2066\u200f\x00" for v in normalised.values() for ch in v
    )


def test_what_can_be_printed_is_printed() -> None:
    """The hostile strings a page can show as typed: emoji DejaVu has, stacked accents, words wider than a line."""
    fields = {**FIELDS["meldebescheinigung"], "name": "Smile 😀 e\u0301\u0301", "remarks": "W" * 500 + " " + "ß" * 300}
    assert render("meldebescheinigung", fields, FACTS).pdf.startswith(b"%PDF-")
    for text in ("مرحبا", "שלום", "高橋", "🦄"):
        with pytest.raises(Invalid) as caught:
            render("meldebescheinigung", {**FIELDS["meldebescheinigung"], "name": text}, FACTS)
        assert caught.value.fields == {"name": "field.unprintable"}
