"""Per-subscriber digests and alerts: what each subscriber was shown, and when.

- deliveries: ``kind`` ("digest" or "alert"), ``created``; ``digest_id`` may be NULL (an alert,
  or a subscriber's digest made in a run that made no new global edition).
- delivery_items: the incidents one delivery shows, with what changed.
- subscriber_seen: per subscriber and incident, the snapshot they were last shown ("new" and
  "updated" are per subscriber). Written in the transaction that creates the delivery.
- subscribers.last_digest: when their last digest was made (daily / weekly cadence).

Subscribers from before this revision have seen what the digests delivered to them showed, so
subscriber_seen is filled from digest_items: they are not told the same attacks again as new.

Revision ID: 0006
Revises: 0005 (the backfill tables)
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.alter_column("digest_id", existing_type=sa.Integer, nullable=True)
        batch.add_column(sa.Column("kind", sa.String(10), nullable=False, server_default="digest"))
        batch.add_column(sa.Column("created", TS))
    with op.batch_alter_table("subscribers") as batch:
        batch.add_column(sa.Column("last_digest", TS))
    op.create_table(
        "delivery_items",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "delivery_id", sa.Integer, sa.ForeignKey("deliveries.id"), nullable=False, index=True
        ),
        sa.Column("incident_id", sa.Integer, sa.ForeignKey("incidents.id"), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("changes", sa.JSON, nullable=False),
        sa.UniqueConstraint("delivery_id", "incident_id"),
    )
    op.create_table(
        "subscriber_seen",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "subscriber_id", sa.Integer, sa.ForeignKey("subscribers.id"), nullable=False, index=True
        ),
        sa.Column("incident_id", sa.Integer, sa.ForeignKey("incidents.id"), nullable=False),
        sa.Column("snapshot", sa.JSON, nullable=False),
        sa.Column("seen", TS, nullable=False),
        sa.UniqueConstraint("subscriber_id", "incident_id"),
    )
    _seed_seen()


def _seed_seen() -> None:
    """Fill subscriber_seen from the digests delivered (or owed) to each subscriber."""
    connection = op.get_bind()
    deliveries = sa.table(
        "deliveries", sa.column("digest_id", sa.Integer), sa.column("subscriber_id", sa.Integer)
    )
    items = sa.table(
        "digest_items",
        sa.column("id", sa.Integer),
        sa.column("digest_id", sa.Integer),
        sa.column("incident_id", sa.Integer),
        sa.column("snapshot", sa.JSON),
    )
    digests = sa.table("digests", sa.column("id", sa.Integer), sa.column("created", TS))
    seen = sa.table(
        "subscriber_seen",
        sa.column("subscriber_id", sa.Integer),
        sa.column("incident_id", sa.Integer),
        sa.column("snapshot", sa.JSON),
        sa.column("seen", TS),
    )
    latest: dict[tuple[int, int], dict] = {}
    rows = connection.execute(
        sa.select(
            deliveries.c.subscriber_id, items.c.incident_id, items.c.snapshot, digests.c.created
        )
        .select_from(
            deliveries.join(items, items.c.digest_id == deliveries.c.digest_id).join(
                digests, digests.c.id == deliveries.c.digest_id
            )
        )
        .order_by(items.c.id)
    )
    for subscriber_id, incident_id, snapshot, created in rows:
        latest[(subscriber_id, incident_id)] = {
            "subscriber_id": subscriber_id,
            "incident_id": incident_id,
            "snapshot": snapshot,
            "seen": created,
        }
    if latest:
        op.bulk_insert(seen, list(latest.values()))


def downgrade() -> None:
    op.drop_table("subscriber_seen")
    op.drop_table("delivery_items")
    with op.batch_alter_table("subscribers") as batch:
        batch.drop_column("last_digest")
    op.execute("DELETE FROM deliveries WHERE digest_id IS NULL")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("created")
        batch.drop_column("kind")
        batch.alter_column("digest_id", existing_type=sa.Integer, nullable=False)
