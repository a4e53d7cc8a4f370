"""Foundation: tenant tree, audit events, tenant profiles, and the tenant-context function.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

from citylead.db.rls import LINEAGE, TENANT_ID, VISIBLE, tenant_owned_rls

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ENTER = """
CREATE FUNCTION citylead_enter(p_path text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    v_id uuid;
    v_visible text;
    v_lineage text;
BEGIN
    -- The tenant context of this transaction (see tenants/context.py). Runs as the owner so that
    -- it can resolve the tree before any setting exists; it only ever narrows what may be seen.
    SELECT id INTO v_id FROM tenants WHERE path = p_path;
    IF v_id IS NULL THEN
        PERFORM set_config('app.path', '', true), set_config('app.tenant_id', '', true),
                set_config('app.visible', '', true), set_config('app.lineage', '', true);
        RETURN;
    END IF;
    SELECT array_agg(id)::text INTO v_visible FROM tenants WHERE path ^@ p_path;
    SELECT array_agg(id)::text INTO v_lineage FROM tenants WHERE p_path ^@ path;
    PERFORM set_config('app.path', p_path, true), set_config('app.tenant_id', v_id::text, true),
            set_config('app.visible', v_visible, true), set_config('app.lineage', v_lineage, true);
END
$$
"""


def upgrade() -> None:
    config = op.get_context().config
    assert config is not None
    app = config.attributes["app_role"]

    op.create_table(
        "tenants",
        sa.Column("id", pg.UUID(as_uuid=True), server_default=sa.func.gen_random_uuid(), nullable=False),
        sa.Column("code", sa.String(6), nullable=False),
        sa.Column("parent_id", pg.UUID(as_uuid=True), nullable=True),
        sa.Column("path", sa.Text(collation="C"), nullable=False),
        sa.Column("level", sa.String(24), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("area_km2", sa.Numeric(10, 2), nullable=True),
        sa.Column("boundary", pg.JSONB(), nullable=True),
        sa.Column("status", sa.String(24), server_default="registered", nullable=False),
        sa.Column("live_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.CheckConstraint("code ~ '^[0-9]{6}$'", name="ck_tenants_code_gb2260"),
        sa.CheckConstraint("path ~ '^/[0-9]{2}/([0-9]{4}/)?([0-9]{6}/)?$'", name="ck_tenants_path_shape"),
        sa.CheckConstraint(
            "level IN ('province', 'prefecture_city', 'municipal_district', 'county_city', 'county')",
            name="ck_tenants_tenant_level",
        ),
        sa.CheckConstraint(
            "status IN ('registered', 'onboarding', 'live', 'suspended')", name="ck_tenants_tenant_status"
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["tenants.id"], ondelete="RESTRICT", name="fk_tenants_parent_id_tenants"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_tenants"),
        sa.UniqueConstraint("code", name="uq_tenants_code"),
        sa.UniqueConstraint("path", name="uq_tenants_path"),
    )
    op.create_index("ix_tenants_path_prefix", "tenants", ["path"], postgresql_using="spgist")
    op.create_index("ix_tenants_parent_id", "tenants", ["parent_id"])
    for stmt in (
        "ALTER TABLE tenants ENABLE ROW LEVEL SECURITY",
        "ALTER TABLE tenants FORCE ROW LEVEL SECURITY",
        # A principal sees its subtree and its ancestors (whose standards it inherits).
        f"CREATE POLICY tenants_read ON tenants FOR SELECT USING (id = ANY({VISIBLE}) OR id = ANY({LINEAGE}))",
        # ... and changes only its own row (status and the like); the registry is loaded by the owner.
        f"CREATE POLICY tenants_update ON tenants FOR UPDATE USING (id = {TENANT_ID}) WITH CHECK (id = {TENANT_ID})",
        f'GRANT SELECT, UPDATE ON tenants TO "{app}"',
    ):
        op.execute(stmt)

    op.create_table(
        "audit_events",
        sa.Column("tenant_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("id", pg.UUID(as_uuid=True), server_default=sa.func.gen_random_uuid(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("data", pg.JSONB(), server_default="{}", nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], ondelete="RESTRICT", name="fk_audit_events_tenant_id_tenants"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name="pk_audit_events"),
    )
    op.create_index("ix_audit_events_tenant_at", "audit_events", ["tenant_id", "at"])
    for stmt in tenant_owned_rls("audit_events", writable=False):
        op.execute(stmt)
    op.execute(f'GRANT SELECT, INSERT ON audit_events TO "{app}"')

    op.create_table(
        "tenant_profiles",
        sa.Column("tenant_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("contact_name", sa.String(64), nullable=True),
        sa.Column("contact_phone", sa.String(32), nullable=True),
        sa.Column("contact_email", sa.String(255), nullable=True),
        sa.Column("supervision_mode", sa.String(32), nullable=True),
        sa.Column("command_mode", sa.String(32), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_by", sa.String(255), nullable=True),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.CheckConstraint(
            "supervision_mode IN ('city', 'own', 'two_level')", name="ck_tenant_profiles_supervision_mode"
        ),
        sa.CheckConstraint(
            "command_mode IN ('city', 'own', 'own_with_city_backing')", name="ck_tenant_profiles_command_mode"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], ondelete="RESTRICT", name="fk_tenant_profiles_tenant_id_tenants"
        ),
        sa.PrimaryKeyConstraint("tenant_id", name="pk_tenant_profiles"),
    )
    for stmt in tenant_owned_rls("tenant_profiles"):
        op.execute(stmt)
    op.execute(f'GRANT SELECT, INSERT, UPDATE, DELETE ON tenant_profiles TO "{app}"')

    op.execute(ENTER)
    op.execute("REVOKE ALL ON FUNCTION citylead_enter(text) FROM PUBLIC")
    op.execute(f'GRANT EXECUTE ON FUNCTION citylead_enter(text) TO "{app}"')
    op.execute(f'GRANT USAGE ON SCHEMA public TO "{app}"')
    op.execute(f'GRANT SELECT ON alembic_version TO "{app}"')


def downgrade() -> None:
    op.execute("DROP FUNCTION citylead_enter(text)")
    op.drop_table("tenant_profiles")
    op.drop_table("audit_events")
    op.drop_table("tenants")
