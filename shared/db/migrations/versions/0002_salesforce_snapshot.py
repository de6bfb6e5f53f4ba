"""salesforce_snapshot: ingest's last seen state of each Salesforce record

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "salesforce_snapshot",
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("organization_id", sa.String(length=15), nullable=False),
        sa.Column("record_id", sa.String(length=15), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("modified_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel", "organization_id", "record_id"),
    )


def downgrade() -> None:
    op.drop_table("salesforce_snapshot")
