"""Jobs: the PostgreSQL broker's queue and notifications.

- schema ``dramatiq``: the tables of dramatiq-postgres 1.4 (its ``schema.sql``, with named indexes),
  created here because the library never creates them and the application role, which the
  broker connects as, may not create schemas. Not tenant-owned: a message queue.
- ``notifications``: tenant-owned, one row per (tenant, dedupe_key).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

from citylead.db.rls import tenant_owned_rls

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BROKER = "dramatiq"


def upgrade() -> None:
    config = op.get_context().config
    assert config is not None
    app = config.attributes["app_role"]

    # The PostgreSQL broker's queue (dramatiq-postgres 1.4 schema.sql).
    op.execute(f"CREATE SCHEMA {BROKER}")
    state = pg.ENUM("queued", "consumed", "rejected", name="state", schema=BROKER)
    op.create_table(
        "queue",
        sa.Column("message_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("queue_name", sa.Text(), server_default=sa.text("'default'"), nullable=False),
        sa.Column("state", state, nullable=True),
        sa.Column("mtime", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=True),
        sa.Column("message", pg.JSONB(), nullable=True),
        sa.Column("position", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("available_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("worker_id", pg.UUID(as_uuid=True), nullable=True),
        sa.Column("consumed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("message_id", name="pk_queue"),
        schema=BROKER,
    )
    op.create_index(
        "ix_queue_claim",
        "queue",
        ["queue_name", "available_at", "position"],
        schema=BROKER,
        postgresql_where=sa.text("state = 'queued'"),
    )
    op.create_index("ix_queue_state_mtime", "queue", ["state", "mtime"], schema=BROKER)
    op.create_table(
        "worker",
        sa.Column("worker_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("worker_id", name="pk_worker"),
        schema=BROKER,
    )
    op.create_table(
        "result",
        sa.Column("message_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("result", pg.JSONB(), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("message_id", name="pk_result"),
        schema=BROKER,
    )
    op.execute(f'GRANT USAGE ON SCHEMA {BROKER} TO "{app}"')
    op.execute(f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {BROKER} TO "{app}"')
    op.execute(f'GRANT USAGE ON ALL SEQUENCES IN SCHEMA {BROKER} TO "{app}"')

    # Notifications (通知).
    op.create_table(
        "notifications",
        sa.Column("tenant_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("id", pg.UUID(as_uuid=True), server_default=sa.func.gen_random_uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("recipient_kind", sa.String(8), nullable=False),
        sa.Column("recipient", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("case_id", pg.UUID(as_uuid=True), nullable=True),
        sa.Column("dedupe_key", sa.String(255), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "recipient_kind IN ('unit', 'role', 'user')", name="ck_notifications_recipient_kind"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], ondelete="RESTRICT", name="fk_notifications_tenant_id_tenants"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name="pk_notifications"),
        sa.UniqueConstraint("tenant_id", "dedupe_key", name="uq_notifications_tenant_id_dedupe_key"),
    )
    op.create_index(
        "ix_notifications_recipient",
        "notifications",
        ["tenant_id", "recipient_kind", "recipient", "created_at"],
    )
    for stmt in tenant_owned_rls("notifications"):
        op.execute(stmt)
    op.execute(f'GRANT SELECT, INSERT, UPDATE ON notifications TO "{app}"')


def downgrade() -> None:
    op.drop_table("notifications")
    op.execute(f"DROP SCHEMA {BROKER} CASCADE")
