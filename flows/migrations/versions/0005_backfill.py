"""Backfill progress, and digests recorded without being mailed.

A backfill run (flows/backfill.py) lists the pages it will fetch in backfill_pages, with each
page's status, so an interrupted run resumes where it stopped and a page is fetched once.
digests.quiet marks what a backfill without --notify found as told, so the next scheduled
digest does not mail years of history as new.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "backfill_runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("key", sa.String(64), nullable=False, index=True),
        sa.Column("since", sa.Date, nullable=False),
        sa.Column("until", sa.Date, nullable=False),
        sa.Column("options", sa.JSON, nullable=False),
        sa.Column("discovered", sa.JSON, nullable=False),
        sa.Column("digest_id", sa.Integer, sa.ForeignKey("digests.id")),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "backfill_pages",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("backfill_runs.id"), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("title", sa.Text, nullable=False, server_default=""),
        sa.Column("published", sa.DateTime(timezone=True)),
        sa.Column("status", sa.String(12), nullable=False, index=True),
        sa.Column("error", sa.Text),
        sa.UniqueConstraint("run_id", "url"),
    )
    op.create_index("ix_backfill_pages_url", "backfill_pages", ["url"])
    # A plain ADD COLUMN: a batch copy of the table would break the deliveries' foreign keys.
    op.add_column(
        "digests", sa.Column("quiet", sa.Boolean, nullable=False, server_default=sa.false())
    )


def downgrade() -> None:
    with op.batch_alter_table("digests") as batch:
        batch.drop_column("quiet")
    op.drop_index("ix_backfill_pages_url", "backfill_pages")
    op.drop_table("backfill_pages")
    op.drop_table("backfill_runs")
