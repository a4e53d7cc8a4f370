"""Units (责任单位) and the component inventory (部件普查数据).

Units are read along the lineage (a county sees its city's departments, which take county cases);
components in the subtree. Owner and maintainer units are kept as (tenant id, code) without a foreign
key: the unit may belong to an ancestor tenant.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

from citylead.db.rls import tenant_owned_rls

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    config = op.get_context().config
    assert config is not None
    app = config.attributes["app_role"]

    op.create_table(
        "units",
        sa.Column("tenant_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("sector", sa.String(32), nullable=True),
        sa.Column("street_code", sa.String(9), nullable=True),
        sa.Column("classes", pg.JSONB(), server_default=sa.text("'[]'::jsonb"), nullable=False),
        sa.Column("accounts", pg.ARRAY(sa.Text()), server_default=sa.text("'{}'::text[]"), nullable=False),
        sa.Column("credit_code", sa.String(18), nullable=True),
        sa.Column("contact", sa.String(128), nullable=True),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.CheckConstraint("kind IN ('sector', 'territorial', 'shopfront')", name="ck_units_kind"),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], ondelete="RESTRICT", name="fk_units_tenant_id_tenants"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "code", name="pk_units"),
    )
    op.create_index("ix_units_accounts", "units", ["accounts"], postgresql_using="gin")
    op.create_index(
        "uq_units_territory",
        "units",
        ["tenant_id", "street_code"],
        unique=True,
        postgresql_where=sa.text("kind = 'territorial' AND active"),
    )
    for stmt in tenant_owned_rls("units", read="lineage"):
        op.execute(stmt)
    op.execute(f'GRANT SELECT, INSERT, UPDATE ON units TO "{app}"')

    op.create_table(
        "components",
        sa.Column("tenant_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("object_id", sa.String(17), nullable=False),
        sa.Column("edition", sa.String(8), nullable=False),
        sa.Column("class_code", sa.String(5), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("owner_unit", sa.String(32), nullable=True),
        sa.Column("owner_tenant_id", pg.UUID(as_uuid=True), nullable=True),
        sa.Column("maintainer_unit", sa.String(32), nullable=True),
        sa.Column("maintainer_tenant_id", pg.UUID(as_uuid=True), nullable=True),
        sa.Column("competent_department", sa.String(64), nullable=True),
        sa.Column("grid_code", sa.String(15), nullable=True),
        sa.Column("street_code", sa.String(9), nullable=True),
        sa.Column("community_code", sa.String(12), nullable=True),
        sa.Column("state", sa.String(16), server_default=sa.text("'intact'"), nullable=False),
        sa.Column("lon", sa.Double(), nullable=False),
        sa.Column("lat", sa.Double(), nullable=False),
        sa.Column("installed_on", sa.Date(), nullable=True),
        sa.Column("changed_on", sa.Date(), nullable=True),
        sa.Column("source", sa.String(64), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint("edition IN ('legacy', '2026')", name="ck_components_edition"),
        sa.CheckConstraint(
            "state IN ('intact', 'damaged', 'lost', 'abandoned', 'removed')", name="ck_components_state"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], ondelete="RESTRICT", name="fk_components_tenant_id_tenants"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "object_id", name="pk_components"),
    )
    op.create_index("ix_components_class_position", "components", ["tenant_id", "class_code", "lon", "lat"])
    op.create_index("ix_components_street", "components", ["tenant_id", "street_code"])
    for stmt in tenant_owned_rls("components"):
        op.execute(stmt)
    op.execute(f'GRANT SELECT, INSERT, UPDATE, DELETE ON components TO "{app}"')


def downgrade() -> None:
    op.drop_table("components")
    op.drop_table("units")
