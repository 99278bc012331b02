"""Deliveries are claimed before sending: status 'sending' and the time of the claim.

A run claims a pending delivery with one conditional UPDATE before it sends it, so two runs at
once never send the same delivery (flows/store.py: Store.claim_delivery).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("claimed", sa.DateTime(timezone=True)))


def downgrade() -> None:
    op.execute("UPDATE deliveries SET status = 'pending' WHERE status = 'sending'")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("claimed")
