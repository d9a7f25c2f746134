"""The layout a newcomer relies on (docs/layout.md): small modules, and the same three rooms in
every domain package that speaks HTTP. The import rules themselves are import-linter contracts
in pyproject.toml, checked by `make test` (lint-imports)."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MAX_LINES = 400
# Domain packages with an HTTP face: service (rules, takes the session), routes (parse, call,
# answer), schemas (wire models).
DOMAINS = ("catalog", "booking", "video", "staff", "clerk", "devtools", "issued")


def python_modules() -> list[Path]:
    return sorted(p for folder in ("vibue", "signaling", "documents") for p in (ROOT / folder).rglob("*.py"))


@pytest.mark.parametrize("module", python_modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_is_over_400_lines(module: Path) -> None:
    lines = len(module.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{module.relative_to(ROOT)} has {lines} lines: split it by concept"


@pytest.mark.parametrize("domain", DOMAINS)
def test_each_domain_package_has_service_routes_and_schemas(domain: str) -> None:
    package = ROOT / "vibue" / domain
    assert sorted(p.name for p in package.glob("*.py") if p.name in {"service.py", "routes.py", "schemas.py"}) == [
        "routes.py",
        "schemas.py",
        "service.py",
    ]


def test_routes_hold_no_queries() -> None:
    """Routes parse, call the service and answer; queries belong in the service."""
    offenders = [
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / "vibue").glob("*/routes.py"))
        if "sqlalchemy" in path.read_text(encoding="utf-8")
    ]
    assert offenders == []


def test_layout_doc_names_every_package() -> None:
    layout = (ROOT / "docs" / "layout.md").read_text(encoding="utf-8")
    packages = sorted(p.parent.name for p in (ROOT / "vibue").glob("*/__init__.py"))
    missing = [name for name in packages if f"vibue/{name}/" not in layout]
    assert missing == [], f"docs/layout.md does not say where vibue/{missing}/ fits"
