"""Assessment facts: ``assessment_facts`` (考核事实, per case), ``assessment_sums`` (the facts summed
per county and month, what a period is counted from) and ``assessment_stale`` (cases whose facts
are out of date, marked by a trigger on ``case_events``).

All three are tenant-owned by the case's county, and only the county reads and writes them (the
roll-up, ``citylead.assessment.rollup``): not even its city, since a fact names the staff who
acted on one case; the city reads the counters. Rows go with their case (``ON DELETE CASCADE``).

Triggers on ``assessment_facts`` keep ``assessment_sums``: the facts a statement inserts are added
to their month's sums, those it deletes subtracted (as the application role in the county's
context, or as the owner when facts go with a deleted case).

``assessment_stale_mark`` runs after every statement that inserts case events and marks their
cases stale (an upsert, so that a roll-up claiming the mark waits for the transaction that set it).
It runs as the owner: a city holding an escalated case, or a unit's tenant disposing it, adds
events to a county's case from its own context and could not write the county's mark. Every case
that exists when this migration runs is marked, so the first roll-up builds its facts.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-22
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

from citylead.db.rls import TENANT_ID, tenant_owned_rls

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COUNTERS = (
    *("reports", "valid_reports", "missed_reports", "filed", "voided", "filed_on_time", "verify_due"),
    *("verified_on_time", "check_due", "checked_on_time", "dispatched", "dispatched_on_time"),
    *("returned_wrong_unit", "due_for_disposal", "disposed", "disposed_on_time", "overdue_pending"),
    *("postponed", "rework", "reworked_disposals", "due_to_close", "closed", "closed_on_time"),
    *("deferred_approved", "deferred_closed_on_time", "volume"),
)  # the fields of citylead.assessment.counters.Counters when this was written

MARK = """
CREATE FUNCTION citylead_assessment_stale_mark() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    INSERT INTO assessment_stale (tenant_id, case_id)
    SELECT DISTINCT tenant_id, case_id FROM added
    ON CONFLICT (tenant_id, case_id) DO UPDATE SET changed_at = now();
    RETURN NULL;
END
$$
"""

KEY = ("tenant_id", "month", "regions", "street", "grid", "post_type", "post_code", "unit", "pending_month")
BEIJING_MONTH = "(date_trunc('month', {} AT TIME ZONE 'Asia/Shanghai'))::date"
SUMS = f"""
CREATE FUNCTION citylead_assessment_sums() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
    v_sign integer := CASE TG_OP WHEN 'INSERT' THEN 1 ELSE -1 END;
BEGIN
    -- Added facts are added to their month's sums, deleted ones subtracted (a case's facts are
    -- replaced, or go with their case). In key order, so concurrent refreshes lock alike.
    INSERT INTO assessment_sums AS s ({", ".join(KEY)}, facts, {", ".join(COUNTERS)})
    SELECT tenant_id, {BEIJING_MONTH.format("at")}, regions, coalesce(street, ''), coalesce(grid, ''),
           coalesce(post_type, ''), coalesce(post_code, ''), coalesce(unit, ''),
           coalesce({BEIJING_MONTH.format("pending_until")}, 'infinity'), v_sign * count(*),
           {", ".join(f"v_sign * coalesce(sum({c}), 0)" for c in COUNTERS)}
      FROM changed
     GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9
     ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9
    ON CONFLICT ({", ".join(KEY)}) DO UPDATE
       SET facts = s.facts + excluded.facts, {", ".join(f"{c} = s.{c} + excluded.{c}" for c in COUNTERS)};
    RETURN NULL;
END
$$
"""


def _subjects(*, nullable: bool) -> list[sa.Column[Any]]:
    """Whom a fact counts for: the case's regions (street, grid), a post, a unit."""
    return [
        sa.Column("regions", sa.Boolean(), nullable=False),
        *(
            sa.Column(name, sa.String(size), nullable=nullable)
            for name, size in (
                ("street", 9),
                ("grid", 15),
                ("post_type", 16),
                ("post_code", 255),
                ("unit", 64),
            )
        ),
    ]


