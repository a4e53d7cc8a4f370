"""Schema invariants that keep isolation structural and distribution by tenant possible (Citus).

Every table is classified: tenant-owned (has ``tenant_id``), the tenant tree itself, or an
explicitly shared table. A new table that is none of these fails here until someone decides.
"""

from __future__ import annotations

import asyncio

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from citylead.db import Database
from citylead.db.models import metadata
from citylead.db.roles import DatabaseUrls

SHARED_SCHEMAS = {"idp", "dramatiq"}  # the identity provider's realm (Keycloak's); the job broker's queues
SHARED_TABLES = {"public.alembic_version"}
TREE = "public.tenants"


async def _tables(db: Database) -> dict[str, dict[str, object]]:
    async with db.transaction(None) as s:
        rows = (
            await s.execute(
                text(
                    """
                    SELECT n.nspname || '.' || c.relname AS name, c.relrowsecurity, c.relforcerowsecurity,
                           EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid
                                   AND a.attname = 'tenant_id' AND NOT a.attisdropped) AS has_tenant,
                           (SELECT array_agg(a.attname ORDER BY k.ord) FROM pg_constraint p
                              CROSS JOIN LATERAL unnest(p.conkey) WITH ORDINALITY k(attnum, ord)
                              JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
                             WHERE p.conrelid = c.oid AND p.contype = 'p') AS pk
                      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                     WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
                    """
                )
            )
        ).mappings()
        return {r["name"]: dict(r) for r in rows}


async def test_every_table_is_classified(owner_db: Database) -> None:
    tables = await _tables(owner_db)
    unclassified = [
        name
        for name, t in tables.items()
        if not t["has_tenant"]
        and name != TREE
        and name not in SHARED_TABLES
        and name.split(".")[0] not in SHARED_SCHEMAS
    ]
    assert unclassified == []


async def test_tenant_owned_tables_force_rls_and_lead_their_key_with_tenant_id(owner_db: Database) -> None:
    tables = await _tables(owner_db)
    owned = {n: t for n, t in tables.items() if t["has_tenant"] and n.split(".")[0] not in SHARED_SCHEMAS}
    assert {"public.audit_events", "public.tenant_profiles"} <= owned.keys()
    for name, t in owned.items():
        assert t["relrowsecurity"] and t["relforcerowsecurity"], f"{name}: RLS not enabled and forced"
        assert t["pk"] and t["pk"][0] == "tenant_id", (
            f"{name}: primary key {t['pk']} does not lead with tenant_id"
        )
    tree = tables[TREE]
    assert tree["relrowsecurity"] and tree["relforcerowsecurity"]


async def test_foreign_keys_between_tenant_owned_tables_include_tenant_id(owner_db: Database) -> None:
    async with owner_db.transaction(None) as s:
        fks = (
            (
                await s.execute(
                    text(
                        """
                    SELECT con.conname, src.relname AS src, dst.relname AS dst,
                           ARRAY(SELECT attname FROM pg_attribute WHERE attrelid = con.conrelid
                                 AND attnum = ANY(con.conkey)) AS cols,
                           EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = con.confrelid
                                   AND attname = 'tenant_id') AS dst_owned,
                           EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = con.conrelid
                                   AND attname = 'tenant_id') AS src_owned
                      FROM pg_constraint con
                      JOIN pg_class src ON src.oid = con.conrelid
                      JOIN pg_class dst ON dst.oid = con.confrelid
                      JOIN pg_namespace n ON n.oid = src.relnamespace
                     WHERE con.contype = 'f' AND n.nspname = 'public'
                    """
                    )
                )
            )
            .mappings()
            .all()
        )
    between_owned = [f for f in fks if f["src_owned"] and f["dst_owned"]]
    offenders = [f["conname"] for f in between_owned if "tenant_id" not in f["cols"]]
    assert offenders == []
    # Tenant-owned tables point at the tree only through tenant_id.
    to_tree = [f for f in fks if f["src_owned"] and f["dst"] == "tenants"]
    assert to_tree and all(f["cols"] == ["tenant_id"] for f in to_tree)


async def test_application_role_cannot_bypass_rls(owner_db: Database) -> None:
    async with owner_db.transaction(None) as s:
        row = (
            await s.execute(
                text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = 'citylead_app'")
            )
        ).one()
        owns = await s.scalar(text("SELECT count(*) FROM pg_tables WHERE tableowner = 'citylead_app'"))
    assert tuple(row) == (False, False)
    assert owns == 0


def test_migrations_match_the_models(database_urls: DatabaseUrls) -> None:
    async def diff() -> list[object]:
        engine = create_async_engine(database_urls.owner)
        try:
            async with engine.connect() as conn:
                return await conn.run_sync(
                    lambda c: compare_metadata(
                        MigrationContext.configure(c, opts={"compare_type": True, "include_schemas": True}),
                        metadata,
                    )
                )
        finally:
            await engine.dispose()

    assert asyncio.run(diff()) == []


@pytest.mark.parametrize("setting", ["app.tenant_id", "app.visible", "app.lineage", "app.path"])
async def test_nothing_is_set_without_a_context(app_db: Database, setting: str) -> None:
    async with app_db.transaction(None) as s:
        assert await s.scalar(text(f"SELECT current_setting('{setting}', true)")) in (None, "")
