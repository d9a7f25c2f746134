"""Every template, rendered by documents/render.py and sealed where the render left room, at every level.

B-B with the development PKI, B-T with the development key and the loopback certomancer TSA, B-LT
with the certomancer PKCS#12 (its seal names the CRL repository) and the same TSA. Each document
must satisfy pyHanko's validator and pdfsig (an NSS store that trusts only the seal's root), keep
every font embedded, and at B-LT validate with no network from the revocation data in the file.
One sealer per level serves all templates, as one serves every document in the app.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

import pytest
from pypdf import PdfReader

from documents.render import render
from documents.sealing import FIELD_NAME, Sealer
from documents.templates import TEMPLATES
from tests.documents.checks import assert_valid, settings_for
from tests.documents.samples import FACTS, FIELDS
from tests.documents.testpki import ServedPki
from vibue.issued.ports import Level


@dataclass(frozen=True)
class Profile:
    level: Level
    sealer: Sealer
    root_pem: bytes  # the seal's root: what pdfsig's store trusts
    tsa_root_pem: bytes  # the timestamp authority's, when it is another root


@pytest.fixture(scope="module", params=["B-B", "B-T", "B-LT"])
def profile(
    request: pytest.FixtureRequest, test_pki: ServedPki, dev_data_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Profile]:
    level: Level = request.param
    if level == "B-LT":
        settings = settings_for(
            data_dir=str(tmp_path_factory.mktemp("var-lt")),
            seal_key_source="pkcs12",
            seal_pkcs12_file=str(test_pki.pkcs12_file),
            seal_tsa_url=test_pki.tsa_url,
        )
    elif level == "B-T":
        settings = settings_for(data_dir=str(dev_data_dir), seal_tsa_url=test_pki.tsa_url)
    else:
        settings = settings_for(data_dir=str(dev_data_dir))
    sealer = Sealer.open(settings)
    try:
        assert sealer.level == level
        development_root = sealer.root_certificate()
        if level == "B-LT":
            yield Profile(level, sealer, test_pki.root_pem, b"")
        else:
            assert development_root is not None
            yield Profile(level, sealer, development_root, test_pki.root_pem if level == "B-T" else b"")
    finally:
        sealer.close()


def seal_field(pdf: bytes, page: int) -> tuple[float, float, float, float]:
    """The rectangle of the signature widget named Dienstsiegel on `page` (0-based)."""
    annotations = PdfReader(BytesIO(pdf)).pages[page].get("/Annots") or []
    for ref in annotations:
        annotation = ref.get_object()
        if annotation.get("/FT") == "/Sig" and annotation.get("/T") == FIELD_NAME:
            x1, y1, x2, y2 = (float(v) for v in annotation["/Rect"])
            return x1, y1, x2, y2
    raise AssertionError(f"no signature field on page {page + 1}")


@pytest.mark.parametrize("template_id", sorted(TEMPLATES))
async def test_every_template_seals_and_validates_at_every_level(
    profile: Profile, template_id: str, tmp_path: Path
) -> None:
    rendered = render(template_id, FIELDS[template_id], FACTS)
    document = await profile.sealer.seal(
        rendered.pdf,
        page=rendered.seal_page,
        box=rendered.seal_box,
        clerk_name=FACTS.clerk_name,
        office=FACTS.office,
        when=FACTS.issued_at,
    )
    assert document.level == profile.level
    await assert_valid(document, profile.root_pem, tmp_path, tsa_root_pem=profile.tsa_root_pem)
    # The stamp sits in the box the template left empty, on the page the render named.
    x1, y1, x2, y2 = seal_field(document.pdf, rendered.seal_page)
    bx1, by1, bx2, by2 = rendered.seal_box
    assert bx1 <= x1 < x2 <= bx2 and by1 <= y1 < y2 <= by2, ((x1, y1, x2, y2), rendered.seal_box)
