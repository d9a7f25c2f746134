"""issued documents, and the clerk's telephone and email printed on them

Revision ID: 0005_issued_documents
Revises: 0004_location_english
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from vibue.models.base import UTCDateTime

revision = "0005_issued_documents"
down_revision = "0004_location_english"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phone", sa.String(length=40), server_default="", nullable=False))
        batch_op.add_column(sa.Column("email", sa.String(length=254), server_default="", nullable=False))
    op.create_table(
        "issued_documents",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=False),
        sa.Column("template_id", sa.String(length=64), nullable=False),
        sa.Column("title_de", sa.String(length=200), nullable=False),
        sa.Column("title_en", sa.String(length=200), nullable=False),
        sa.Column("level", sa.String(length=8), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("file_name", sa.String(length=200), nullable=False),
        sa.Column("issued_by", sa.Integer(), nullable=True),
        sa.Column("issued_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("idempotency_key", sa.String(length=64), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("holder_masked", sa.String(length=200), nullable=False),
        sa.Column("revoked_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.Integer(), nullable=True),
        sa.Column("revocation_reason", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["appointment_id"], ["appointments.id"], name=op.f("fk_issued_documents_appointment_id_appointments")
        ),
        sa.ForeignKeyConstraint(
            ["issued_by"], ["staff.id"], name=op.f("fk_issued_documents_issued_by_staff"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["revoked_by"], ["staff.id"], name=op.f("fk_issued_documents_revoked_by_staff"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_issued_documents")),
        sa.UniqueConstraint(
            "appointment_id", "idempotency_key", name=op.f("uq_issued_documents_appointment_id_idempotency_key")
        ),
    )
    with op.batch_alter_table("issued_documents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_issued_documents_appointment_id"), ["appointment_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_issued_documents_issued_at"), ["issued_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("issued_documents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_issued_documents_issued_at"))
        batch_op.drop_index(batch_op.f("ix_issued_documents_appointment_id"))
    op.drop_table("issued_documents")
    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.drop_column("email")
        batch_op.drop_column("phone")
