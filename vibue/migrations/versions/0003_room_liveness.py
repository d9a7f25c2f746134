"""room state that survives a process dying: grace deadlines and process liveness

Revision ID: 0003_room_liveness
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import vibue.models.base

revision = "0003_room_liveness"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "signaling_processes",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("started_at", vibue.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", vibue.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signaling_processes")),
    )
    with op.batch_alter_table("signaling_processes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_signaling_processes_heartbeat_at"), ["heartbeat_at"], unique=False)

    with op.batch_alter_table("call_participants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("process_id", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("grace_until", vibue.models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_call_participants_process_id"), ["process_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_call_participants_grace_until"), ["grace_until"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("call_participants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_call_participants_grace_until"))
        batch_op.drop_index(batch_op.f("ix_call_participants_process_id"))
        batch_op.drop_column("grace_until")
        batch_op.drop_column("process_id")

    with op.batch_alter_table("signaling_processes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_signaling_processes_heartbeat_at"))

    op.drop_table("signaling_processes")