def upgrade() -> None:
    config = op.get_context().config
    assert config is not None
    app = config.attributes["app_role"]
    uuid, ts = pg.UUID(as_uuid=True), sa.DateTime(timezone=True)
    to_case = ("tenant_id", "case_id"), ("cases.tenant_id", "cases.id")
    op.create_table(
        "assessment_facts",
        sa.Column("tenant_id", uuid, nullable=False),
        sa.Column("case_id", uuid, nullable=False),
        sa.Column("n", sa.SmallInteger(), nullable=False),
        sa.Column("at", ts, nullable=False),
        *_subjects(nullable=True),
        sa.Column("pending_until", ts, nullable=True),
        *(sa.Column(name, sa.SmallInteger(), nullable=True) for name in COUNTERS),
        sa.ForeignKeyConstraint(
            *to_case, ondelete="CASCADE", name="fk_assessment_facts_tenant_id_case_id_cases"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "case_id", "n", name="pk_assessment_facts"),
    )
    op.create_table(
        "assessment_sums",
        sa.Column("tenant_id", uuid, nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        *_subjects(nullable=False),
        sa.Column("pending_month", sa.Date(), nullable=False),
        sa.Column("facts", sa.Integer(), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in COUNTERS),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], ondelete="RESTRICT", name="fk_assessment_sums_tenant_id_tenants"
        ),
        sa.PrimaryKeyConstraint(
            *("tenant_id", "month", "regions", "street", "grid", "post_type", "post_code", "unit"),
            "pending_month",
            name="pk_assessment_sums",
        ),
    )
    op.create_table(
        "assessment_stale",
        sa.Column("tenant_id", uuid, nullable=False),
        sa.Column("case_id", uuid, nullable=False),
        sa.Column("changed_at", ts, server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(
            *to_case, ondelete="CASCADE", name="fk_assessment_stale_tenant_id_case_id_cases"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "case_id", name="pk_assessment_stale"),
    )
    for table in ("assessment_facts", "assessment_sums", "assessment_stale"):
        for stmt in tenant_owned_rls(table):
            if stmt.startswith(f"CREATE POLICY {table}_read "):  # the county's own rows only
                stmt = f"CREATE POLICY {table}_read ON {table} FOR SELECT USING (tenant_id = {TENANT_ID})"
            op.execute(stmt)
    op.execute(f'GRANT SELECT, INSERT, DELETE ON assessment_facts TO "{app}"')
    op.execute(f'GRANT SELECT, INSERT, UPDATE ON assessment_sums TO "{app}"')
    op.execute(f'GRANT SELECT, DELETE ON assessment_stale TO "{app}"')
    op.execute(SUMS)
    for name, when, table in (("add", "INSERT", "NEW"), ("remove", "DELETE", "OLD")):
        op.execute(
            f"CREATE TRIGGER assessment_sums_{name} AFTER {when} ON assessment_facts "
            f"REFERENCING {table} TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION citylead_assessment_sums()"
        )
    op.execute(MARK)
    op.execute("REVOKE ALL ON FUNCTION citylead_assessment_stale_mark() FROM PUBLIC")
    op.execute(
        "CREATE TRIGGER assessment_stale_mark AFTER INSERT ON case_events "
        "REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION citylead_assessment_stale_mark()"
    )
    op.execute("INSERT INTO assessment_stale (tenant_id, case_id) SELECT tenant_id, id FROM cases")


def downgrade() -> None:
    op.execute("DROP TRIGGER assessment_stale_mark ON case_events")
    op.execute("DROP FUNCTION citylead_assessment_stale_mark()")
    op.execute("DROP TRIGGER assessment_sums_add ON assessment_facts")
    op.execute("DROP TRIGGER assessment_sums_remove ON assessment_facts")
    op.execute("DROP FUNCTION citylead_assessment_sums()")
    op.drop_table("assessment_stale")
    op.drop_table("assessment_sums")
    op.drop_table("assessment_facts")
