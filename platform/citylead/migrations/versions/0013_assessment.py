"""Assessment roll-ups: ``assessment_counters``, one row per county, period and subject.

Tenant-owned by the county whose cases were counted; its city reads it (subtree), only the county
writes it (``do_refresh`` replaces a period's rows in one transaction).

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

from citylead.db.rls import tenant_owned_rls

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    config = op.get_context().config
    assert config is not None
    app = config.attributes["app_role"]
    op.create_table(
        "assessment_counters",
        sa.Column("tenant_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("period", sa.String(8), nullable=False),
        sa.Column("subject_type", sa.String(16), nullable=False),
        sa.Column("subject_code", sa.String(255), nullable=False),
        sa.Column("counters", pg.JSONB(), nullable=False),
        sa.Column("rules", sa.String(255), nullable=True),
        sa.Column("computed_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            ondelete="RESTRICT",
            name="fk_assessment_counters_tenant_id_tenants",
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "period", "subject_type", "subject_code", name="pk_assessment_counters"
        ),
    )
    for stmt in tenant_owned_rls("assessment_counters"):
        op.execute(stmt)
    op.execute(f'GRANT SELECT, INSERT, DELETE ON assessment_counters TO "{app}"')


def downgrade() -> None:
    op.drop_table("assessment_counters")
