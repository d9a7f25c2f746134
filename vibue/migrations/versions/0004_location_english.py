"""locations in English: name_en and address_en (empty reads the German)

Revision ID: 0004_location_english
Revises: 0003_room_liveness
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_location_english"
down_revision = "0003_room_liveness"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("locations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("name_en", sa.String(length=160), server_default="", nullable=False))
        batch_op.add_column(sa.Column("address_en", sa.String(length=300), server_default="", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("locations", schema=None) as batch_op:
        batch_op.drop_column("address_en")
        batch_op.drop_column("name_en")
