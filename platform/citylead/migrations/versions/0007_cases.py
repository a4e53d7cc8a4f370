"""Cases, their events, photos and intake idempotency keys; the case-number sequence; the overdue
scan for the sweep.

Besides the county that owns a case, two tenants may act on it: the command centre holding it
(``command_tenant_id``: the city after an escalation) and the assigned unit's tenant
(``unit_tenant_id``: a city-level department, or another county's unit). The policies let exactly
those read and change the case and add to its events and photos — the assignment gives the
access, nobody's visible subtree is widened. Nobody may delete.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

from citylead.db.rls import TENANT_ID, VISIBLE, tenant_owned_rls

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UUID = pg.UUID(as_uuid=True)
TS = sa.DateTime(timezone=True)


def _case_policies() -> list[str]:
    acting = f"(tenant_id = {TENANT_ID} OR command_tenant_id = {TENANT_ID} OR unit_tenant_id = {TENANT_ID})"
    return [
        "ALTER TABLE cases ENABLE ROW LEVEL SECURITY",
        "ALTER TABLE cases FORCE ROW LEVEL SECURITY",
        "CREATE POLICY cases_read ON cases FOR SELECT USING ("
        f"tenant_id = ANY({VISIBLE}) OR command_tenant_id = ANY({VISIBLE}) OR unit_tenant_id = ANY({VISIBLE}))",
        f"CREATE POLICY cases_insert ON cases FOR INSERT WITH CHECK (tenant_id = {TENANT_ID})",
        # Only a holder may change a case; the changed row must stay with a holder or in the
        # actor's subtree (a city hands an escalated case back to its county: 退回区县).
        f"CREATE POLICY cases_update ON cases FOR UPDATE USING {acting} "
        f"WITH CHECK ({acting} OR tenant_id = ANY({VISIBLE}))",
    ]


def _child_policies(table: str) -> list[str]:
    def through_case(who: str) -> str:
        return (
            f"EXISTS (SELECT 1 FROM cases c WHERE c.tenant_id = {table}.tenant_id "
            f"AND c.id = {table}.case_id AND (c.command_tenant_id {who} OR c.unit_tenant_id {who}))"
        )

    return [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
        f"CREATE POLICY {table}_read ON {table} FOR SELECT USING ("
        f"tenant_id = ANY({VISIBLE}) OR {through_case(f'= ANY({VISIBLE})')})",
        f"CREATE POLICY {table}_insert ON {table} FOR INSERT WITH CHECK ("
        f"tenant_id = {TENANT_ID} OR tenant_id = ANY({VISIBLE}) OR {through_case(f'= {TENANT_ID}')})",
    ]


OVERDUE = """
CREATE FUNCTION citylead_overdue_due(p_now timestamptz, p_limit integer)
RETURNS TABLE (tenant_id uuid, tenant_path text, case_id uuid)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT c.tenant_id, t.path::text, c.id
    FROM cases c JOIN tenants t ON t.id = c.tenant_id
    WHERE c.step IS NOT NULL AND NOT c.overdue AND c.due_at < p_now
    ORDER BY c.due_at
    LIMIT p_limit
