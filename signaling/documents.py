"""Pushes "Dokument bereit" and revocations to the appointment's room.

vibue.issued marks each issued or revoked document on its session (after_commit.DOCUMENTS);
after the transaction ends this reads the row - a rolled-back transaction is told too, and a
row that is not there (or not revoked) is then not announced - and emits to the room. With Redis
the emit reaches the room's members on every process (python-socketio's manager).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Hashable
from typing import TYPE_CHECKING

from sqlalchemy import select

from signaling.members import room_name
from signaling.replies import DocumentReady, DocumentRevoked
from vibue.core import after_commit
from vibue.models import Appointment, IssuedDocument
from vibue.web.appkeys import ENGINE, SESSIONS

if TYPE_CHECKING:
    from signaling.server import Signaling

log = logging.getLogger(__name__)


class DocumentPush:
    def __init__(self, server: Signaling) -> None:
        self.server = server
        self._tasks: set[asyncio.Task[None]] = set()

    def _committed(self, topic: str, keys: frozenset[Hashable]) -> None:
        if topic != after_commit.DOCUMENTS:
            return
        for key in keys:
            if isinstance(key, tuple) and len(key) == 2:
                task = asyncio.get_running_loop().create_task(self._announce(str(key[0]), str(key[1])))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    async def _announce(self, kind: str, document_id: str) -> None:
        try:
            async with self.server.app[SESSIONS]() as session:
                row = (
                    await session.execute(
                        select(IssuedDocument, Appointment.lang)
                        .join(Appointment, Appointment.id == IssuedDocument.appointment_id)
                        .where(IssuedDocument.id == document_id)
                    )
                ).first()
            if row is None:
                return  # rolled back: nothing was issued
            document, lang = row
            to = room_name(document.appointment_id)
            if kind == "ready":
                title = document.title_en if lang == "en" else document.title_de
                summary = {
                    "id": document.id,
                    "title": title,
                    "issued_at": document.issued_at.isoformat(),
                    "level": document.level,
                }
                await self.server.send_document_ready(DocumentReady(summary), to=to)
            elif kind == "revoked" and document.revoked_at is not None:
                await self.server.send_document_revoked(
                    DocumentRevoked(document.id, document.revoked_at.isoformat()), to=to
                )
        except Exception:
            # The citizen's page still finds the document when it lists them again.
            log.exception("document push failed")

    def start(self) -> None:
        after_commit.listen(self.server.app[ENGINE], self._committed)

    async def close(self) -> None:
        after_commit.unlisten(self.server.app[ENGINE], self._committed)
        await asyncio.gather(*self._tasks, return_exceptions=True)
