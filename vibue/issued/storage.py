"""The sealed PDFs on disk: one file per document under <data dir>/documents/, written atomically.

The file is written (temporary name, fsync, os.replace, fsync of the folder) before its row is
committed: a crash in between leaves an orphan file, never a row without its file.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from pathlib import Path

FOLDER = "documents"


def file_name(document_id: str) -> str:
    """The path stored in the row, relative to the data dir."""
    return f"{FOLDER}/{document_id}.pdf"


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


async def write(data_dir: Path, name: str, data: bytes) -> None:
    await asyncio.to_thread(_write, data_dir / name, data)


async def read(data_dir: Path, name: str) -> bytes:
    return await asyncio.to_thread((data_dir / name).read_bytes)


def _remove(paths: list[Path]) -> int:
    removed = 0
    for path in paths:
        try:
            path.unlink()
            removed += 1
        except FileNotFoundError:
            pass
    return removed


async def remove(data_dir: Path, names: list[str]) -> int:
    """Delete the files (a missing one is not an error); returns how many were there."""
    return await asyncio.to_thread(_remove, [data_dir / name for name in names])
