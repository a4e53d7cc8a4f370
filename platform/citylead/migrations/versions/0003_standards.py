"""Standards layers: drafts and immutable published versions per tenant and kind.

Drafts are read by the owning tenant and its ancestors (``visible``); published versions also by
the tenant's descendants (``lineage``), who inherit them. Versions are append-only by grant.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

from citylead.db.rls import tenant_owned_rls

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = "kind IN ('catalog', 'manual', 'assessment', 'calendar')"


def upgrade() -> None:
    config = op.get_context().config
    assert config is not None
    app = config.attributes["app_role"]

    op.create_table(
        "standard_drafts",
        sa.Column("tenant_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("content", pg.JSONB(), nullable=False),
        sa.Column("based_on", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_by", sa.String(255), nullable=False),
        sa.CheckConstraint(KINDS, name="ck_standard_drafts_kind"),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], ondelete="RESTRICT", name="fk_standard_drafts_tenant_id_tenants"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "kind", name="pk_standard_drafts"),
    )
    for stmt in tenant_owned_rls("standard_drafts"):
        op.execute(stmt)
    op.execute(f'GRANT SELECT, INSERT, UPDATE, DELETE ON standard_drafts TO "{app}"')

    op.create_table(
        "standard_versions",
        sa.Column("tenant_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("content", pg.JSONB(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("published_by", sa.String(255), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.CheckConstraint(KINDS, name="ck_standard_versions_kind"),
        sa.CheckConstraint("number >= 1", name="ck_standard_versions_number_positive"),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], ondelete="RESTRICT", name="fk_standard_versions_tenant_id_tenants"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "kind", "number", name="pk_standard_versions"),
    )
    for stmt in tenant_owned_rls("standard_versions", read="lineage", writable=False):
        op.execute(stmt)
    op.execute(f'GRANT SELECT, INSERT ON standard_versions TO "{app}"')


def downgrade() -> None:
    op.drop_table("standard_versions")
    op.drop_table("standard_drafts")
