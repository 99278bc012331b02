"""Source health alerts: when the current run of failures began, and when ops were told.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sources") as batch:
        batch.add_column(sa.Column("failing_since", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("alerted", sa.DateTime(timezone=True)))


def downgrade() -> None:
    with op.batch_alter_table("sources") as batch:
        batch.drop_column("alerted")
        batch.drop_column("failing_since")
