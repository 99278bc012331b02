"""Subscriber preferences: filters, cadence, timezone and format (JSON), and since when.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("subscribers") as batch:
        # NULL preferences are the defaults (everything, daily, UTC, HTML).
        batch.add_column(sa.Column("preferences", sa.JSON()))
        # When the current subscription began (a re-subscription starts afresh).
        batch.add_column(sa.Column("since", sa.DateTime(timezone=True)))


def downgrade() -> None:
    with op.batch_alter_table("subscribers") as batch:
        batch.drop_column("since")
        batch.drop_column("preferences")
