"""``citylead_tenant_path(id)``: the materialized path of a tenant, by id, for jobs.

A job that delivers into another tenant (a notice to the county of a case the sender is assigned
to) must enter that tenant's context, but may not trust a path the sender wrote, and the
application role sees no tenant row without a context. The function returns only the path —
public administrative codes — for an id the caller already holds.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-22
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FUNCTION = """
CREATE FUNCTION citylead_tenant_path(p_id uuid) RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT path::text FROM tenants WHERE id = p_id
$$
"""


def upgrade() -> None:
    config = op.get_context().config
    assert config is not None
    app = config.attributes["app_role"]
    op.execute(FUNCTION)
    op.execute("REVOKE ALL ON FUNCTION citylead_tenant_path(uuid) FROM PUBLIC")
    op.execute(f'GRANT EXECUTE ON FUNCTION citylead_tenant_path(uuid) TO "{app}"')


def downgrade() -> None:
    op.execute("DROP FUNCTION citylead_tenant_path(uuid)")
