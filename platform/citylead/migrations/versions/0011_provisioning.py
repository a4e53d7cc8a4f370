"""Onboarding: the ``template`` standards kind, and provisioning jobs with their steps and inputs.

Templates (分类指导) are a fifth kind of standards document, so the check on ``kind`` grows. The
three job tables are tenant-owned by the tenant being onboarded (see provisioning/models.py).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

from citylead.db.rls import tenant_owned_rls

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = "kind IN ('catalog', 'manual', 'assessment', 'calendar', 'template')"
OLD_KINDS = "kind IN ('catalog', 'manual', 'assessment', 'calendar')"


def _kinds(check: str) -> None:
    for table in ("standard_drafts", "standard_versions"):
        op.drop_constraint(f"ck_{table}_kind", table, type_="check")
        op.create_check_constraint(f"ck_{table}_kind", table, check)


def _job_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id", "job_id"],
        ["provisioning_jobs.tenant_id", "provisioning_jobs.id"],
        ondelete="CASCADE",
        name=f"fk_{table}_tenant_id_provisioning_jobs",
    )


def _tenant_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id"], ["tenants.id"], ondelete="RESTRICT", name=f"fk_{table}_tenant_id_tenants"
    )


def upgrade() -> None:
    config = op.get_context().config
    assert config is not None
    app = config.attributes["app_role"]
    _kinds(KINDS)

    stamp = sa.DateTime(timezone=True)
    op.create_table(
        "provisioning_jobs",
        sa.Column("tenant_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("id", pg.UUID(as_uuid=True), server_default=sa.func.gen_random_uuid(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("template", sa.String(24), nullable=False),
        sa.Column("state", sa.String(16), server_default=sa.text("'queued'"), nullable=False),
        sa.Column("requested_by", sa.String(255), nullable=False),
        sa.Column("options", pg.JSONB(), nullable=False),
        sa.Column("plan", pg.JSONB(), nullable=True),
        sa.Column("error", pg.JSONB(), nullable=True),
        sa.Column("created_at", stamp, server_default=sa.func.now(), nullable=False),
        sa.Column("started_at", stamp, nullable=True),
        sa.Column("finished_at", stamp, nullable=True),
        _tenant_fk("provisioning_jobs"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name="pk_provisioning_jobs"),
    )
    op.create_index(
        "ix_provisioning_jobs_active",
        "provisioning_jobs",
        ["tenant_id"],
        unique=True,
        postgresql_where=sa.text("state IN ('queued', 'running')"),
    )
    op.create_index("ix_provisioning_jobs_id", "provisioning_jobs", ["id"])
    op.create_table(
        "provisioning_steps",
        sa.Column("tenant_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("job_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("state", sa.String(16), server_default=sa.text("'pending'"), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("started_at", stamp, nullable=True),
        sa.Column("finished_at", stamp, nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("detail", pg.JSONB(), nullable=True),
        sa.Column("error", pg.JSONB(), nullable=True),
        _tenant_fk("provisioning_steps"),
        _job_fk("provisioning_steps"),
        sa.PrimaryKeyConstraint("tenant_id", "job_id", "position", name="pk_provisioning_steps"),
    )
    op.create_table(
        "provisioning_inputs",
        sa.Column("tenant_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("job_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("name", sa.String(16), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("media_type", sa.String(64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("secret", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        _tenant_fk("provisioning_inputs"),
        _job_fk("provisioning_inputs"),
        sa.PrimaryKeyConstraint("tenant_id", "job_id", "name", name="pk_provisioning_inputs"),
    )
    for table in ("provisioning_jobs", "provisioning_steps", "provisioning_inputs"):
        for stmt in tenant_owned_rls(table):
            op.execute(stmt)
    op.execute(f'GRANT SELECT, INSERT, UPDATE ON provisioning_jobs, provisioning_steps TO "{app}"')
    # Inputs are deleted once used (the first admin's one-time password at once, files with the job).
    op.execute(f'GRANT SELECT, INSERT, DELETE ON provisioning_inputs TO "{app}"')


def downgrade() -> None:
    op.drop_table("provisioning_inputs")
    op.drop_table("provisioning_steps")
    op.drop_table("provisioning_jobs")
    op.execute("DELETE FROM standard_versions WHERE kind = 'template'")
    op.execute("DELETE FROM standard_drafts WHERE kind = 'template'")
    _kinds(OLD_KINDS)