$$
"""


def _fk_case(table: str, **kw: object) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id", "case_id"],
        ["cases.tenant_id", "cases.id"],
        ondelete="RESTRICT",
        name=f"fk_{table}_tenant_id_case_id_cases",
        **kw,  # type: ignore[arg-type]
    )


def upgrade() -> None:
    config = op.get_context().config
    assert config is not None
    app = config.attributes["app_role"]

    op.create_table(
        "cases",
        sa.Column("tenant_id", UUID, nullable=False),
        sa.Column("id", UUID, server_default=sa.func.gen_random_uuid(), nullable=False),
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("class_code", sa.String(8), nullable=False),
        sa.Column("class_name", sa.String(128), nullable=False),
        sa.Column("urgency", sa.String(16), nullable=False),
        sa.Column("source", sa.String(24), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("address", sa.String(255), nullable=True),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("grid_code", sa.String(15), nullable=True),
        sa.Column("street_code", sa.String(9), nullable=True),
        sa.Column("community_code", sa.String(12), nullable=True),
        sa.Column("component_id", sa.String(17), nullable=True),
        sa.Column("reporter", pg.JSONB(), server_default="{}", nullable=False),
        sa.Column("external_id", sa.String(64), nullable=True),
        sa.Column("state", sa.String(24), nullable=False),
        sa.Column("closing_type", sa.String(16), nullable=True),
        sa.Column("standards", pg.JSONB(), nullable=False),
        sa.Column("limits", pg.JSONB(), server_default="{}", nullable=False),
        sa.Column("command_tenant_id", UUID, nullable=False),
        sa.Column("unit_tenant_id", UUID, nullable=True),
        sa.Column("unit_code", sa.String(32), nullable=True),
        sa.Column("unit_name", sa.String(128), nullable=True),
        sa.Column("suggestion", pg.JSONB(), server_default="{}", nullable=False),
        sa.Column("step", sa.String(16), nullable=True),
        sa.Column("step_started_at", TS, nullable=True),
        sa.Column("step_limit", sa.String(16), nullable=True),
        sa.Column("due_at", TS, nullable=True),
        sa.Column("warn_at", TS, nullable=True),
        sa.Column("stage_due", pg.JSONB(), server_default="[]", nullable=False),
        sa.Column("paused", pg.JSONB(), server_default="[]", nullable=False),
        sa.Column("overdue", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("dispose_overdue", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("pending", pg.JSONB(), server_default="{}", nullable=False),
        sa.Column("rework_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("return_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("postpone_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("duplicate_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("reported_by", sa.String(255), nullable=False),
        sa.Column("reported_at", TS, server_default=sa.func.now(), nullable=False),
        sa.Column("filed_at", TS, nullable=True),
        sa.Column("dispatched_at", TS, nullable=True),
        sa.Column("disposed_at", TS, nullable=True),
        sa.Column("closed_at", TS, nullable=True),
        sa.Column("updated_at", TS, server_default=sa.func.now(), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], ondelete="RESTRICT", name="fk_cases_tenant_id_tenants"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name="pk_cases"),
    )
    op.create_index("ix_cases_tenant_id_state", "cases", ["tenant_id", "state"])
    op.create_index("ix_cases_tenant_id_reported_at", "cases", ["tenant_id", "reported_at"])
    op.create_index(
        "ix_cases_tenant_id_kind_class_code", "cases", ["tenant_id", "kind", "class_code", "reported_at"]
    )
    op.create_index("ix_cases_unit", "cases", ["unit_tenant_id", "unit_code", "state"])
    op.create_index("ix_cases_command_tenant_id", "cases", ["command_tenant_id", "state"])
    op.create_index(
        "ix_cases_due", "cases", ["due_at"], postgresql_where=sa.text("step IS NOT NULL AND NOT overdue")
    )
    op.create_index("uq_cases_number", "cases", ["number"], unique=True)
    op.create_index("ix_cases_id", "cases", ["id"])

    op.create_table(
        "case_events",
        sa.Column("tenant_id", UUID, nullable=False),
        sa.Column("case_id", UUID, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", TS, server_default=sa.func.now(), nullable=False),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("actor_role", sa.String(32), nullable=True),
        sa.Column("actor_tenant", sa.String(6), nullable=True),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("from_state", sa.String(24), nullable=True),
        sa.Column("to_state", sa.String(24), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("data", pg.JSONB(), server_default="{}", nullable=False),
        _fk_case("case_events"),
        sa.PrimaryKeyConstraint("tenant_id", "case_id", "seq", name="pk_case_events"),
    )
    op.create_table(
        "case_attachments",
        sa.Column("tenant_id", UUID, nullable=False),
        sa.Column("case_id", UUID, nullable=False),
        sa.Column("id", UUID, server_default=sa.func.gen_random_uuid(), nullable=False),
        sa.Column("stage", sa.String(16), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("content_type", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("uploaded_by", sa.String(255), nullable=False),
        sa.Column("uploaded_at", TS, server_default=sa.func.now(), nullable=False),
        _fk_case("case_attachments"),
        sa.PrimaryKeyConstraint("tenant_id", "case_id", "id", name="pk_case_attachments"),
    )
    op.create_table(
        "intake_keys",
        sa.Column("tenant_id", UUID, nullable=False),
        sa.Column("client", sa.String(255), nullable=False),
        sa.Column("key", sa.String(128), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("case_id", UUID, nullable=False),
        sa.Column("created_at", TS, server_default=sa.func.now(), nullable=False),
        _fk_case("intake_keys", deferrable=True, initially="DEFERRED"),
        sa.PrimaryKeyConstraint("tenant_id", "client", "key", name="pk_intake_keys"),
    )

    for stmt in [*_case_policies(), *_child_policies("case_events"), *_child_policies("case_attachments")]:
        op.execute(stmt)
    for stmt in tenant_owned_rls("intake_keys"):
        op.execute(stmt)
    op.execute(f'GRANT SELECT, INSERT, UPDATE ON cases TO "{app}"')
    op.execute(f'GRANT SELECT, INSERT ON case_events, case_attachments TO "{app}"')
    op.execute(f'GRANT SELECT, INSERT, UPDATE ON intake_keys TO "{app}"')
    op.execute("CREATE SEQUENCE case_number_seq")
    op.execute(f'GRANT USAGE ON SEQUENCE case_number_seq TO "{app}"')
    op.execute(OVERDUE)
    op.execute("REVOKE ALL ON FUNCTION citylead_overdue_due(timestamptz, integer) FROM PUBLIC")
    op.execute(f'GRANT EXECUTE ON FUNCTION citylead_overdue_due(timestamptz, integer) TO "{app}"')


def downgrade() -> None:
    op.execute("DROP FUNCTION citylead_overdue_due(timestamptz, integer)")
    op.execute("DROP SEQUENCE case_number_seq")
    for table in ("intake_keys", "case_attachments", "case_events", "cases"):
        op.drop_table(table)
