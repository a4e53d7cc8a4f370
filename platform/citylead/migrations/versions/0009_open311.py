"""Open311: client applications' API keys per county, and the jurisdiction lookup.

``open311_clients`` is tenant-owned (a county's keys; hashes only). ``citylead_open311_jurisdiction``
(SECURITY DEFINER, owned by the owner role) lets the public Open311 endpoints, which have no tenant
context, learn the tree path of a *live county-level division* by its GB/T 2260 code, and nothing
else: the request then enters that county's context and row-level security applies as usual.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

from citylead.db.rls import tenant_owned_rls

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JURISDICTION = """
CREATE FUNCTION citylead_open311_jurisdiction(p_code text) RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT path FROM tenants
    WHERE code = p_code
      AND status = 'live'
      AND level IN ('municipal_district', 'county_city', 'county')
$$
"""


def upgrade() -> None:
    config = op.get_context().config
    assert config is not None
    app = config.attributes["app_role"]

    op.create_table(
        "open311_clients",
        sa.Column("tenant_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("id", pg.UUID(as_uuid=True), server_default=sa.func.gen_random_uuid(), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("prefix", sa.String(12), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], ondelete="RESTRICT", name="fk_open311_clients_tenant_id_tenants"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name="pk_open311_clients"),
        sa.UniqueConstraint("tenant_id", "key_hash", name="uq_open311_clients_tenant_id_key_hash"),
    )
    op.create_index("ix_open311_clients_tenant_id_prefix", "open311_clients", ["tenant_id", "prefix"])
    for stmt in tenant_owned_rls("open311_clients"):
        op.execute(stmt)
    # Revoking is an UPDATE of revoked_at; rows are never deleted (the audit trail names them).
    op.execute(f'GRANT SELECT, INSERT, UPDATE ON open311_clients TO "{app}"')

    op.execute(JURISDICTION)
    op.execute("REVOKE ALL ON FUNCTION citylead_open311_jurisdiction(text) FROM PUBLIC")
    op.execute(f'GRANT EXECUTE ON FUNCTION citylead_open311_jurisdiction(text) TO "{app}"')


def downgrade() -> None:
    op.execute("DROP FUNCTION citylead_open311_jurisdiction(text)")
    op.drop_table("open311_clients")
