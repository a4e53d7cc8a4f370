"""Daily case activity for coverage: ``case_days`` (案件日汇总).

One row per county, Beijing day of ``reported_at`` and reporter: ``reporter`` is the supervisor's
username for a supervisor-sourced case and ``''`` for every other source, ``cases`` how many cases
that makes. Coverage's "cases and active supervisors in the last 30 days" sum ≈ 30 rows per
supervisor of a county instead of reading ~4,000 cases per county a month from ``cases``.

Kept by statement-level triggers on ``cases`` (inserts add, deletes subtract; a case's county,
source, reporter and ``reported_at`` never change after intake), which run as the owner: a city's
hotline may register a case in one of its counties from its own context. Tenant-owned by the
county; its city and province read it (subtree). Existing cases are counted once, here.

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

from citylead.db.rls import tenant_owned_rls

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DAY = "(reported_at AT TIME ZONE 'Asia/Shanghai')::date"
REPORTER = "CASE WHEN source = 'supervisor' THEN reported_by ELSE '' END"
COUNT = f"""
CREATE FUNCTION citylead_case_days() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO case_days AS d (tenant_id, day, reporter, cases)
        SELECT tenant_id, {DAY}, {REPORTER}, count(*) FROM changed
         GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        ON CONFLICT (tenant_id, day, reporter) DO UPDATE SET cases = d.cases + excluded.cases;
    ELSE
        UPDATE case_days AS d SET cases = d.cases - gone.n
          FROM (SELECT tenant_id, {DAY} AS day, {REPORTER} AS reporter, count(*) AS n FROM changed
                 GROUP BY 1, 2, 3) AS gone
         WHERE (d.tenant_id, d.day, d.reporter) = (gone.tenant_id, gone.day, gone.reporter);
        DELETE FROM case_days AS d
         USING (SELECT DISTINCT tenant_id, {DAY} AS day, {REPORTER} AS reporter FROM changed) AS gone
         WHERE (d.tenant_id, d.day, d.reporter) = (gone.tenant_id, gone.day, gone.reporter)
           AND d.cases <= 0;
    END IF;
    RETURN NULL;
END
$$
"""


def upgrade() -> None:
    config = op.get_context().config
    assert config is not None
    app = config.attributes["app_role"]
    op.create_table(
        "case_days",
        sa.Column("tenant_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("reporter", sa.String(255), nullable=False),
        sa.Column("cases", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], ondelete="RESTRICT", name="fk_case_days_tenant_id_tenants"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "day", "reporter", name="pk_case_days"),
    )
    for stmt in tenant_owned_rls("case_days"):
        op.execute(stmt)
    op.execute(f'GRANT SELECT ON case_days TO "{app}"')
    op.execute(COUNT)
    op.execute("REVOKE ALL ON FUNCTION citylead_case_days() FROM PUBLIC")
    for name, when, table in (("add", "INSERT", "NEW"), ("remove", "DELETE", "OLD")):
        op.execute(
            f"CREATE TRIGGER case_days_{name} AFTER {when} ON cases "
            f"REFERENCING {table} TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION citylead_case_days()"
        )
    op.execute(
        f"INSERT INTO case_days (tenant_id, day, reporter, cases) "
        f"SELECT tenant_id, {DAY}, {REPORTER}, count(*) FROM cases GROUP BY 1, 2, 3"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER case_days_add ON cases")
    op.execute("DROP TRIGGER case_days_remove ON cases")
    op.execute("DROP FUNCTION citylead_case_days()")
    op.drop_table("case_days")
