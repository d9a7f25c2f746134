"""The factory as the app runs it (documents.factory.start): render + seal in worker processes.

What crosses the process boundary must come back as the app expects it: a refused field as
Invalid with its field messages, a failed seal as SealUnavailable with its retry_after (neither
survives a pickle on its own), a preview as the PDF.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from documents.factory import Factory, start
from documents.workers import WORKER_NICENESS
from tests.documents.checks import settings_for
from tests.documents.samples import FACTS, FIELDS
from tests.documents.test_sealing import closed_port
from vibue.core.errors import Invalid, SealUnavailable


@pytest.fixture
async def factory(tmp_path: Path) -> AsyncIterator[Factory]:
    url = f"http://127.0.0.1:{closed_port()}/tsa"  # a timestamp authority that is down
    # The parent makes the development PKI; the worker loads it.
    made = await start(settings_for(data_dir=str(tmp_path / "var"), seal_tsa_url=url, seal_workers="1"))
    yield made
    await asyncio.to_thread(made.close)


async def test_what_crosses_the_process_boundary_arrives_whole(factory: Factory) -> None:
    assert factory.workers is not None
    fields = FIELDS["meldebescheinigung"]
    preview = await factory.preview("meldebescheinigung", fields, FACTS)
    assert preview.startswith(b"%PDF-")

    with pytest.raises(Invalid) as refused:
        await factory.issue("meldebescheinigung", {**fields, "birth_date": "31.02.1980"}, FACTS)
    assert "birth_date" in refused.value.fields

    with pytest.raises(SealUnavailable) as raised:
        await factory.issue("meldebescheinigung", fields, FACTS)
    assert raised.value.status == 503 and raised.value.retry_after == 30


async def test_workers_run_below_the_apps_priority(factory: Factory) -> None:
    assert factory.workers is not None
    # os.nice(0) changes nothing and answers the niceness of the process it runs in.
    theirs = await asyncio.get_running_loop().run_in_executor(factory.workers.pool, os.nice, 0)
    assert theirs == min(os.nice(0) + WORKER_NICENESS, 19)
