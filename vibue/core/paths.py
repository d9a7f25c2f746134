"""Where the project's own files are, independent of the working directory."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"


def project_path(path: str | Path) -> Path:
    """Relative paths in settings are relative to the project root, so `make run` works from anywhere."""
    candidate = Path(path)
    return candidate if candidate.is_absolute() else ROOT / candidate
