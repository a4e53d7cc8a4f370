"""The transactional outbox and the two functions through which the relay reads it.

The relay connects as the application role, which sees no tenant's rows without a context. It
claims committed, unsent rows across tenants through ``citylead_outbox_claim`` (SECURITY DEFINER,
owned by the owner role, ``FOR UPDATE SKIP LOCKED`` so relays in several pods never send the same
row twice at once) and marks them with ``citylead_outbox_sent`` in the same transaction. A failed
send sets ``retry_at`` (0 s, 1 s, 3 s, 7 s … at most an hour), so a poison row cannot occupy every
pass. An ``AFTER INSERT`` statement trigger NOTIFYs ``citylead_outbox``; PostgreSQL delivers it at
commit, so the relay wakes for committed rows only.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

from citylead.db.rls import tenant_owned_rls

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CLAIM = """
CREATE FUNCTION citylead_outbox_claim(p_limit integer)
RETURNS TABLE (tenant_id uuid, id uuid, actor text, queue text, payload jsonb, attempts integer)
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT o.tenant_id, o.id, o.actor::text, o.queue::text, o.payload, o.attempts
    FROM outbox o
    WHERE o.sent_at IS NULL AND (o.retry_at IS NULL OR o.retry_at <= now())
    ORDER BY o.created_at
    LIMIT p_limit
    FOR UPDATE SKIP LOCKED
$$
"""

SENT = """
CREATE FUNCTION citylead_outbox_sent(p_ids uuid[], p_error text DEFAULT NULL)
RETURNS integer
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
    WITH done AS (
        UPDATE outbox
        SET sent_at = CASE WHEN p_error IS NULL THEN now() ELSE NULL END,
            attempts = attempts + 1,
            last_error = p_error,
            retry_at = CASE WHEN p_error IS NULL THEN NULL
                       ELSE now() + least(interval '1 hour', interval '1 second' * (power(2, attempts) - 1))
                       END
        WHERE id = ANY(p_ids)
        RETURNING 1
    )
    SELECT count(*)::integer FROM done
$$
"""

NOTIFY = """
CREATE FUNCTION citylead_outbox_notify() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
    PERFORM pg_notify('citylead_outbox', '');
    RETURN NULL;
END
$$
"""


def upgrade() -> None:
    config = op.get_context().config
    assert config is not None
    app = config.attributes["app_role"]

    op.create_table(
        "outbox",
        sa.Column("tenant_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("id", pg.UUID(as_uuid=True), server_default=sa.func.gen_random_uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("queue", sa.String(64), server_default=sa.text("'default'"), nullable=False),
        sa.Column("payload", pg.JSONB(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("retry_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], ondelete="RESTRICT", name="fk_outbox_tenant_id_tenants"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name="pk_outbox"),
    )
    op.create_index(
        "ix_outbox_pending", "outbox", ["created_at"], postgresql_where=sa.text("sent_at IS NULL")
    )
    for stmt in tenant_owned_rls("outbox", writable=False):
        op.execute(stmt)
    op.execute(f'GRANT SELECT, INSERT ON outbox TO "{app}"')
    op.execute(CLAIM)
    op.execute(SENT)
    op.execute(NOTIFY)
    op.execute(
        "CREATE TRIGGER outbox_notify AFTER INSERT ON outbox "
        "FOR EACH STATEMENT EXECUTE FUNCTION citylead_outbox_notify()"
    )
    for fn in ("citylead_outbox_claim(integer)", "citylead_outbox_sent(uuid[], text)"):
        op.execute(f"REVOKE ALL ON FUNCTION {fn} FROM PUBLIC")
        op.execute(f'GRANT EXECUTE ON FUNCTION {fn} TO "{app}"')


def downgrade() -> None:
    op.execute("DROP TRIGGER outbox_notify ON outbox")
    op.execute("DROP FUNCTION citylead_outbox_notify()")
    op.execute("DROP FUNCTION citylead_outbox_sent(uuid[], text)")
    op.execute("DROP FUNCTION citylead_outbox_claim(integer)")
    op.drop_table("outbox")
