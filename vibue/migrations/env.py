"""Alembic environment: migrations always run on a connection handed in by vibue.core.db."""

from __future__ import annotations

from alembic import context

from vibue.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through vibue.core.db.migrate (python run.py migrate)")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,  # SQLite can only ALTER through table copies
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
