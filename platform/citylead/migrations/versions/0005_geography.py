"""Geography per county: streets/towns, communities, unit grids, and the geography version.

All four tables are tenant-owned by the county-level division: a city reads its counties' rows
(the subtree), and only the county's own context writes them.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

from citylead.db.rls import tenant_owned_rls

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("geographies", "streets", "communities", "grids")


def _tenant_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id"], ["tenants.id"], ondelete="RESTRICT", name=f"fk_{table}_tenant_id_tenants"
    )


def upgrade() -> None:
    config = op.get_context().config
    assert config is not None
    app = config.attributes["app_role"]

    op.create_table(
        "geographies",
        sa.Column("tenant_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("imported_by", sa.String(255), nullable=False),
        sa.Column("streets", sa.Integer(), nullable=False),
        sa.Column("communities", sa.Integer(), nullable=False),
        sa.Column("grids", sa.Integer(), nullable=False),
        sa.CheckConstraint("version >= 1", name="ck_geographies_version_positive"),
        _tenant_fk("geographies"),
        sa.PrimaryKeyConstraint("tenant_id", name="pk_geographies"),
    )
    op.create_table(
        "streets",
        sa.Column("tenant_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("code", sa.String(9), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.CheckConstraint("code ~ '^[0-9]{9}$'", name="ck_streets_code_digits"),
        sa.CheckConstraint("kind IN ('street', 'town', 'township')", name="ck_streets_kind"),
        _tenant_fk("streets"),
        sa.PrimaryKeyConstraint("tenant_id", "code", name="pk_streets"),
    )
    op.create_table(
        "communities",
        sa.Column("tenant_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("code", sa.String(12), nullable=False),
        sa.Column("street_code", sa.String(9), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.CheckConstraint("code ~ '^[0-9]{12}$'", name="ck_communities_code_digits"),
        _tenant_fk("communities"),
        sa.ForeignKeyConstraint(
            ["tenant_id", "street_code"],
            ["streets.tenant_id", "streets.code"],
            ondelete="RESTRICT",
            name="fk_communities_tenant_id_street_code_streets",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "code", name="pk_communities"),
    )
    op.create_index("ix_communities_tenant_id_street_code", "communities", ["tenant_id", "street_code"])
    op.create_table(
        "grids",
        sa.Column("tenant_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("code", sa.String(15), nullable=False),
        sa.Column("street_code", sa.String(9), nullable=False),
        sa.Column("community_code", sa.String(12), nullable=False),
        sa.Column("area_m2", sa.Numeric(14, 1), nullable=False),
        sa.Column("geometry", pg.JSONB(), nullable=False),
        sa.Column("centroid_lon", sa.Double(), nullable=False),
        sa.Column("centroid_lat", sa.Double(), nullable=False),
        sa.CheckConstraint("code ~ '^[0-9A-Z]{14,15}$'", name="ck_grids_code_chars"),
        _tenant_fk("grids"),
        sa.ForeignKeyConstraint(
            ["tenant_id", "street_code"],
            ["streets.tenant_id", "streets.code"],
            ondelete="RESTRICT",
            name="fk_grids_tenant_id_street_code_streets",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "community_code"],
            ["communities.tenant_id", "communities.code"],
            ondelete="RESTRICT",
            name="fk_grids_tenant_id_community_code_communities",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "code", name="pk_grids"),
    )
    op.create_index("ix_grids_tenant_id_street_code", "grids", ["tenant_id", "street_code"])
    op.create_index("ix_grids_tenant_id_community_code", "grids", ["tenant_id", "community_code"])

    for table in TABLES:
        for stmt in tenant_owned_rls(table):
            op.execute(stmt)
        op.execute(f'GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO "{app}"')


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
