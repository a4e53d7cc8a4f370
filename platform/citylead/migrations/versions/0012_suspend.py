"""Suspended tenants (已停用) are read-only, enforced in the database.

- ``citylead_enter(path)`` also makes the transaction read-only (``transaction_read_only``) when
  the acting tenant or one of its ancestors is suspended, so every write in that context fails
  with SQLSTATE 25006; ``app.suspended`` names them. It reads the lineage through the unique index
  on ``path`` now (the only paths that can be ancestors of ``/32/3207/320722/`` are its first 4 and
  9 characters and itself), in the same query that finds the tenant: one query fewer than before.
- A trigger on ``cases``, ``case_events`` and ``case_attachments`` refuses, with the same SQLSTATE,
  writes that reach a suspended county's case from another tenant's context (the city holding an
  escalated case, a unit's tenant disposing it): those contexts are not read-only themselves.
- ``citylead_tenant_set_status`` suspends or resumes a tenant *below* the acting one, from the
  ancestor's context (the target's own context is read-only, and a tenant updates only its own
  row), and writes the event into the target's audit trail.
- The overdue sweep skips suspended tenants: their cases cannot be written until resumed.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-25
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CASE_TABLES = ("cases", "case_events", "case_attachments")
# Not a subquery (a trigger's WHEN may not hold one): evaluated per row, ~0.6 µs; a row of the acting
# tenant never calls the function (measured: 7 µs a row when it did).
TENANT_SETTING = "NULLIF(current_setting('app.tenant_id', true), '')::uuid"

ENTER = """
CREATE OR REPLACE FUNCTION citylead_enter(p_path text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    v_id uuid;
    v_visible text;
    v_lineage text;
    v_suspended text;
BEGIN
    -- The tenant context of this transaction (see tenants/context.py). Runs as the owner so that
    -- it can resolve the tree before any setting exists; it only ever narrows what may be seen.
    -- The lineage (the tenant and its ancestors) is every path that is a prefix of p_path; paths
    -- end in '/', so those can only be p_path cut after 4 or 9 characters, or p_path itself.
    SELECT (array_agg(id) FILTER (WHERE path = p_path))[1],
           array_agg(id)::text,
           string_agg(code || ' ' || name, ', ' ORDER BY path) FILTER (WHERE status = 'suspended')
      INTO v_id, v_lineage, v_suspended
      FROM tenants
     WHERE path IN (left(p_path, 4), left(p_path, 9), p_path);
    IF v_id IS NULL THEN
        PERFORM set_config('app.path', '', true), set_config('app.tenant_id', '', true),
                set_config('app.visible', '', true), set_config('app.lineage', '', true),
                set_config('app.suspended', '', true);
        RETURN;
    END IF;
    SELECT array_agg(id)::text INTO v_visible FROM tenants WHERE path ^@ p_path;
    PERFORM set_config('app.path', p_path, true), set_config('app.tenant_id', v_id::text, true),
            set_config('app.visible', v_visible, true), set_config('app.lineage', v_lineage, true),
            set_config('app.suspended', coalesce(v_suspended, ''), true);
    IF v_suspended IS NOT NULL THEN
        -- 已停用: reads work, every write in this transaction fails with SQLSTATE 25006. A
        -- transaction cannot be made read-write again, so this lasts until it ends.
        PERFORM set_config('transaction_read_only', 'on', true);
    END IF;
END
$$
"""

OLD_ENTER = """
CREATE OR REPLACE FUNCTION citylead_enter(p_path text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    v_id uuid;
    v_visible text;
    v_lineage text;
BEGIN
    -- The tenant context of this transaction (see tenants/context.py). Runs as the owner so that
    -- it can resolve the tree before any setting exists; it only ever narrows what may be seen.
    SELECT id INTO v_id FROM tenants WHERE path = p_path;
    IF v_id IS NULL THEN
        PERFORM set_config('app.path', '', true), set_config('app.tenant_id', '', true),
                set_config('app.visible', '', true), set_config('app.lineage', '', true);
        RETURN;
    END IF;
    SELECT array_agg(id)::text INTO v_visible FROM tenants WHERE path ^@ p_path;
    SELECT array_agg(id)::text INTO v_lineage FROM tenants WHERE p_path ^@ path;
    PERFORM set_config('app.path', p_path, true), set_config('app.tenant_id', v_id::text, true),
            set_config('app.visible', v_visible, true), set_config('app.lineage', v_lineage, true);
END
$$
"""

REFUSE = """
CREATE FUNCTION citylead_refuse_suspended() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    v_path text;
    v_who text;
BEGIN
    -- Fired only for rows of another tenant than the acting one (the trigger's WHEN clause): in
    -- the owning tenant's context a suspended tenant's transaction is already read-only. This
    -- catches a command centre or a unit's tenant acting on the case from its own context.
    SELECT path INTO v_path FROM tenants WHERE id = NEW.tenant_id;
    SELECT string_agg(code || ' ' || name, ', ' ORDER BY path) INTO v_who
      FROM tenants
     WHERE path IN (left(v_path, 4), left(v_path, 9), v_path) AND status = 'suspended';
    IF v_who IS NOT NULL THEN
        RAISE EXCEPTION 'tenant % is suspended (已停用): its cases are read-only', v_who
              USING ERRCODE = 'read_only_sql_transaction';
    END IF;
    RETURN NEW;
END
$$
"""

SET_STATUS = """
CREATE FUNCTION citylead_tenant_set_status(p_id uuid, p_to text, p_actor text, p_data jsonb)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    v_caller text := NULLIF(current_setting('app.path', true), '');
    v_from text;
    v_code text;
    v_version integer;
BEGIN
    -- Suspend (live → suspended) or resume (suspended → live) a tenant strictly below the acting
    -- tenant, and record it in the target's audit trail. NULL when the target is not below the
    -- caller or is not in the state the change starts from (nothing is changed then).
    IF p_to = 'suspended' THEN
        v_from := 'live';
    ELSIF p_to = 'live' THEN
        v_from := 'suspended';
    ELSE
        RAISE EXCEPTION 'citylead_tenant_set_status: % is not suspended or live', p_to
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF v_caller IS NULL THEN
        RETURN NULL;
    END IF;
    UPDATE tenants SET status = p_to, updated_at = now(), version = version + 1
     WHERE id = p_id AND status = v_from AND path ^@ v_caller AND path <> v_caller
    RETURNING code, version INTO v_code, v_version;
    IF v_code IS NULL THEN
        RETURN NULL;
    END IF;
    INSERT INTO audit_events (tenant_id, actor, action, subject, data)
    VALUES (p_id, p_actor,
            CASE p_to WHEN 'suspended' THEN 'tenant.suspended' ELSE 'tenant.resumed' END,
            'tenant:' || v_code,
            coalesce(p_data, '{}'::jsonb)
              || jsonb_build_object('from', v_from, 'to', p_to, 'by_path', v_caller));
    RETURN v_version;
END
$$
"""

OVERDUE = """
CREATE OR REPLACE FUNCTION citylead_overdue_due(p_now timestamptz, p_limit integer)
RETURNS TABLE (tenant_id uuid, tenant_path text, case_id uuid)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT c.tenant_id, t.path::text, c.id
    FROM cases c JOIN tenants t ON t.id = c.tenant_id
    WHERE c.step IS NOT NULL AND NOT c.overdue AND c.due_at < p_now
      AND NOT EXISTS (
          SELECT 1 FROM tenants s
          WHERE s.path IN (left(t.path, 4), left(t.path, 9), t.path) AND s.status = 'suspended'
      )
    ORDER BY c.due_at
    LIMIT p_limit
$$
"""

OLD_OVERDUE = """
CREATE OR REPLACE FUNCTION citylead_overdue_due(p_now timestamptz, p_limit integer)
RETURNS TABLE (tenant_id uuid, tenant_path text, case_id uuid)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT c.tenant_id, t.path::text, c.id
    FROM cases c JOIN tenants t ON t.id = c.tenant_id
    WHERE c.step IS NOT NULL AND NOT c.overdue AND c.due_at < p_now
    ORDER BY c.due_at
    LIMIT p_limit
$$
"""


def upgrade() -> None:
    config = op.get_context().config
    assert config is not None
    app = config.attributes["app_role"]

    op.execute(ENTER)
    op.execute(OVERDUE)
    op.execute(REFUSE)
    op.execute("REVOKE ALL ON FUNCTION citylead_refuse_suspended() FROM PUBLIC")
    for table in CASE_TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_suspended BEFORE INSERT OR UPDATE ON {table} FOR EACH ROW "
            f"WHEN (NEW.tenant_id IS DISTINCT FROM {TENANT_SETTING}) "
            "EXECUTE FUNCTION citylead_refuse_suspended()"
        )
    op.execute(SET_STATUS)
    op.execute("REVOKE ALL ON FUNCTION citylead_tenant_set_status(uuid, text, text, jsonb) FROM PUBLIC")
    op.execute(f'GRANT EXECUTE ON FUNCTION citylead_tenant_set_status(uuid, text, text, jsonb) TO "{app}"')


def downgrade() -> None:
    op.execute("DROP FUNCTION citylead_tenant_set_status(uuid, text, text, jsonb)")
    for table in CASE_TABLES:
        op.execute(f"DROP TRIGGER {table}_suspended ON {table}")
    op.execute("DROP FUNCTION citylead_refuse_suspended()")
    op.execute(OLD_OVERDUE)
    op.execute(OLD_ENTER)
