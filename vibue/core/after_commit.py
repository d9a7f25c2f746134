"""Tell what a transaction changed, once it has ended, to whatever in this process keeps copies.

A service marks a change on its session (`changed(session, ROOM, appointment_id)`); when the
session's outermost transaction ends, every listener registered for the session's engine hears
the marked keys. Listeners run after the commit, so a copy dropped then cannot be loaded again
from the state before it. A rolled-back transaction is told too: dropping a copy that was still
right costs one query, keeping one that is wrong would not be safe.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from weakref import WeakKeyDictionary

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

# Topics. ROOM: who is in a call (keys: appointment ids). STAFF_SESSIONS: staff sign-in sessions
# ended (keys: staff ids). DOCUMENTS: a document was issued or revoked (keys: ("ready" or
# "revoked", document id)); as a rolled-back transaction is told too, a listener reads the row
# before it tells anyone.
ROOM = "room"
STAFF_SESSIONS = "staff_sessions"
DOCUMENTS = "documents"

Listener = Callable[[str, frozenset[Hashable]], None]

_INFO_KEY = "vibue.after_commit"
_listeners: WeakKeyDictionary[Engine, list[Listener]] = WeakKeyDictionary()


def changed(session: AsyncSession | Session, topic: str, key: Hashable) -> None:
    """Mark `key` of `topic` as changed by the session's current transaction."""
    sync = session.sync_session if isinstance(session, AsyncSession) else session
    marks: dict[str, set[Hashable]] = sync.info.setdefault(_INFO_KEY, {})
    marks.setdefault(topic, set()).add(key)


def listen(engine: AsyncEngine, listener: Listener) -> None:
    """Call `listener(topic, keys)` after every transaction on `engine` that marked changes."""
    _listeners.setdefault(engine.sync_engine, []).append(listener)


def unlisten(engine: AsyncEngine, listener: Listener) -> None:
    registered = _listeners.get(engine.sync_engine, [])
    if listener in registered:
        registered.remove(listener)


@event.listens_for(Session, "after_transaction_end")
def _ended(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is not None:  # a savepoint: the outer transaction decides
        return
    marks: dict[str, set[Hashable]] | None = session.info.pop(_INFO_KEY, None)
    if not marks or not isinstance(session.bind, Engine):
        return
    for listener in list(_listeners.get(session.bind, ())):
        for topic, keys in marks.items():
            listener(topic, frozenset(keys))
