"""The services the sealing tests share: one certomancer PKI on loopback and one development PKI."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.documents.testpki import ServedPki, serve


@pytest.fixture(scope="session")
def test_pki(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedPki]:
    with serve(tmp_path_factory.mktemp("certomancer")) as served:
        yield served


@pytest.fixture(scope="session")
def dev_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One development PKI for the tests that only use it (its two RSA keys take a moment)."""
    return tmp_path_factory.mktemp("var")
