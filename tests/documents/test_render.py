"""Every template rendered and read back with the tools a reader has: poppler, pypdf, zbar."""

from __future__ import annotations

import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from io import BytesIO
from pathlib import Path

import pytest
from pypdf import PdfReader

from documents.render import RenderedPdf, render
from documents.templates import TEMPLATES
from tests.documents.samples import CHECK_CODE, FACTS, FIELDS, VERIFY_URL

# The standard 14 PDF fonts (and their usual aliases): a reader substitutes them, so none may appear.
STANDARD_14 = re.compile(r"^(Helvetica|Arial|Times|Courier|Symbol|ZapfDingbats)", re.IGNORECASE)
A4 = (595.28, 841.89)
NOTICE = (
    "Dieses Dokument wurde elektronisch gesiegelt. Prüfen: https://buergeramt.example.org/v/Ab3dEf5gHi7jKl9mNo1pQr"
    f" — Prüfcode {CHECK_CODE}"
)


def run(args: list[str], data: bytes | None = None) -> str:
    return subprocess.run(args, input=data, capture_output=True, check=True).stdout.decode("utf-8")


def write(tmp_path: Path, rendered: RenderedPdf) -> Path:
    path = tmp_path / "document.pdf"
    path.write_bytes(rendered.pdf)
    return path


