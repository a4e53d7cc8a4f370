"""Case statistics for the dashboard: ``case_volume`` and the running-clock index.

``case_volume`` holds the cases reported per county and Beijing month, by class and by grid
(``citylead.cases.volume``). Tenant-owned by the county whose cases were counted; its city and
province read it (subtree), only the county writes it (rows are replaced, never updated).

``ix_cases_running`` indexes the cases whose clock runs (``step IS NOT NULL``) by county and
deadline, with the columns the timer lights and the cases read policy need, so the lights and
the overdue list never read the closed cases.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

from citylead.db.rls import tenant_owned_rls

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    config = op.get_context().config
    assert config is not None
    app = config.attributes["app_role"]
    op.create_table(
        "case_volume",
        sa.Column("tenant_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("axis", sa.String(8), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("code", sa.String(15), nullable=False),
        sa.Column("cases", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], ondelete="RESTRICT", name="fk_case_volume_tenant_id_tenants"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "month", "axis", "kind", "code", name="pk_case_volume"),
    )
    for stmt in tenant_owned_rls("case_volume"):
        op.execute(stmt)
    op.execute(f'GRANT SELECT, INSERT, DELETE ON case_volume TO "{app}"')
    op.create_index(
        "ix_cases_running",
        "cases",
        ["tenant_id", "due_at"],
        postgresql_where=sa.text("step IS NOT NULL"),
        postgresql_include=["warn_at", "command_tenant_id", "unit_tenant_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_cases_running", table_name="cases")
    op.drop_table("case_volume")