def words(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(params=sorted(TEMPLATES))
def template_id(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_every_font_is_embedded_and_none_is_a_standard_font(tmp_path: Path, template_id: str) -> None:
    for preview in (False, True):
        path = write(tmp_path, render(template_id, FIELDS[template_id], FACTS, preview=preview))
        lines = run(["pdffonts", str(path)]).splitlines()[2:]
        assert lines, "pdffonts lists no font"
        for line in lines:
            name, emb = line.split()[0], line.split()[-5]
            assert emb == "yes", line
            assert not STANDARD_14.match(name.split("+")[-1]), line


def test_the_text_says_what_a_reader_must_find(tmp_path: Path, template_id: str) -> None:
    path = write(tmp_path, render(template_id, FIELDS[template_id], FACTS))
    text = words(run(["pdftotext", "-enc", "UTF-8", str(path), "-"]))
    assert TEMPLATES[template_id].title_de in text
    assert "Stadt Heidelberg" in text and "Bürgeramt Virtuell" in text
    assert "Großmann, Özlem" in text  # umlauts and ß as typed
    assert "Hauptstraße 120" in text
    assert "05.12.2026" in text  # the issue date in the office's zone, not UTC's 04.12.
    assert f"Prüfcode {CHECK_CODE}" in text
    assert NOTICE in text
    assert "Unterschrift, Dienstsiegel" in text
    assert "Verantwortung: Jörg Weiß, Telefon +49 6221 58-12345, E-Mail joerg.weiss@heidelberg.example" in text
    assert "VORSCHAU" not in text


def test_a_preview_is_marked_as_not_valid(tmp_path: Path, template_id: str) -> None:
    path = write(tmp_path, render(template_id, FIELDS[template_id], FACTS, preview=True))
    assert "VORSCHAU – nicht gültig" in run(["pdftotext", "-enc", "UTF-8", str(path), "-"])


def test_a4_with_title_author_and_language(template_id: str) -> None:
    rendered = render(template_id, FIELDS[template_id], FACTS)
    reader = PdfReader(BytesIO(rendered.pdf), strict=True)  # a syntax error raises instead of being repaired
    for page in reader.pages:
        assert (round(float(page.mediabox.width), 2), round(float(page.mediabox.height), 2)) == A4
    assert reader.metadata is not None
    assert reader.metadata.title == TEMPLATES[template_id].title_de
    assert reader.metadata.author == "Bürgeramt Virtuell"
    assert str(reader.root_object["/Lang"]) == "de-DE"


def test_poppler_reads_the_file_without_complaint(tmp_path: Path, template_id: str) -> None:
    path = write(tmp_path, render(template_id, FIELDS[template_id], FACTS))
    result = subprocess.run(["pdfinfo", str(path)], capture_output=True, check=True)
    assert result.stderr == b""
    assert "Page size:       595.276 x 841.89 pts (A4)" in result.stdout.decode()


def test_the_qr_code_reads_as_the_verification_address(tmp_path: Path, template_id: str) -> None:
    rendered = render(template_id, FIELDS[template_id], FACTS)
    path = write(tmp_path, rendered)
    page = str(rendered.seal_page + 1)
    run(["pdftoppm", "-r", "200", "-png", "-f", page, "-l", page, "-singlefile", str(path), str(tmp_path / "page")])
    decoded = run(["zbarimg", "--raw", "-q", "-Sdisable", "-Sqrcode.enable", str(tmp_path / "page.png")])
    assert decoded.strip() == VERIFY_URL


def test_the_seal_field_is_empty_on_the_last_page(tmp_path: Path, template_id: str) -> None:
    rendered = render(template_id, FIELDS[template_id], FACTS)
    path = write(tmp_path, rendered)
    assert rendered.seal_page == len(PdfReader(BytesIO(rendered.pdf)).pages) - 1
    x1, y1, x2, y2 = rendered.seal_box
    assert 0 < x1 < x2 <= A4[0] and 0 < y1 < y2 <= A4[1]
    assert x2 - x1 >= 150 and y2 - y1 >= 60  # room for the stamp's three lines
    # pdftotext crops with the origin at the top left; nothing is printed inside the box ...
    crop = ["-x", str(int(x1) + 1), "-y", str(int(A4[1] - y2) + 1), "-W", str(int(x2 - x1) - 2), "-H"]
    page = ["-f", str(rendered.seal_page + 1), "-l", str(rendered.seal_page + 1)]
    inside = run(["pdftotext", *page, *crop, str(int(y2 - y1) - 2), str(path), "-"])
    assert inside.strip() == ""
    # ... and the label right beneath it.
    below = run(
        [
            "pdftotext",
            *page,
            "-x",
            str(int(x1)),
            "-y",
            str(int(A4[1] - y1)),
            "-W",
            str(int(x2 - x1)),
            "-H",
            "14",
            str(path),
            "-",
        ]
    )
    assert below.strip() == "Unterschrift, Dienstsiegel"


def test_long_values_wrap_inside_the_page(tmp_path: Path) -> None:
    fields = {
        **FIELDS["familienpass"],
        "name": "Großmann-" + "Ü" * 110,  # one word longer than a line
        "children": "\n".join(f"Kind {n}, " + "sehr langer Name " * 4 for n in range(11)),
        "remarks": ("Donaudampfschifffahrtsgesellschaftskapitänswitwenrentenberechnungsgrundlage " * 19).strip(),
    }
    rendered = render("familienpass", fields, FACTS)
    path = write(tmp_path, rendered)
    pages = len(PdfReader(BytesIO(rendered.pdf)).pages)
    assert pages >= 2 and rendered.seal_page == pages - 1
    boxes = run(["pdftotext", "-bbox", str(path), "-"])
    found = re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">', boxes)
    assert len(found) > 100
    for x_min, y_min, x_max, y_max in found:
        assert float(x_min) >= 0 and float(x_max) <= A4[0] - 50, (x_min, x_max)  # within the right margin
        assert float(y_min) >= 0 and float(y_max) <= A4[1], (y_min, y_max)
    text = run(["pdftotext", "-enc", "UTF-8", str(path), "-"])
    assert "Ü" * 40 in text and NOTICE in words(text)


def test_the_date_is_the_office_zones(tmp_path: Path) -> None:
    path = write(tmp_path, render("meldebescheinigung", FIELDS["meldebescheinigung"], FACTS, zone="UTC"))
    assert "04.12.2026" in run(["pdftotext", str(path), "-"])


def test_a_long_address_and_name_facts_do_not_break_the_page(tmp_path: Path) -> None:
    facts = replace(FACTS, clerk_name="Weiß\nJörg", office="Bürgeramt\tVirtuell")
    path = write(tmp_path, render("meldebescheinigung", FIELDS["meldebescheinigung"], facts))
    assert "Verantwortung: Weiß Jörg, Telefon" in words(run(["pdftotext", "-enc", "UTF-8", str(path), "-"]))


def test_renders_from_a_thread_pool_are_whole(tmp_path: Path) -> None:
    """Callers run render in an executor: eight at once still give eight whole, correct documents."""
    jobs = [
        (template_id, replace(FACTS, clerk_name=f"Clerk {n} Weiß"))
        for n, template_id in enumerate(sorted(TEMPLATES) * 2)
    ]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda job: render(job[0], FIELDS[job[0]], job[1]), jobs))
    for n, ((template_id, _), rendered) in enumerate(zip(jobs, results, strict=True)):
        path = tmp_path / f"{n}.pdf"
        path.write_bytes(rendered.pdf)
        text = words(run(["pdftotext", "-enc", "UTF-8", str(path), "-"]))
        assert f"Verantwortung: Clerk {n} Weiß," in text
        assert TEMPLATES[template_id].title_de in text
