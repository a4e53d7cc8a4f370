"""The isolation matrix: other tenants, as the application role with RLS forced, try to read and
change county 320411's rows. A city reads its subtree; only the owner tenant ever writes."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, ProgrammingError

from citylead.db import Database
from tenants.context import TenantContext, bind_context
from tenants.models import Tenant

OWN = "/32/3204/320411/"  # 新北区
READERS = {  # actor path → sees 320411's rows?
    "/32/3204/320411/": True,  # itself
    "/32/3204/": True,  # parent city: reads its subtree
    "/32/": True,  # province: reads its subtree
    "/32/3204/320412/": False,  # sibling county (武进区)
    "/32/3205/": False,  # other city (苏州市)
    "/32/3205/320505/": False,  # other city's county
    "/34/": False,  # other province (安徽省)
}
OTHERS = [p for p in READERS if p != OWN]


@pytest.fixture(scope="module")
async def own_rows(owner_db: Database, registry: dict[str, Tenant]) -> uuid.UUID:
    """One profile and one audit event of 320411, arranged by the owner role."""
    tid = registry["320411"].id
    async with owner_db.transaction(None) as s:
        await s.execute(text("DELETE FROM tenant_profiles WHERE tenant_id = :t"), {"t": tid})
        await s.execute(
            text("INSERT INTO tenant_profiles (tenant_id, contact_name) VALUES (:t, '新北区城管')"),
            {"t": tid},
        )
        await s.execute(
            text(
                "INSERT INTO audit_events (tenant_id, actor, action, subject) "
                "VALUES (:t, 'x', 'seed', 'isolation')"
            ),
            {"t": tid},
        )
    return tid


async def _count(db: Database, ctx: TenantContext | None, table: str, tid: uuid.UUID) -> int:
    # Only this module's audit event: other modules (e.g. a geography import) may audit 320411 too.
    mine = " AND subject = 'isolation'" if table == "audit_events" else ""
    async with db.transaction(ctx) as s:
        return int(
            await s.scalar(text(f"SELECT count(*) FROM {table} WHERE tenant_id = :t{mine}"), {"t": tid}) or 0
        )


@pytest.mark.parametrize("table", ["tenant_profiles", "audit_events"])
@pytest.mark.parametrize(("actor", "sees"), list(READERS.items()))
async def test_read_matrix(app_db: Database, own_rows: uuid.UUID, table: str, actor: str, sees: bool) -> None:
    assert await _count(app_db, TenantContext(actor), table, own_rows) == (1 if sees else 0)


@pytest.mark.parametrize("table", ["tenant_profiles", "audit_events", "tenants"])
async def test_no_context_sees_nothing(app_db: Database, own_rows: uuid.UUID, table: str) -> None:
    async with app_db.transaction(None) as s:
        assert await s.scalar(text(f"SELECT count(*) FROM {table}")) == 0


async def test_unknown_path_sees_nothing(app_db: Database, own_rows: uuid.UUID) -> None:
    assert await _count(app_db, TenantContext("/32/3204/320499/"), "tenant_profiles", own_rows) == 0


@pytest.mark.parametrize("actor", OTHERS)
async def test_others_cannot_insert_for_it(app_db: Database, own_rows: uuid.UUID, actor: str) -> None:
    for sql in (
        "INSERT INTO audit_events (tenant_id, actor, action, subject) VALUES (:t, 'intruder', 'forge', 'x')",
        "INSERT INTO tenant_profiles (tenant_id, contact_name) VALUES (:t, 'intruder') "
        "ON CONFLICT (tenant_id) DO UPDATE SET contact_name = 'intruder'",
    ):
        with pytest.raises(DBAPIError, match="row-level security"):
            async with app_db.transaction(TenantContext(actor)) as s:
                await s.execute(text(sql), {"t": own_rows})


@pytest.mark.parametrize("actor", OTHERS)
async def test_others_cannot_update_or_delete_it(
    app_db: Database, owner_db: Database, own_rows: uuid.UUID, actor: str
) -> None:
    async with app_db.transaction(TenantContext(actor)) as s:
        updated = await s.execute(
            text("UPDATE tenant_profiles SET contact_name = 'intruder' WHERE tenant_id = :t"), {"t": own_rows}
        )
        deleted = await s.execute(text("DELETE FROM tenant_profiles WHERE tenant_id = :t"), {"t": own_rows})
        renamed = await s.execute(text("UPDATE tenants SET name = 'intruder' WHERE id = :t"), {"t": own_rows})
    assert (updated.rowcount, deleted.rowcount, renamed.rowcount) == (0, 0, 0)  # type: ignore[attr-defined]
    async with owner_db.transaction(None) as s:
        assert (
            await s.scalar(
                text("SELECT contact_name FROM tenant_profiles WHERE tenant_id = :t"), {"t": own_rows}
            )
            == "新北区城管"
        )
        assert await s.scalar(text("SELECT name FROM tenants WHERE id = :t"), {"t": own_rows}) == "新北区"


async def test_own_row_cannot_be_moved_to_another_tenant(
    app_db: Database, registry: dict[str, Tenant], own_rows: uuid.UUID
) -> None:
    sibling = registry["320412"].id
    with pytest.raises(DBAPIError, match="row-level security"):
        async with app_db.transaction(TenantContext(OWN)) as s:
            await s.execute(
                text("UPDATE tenant_profiles SET tenant_id = :other WHERE tenant_id = :t"),
                {"other": sibling, "t": own_rows},
            )


async def test_owner_tenant_can_write_its_own_rows(app_db: Database, own_rows: uuid.UUID) -> None:
    """The positive control: the same statements succeed for the owning tenant (then roll back)."""
    async with app_db.sessions() as session:
        bind_context(session.sync_session, TenantContext(OWN))
        async with session.begin() as tx:
            r = await session.execute(
                text("UPDATE tenant_profiles SET contact_name = 'changed' WHERE tenant_id = :t"),
                {"t": own_rows},
            )
            assert r.rowcount == 1  # type: ignore[attr-defined]
            await session.execute(
                text(
                    "INSERT INTO audit_events (tenant_id, actor, action, subject) VALUES (:t, 'a', 'b', 'c')"
                ),
                {"t": own_rows},
            )
            await tx.rollback()


@pytest.mark.parametrize("sql", ["UPDATE audit_events SET actor = 'x'", "DELETE FROM audit_events"])
async def test_audit_events_are_append_only_even_for_their_tenant(
    app_db: Database, own_rows: uuid.UUID, sql: str
) -> None:
    with pytest.raises(ProgrammingError, match="permission denied"):
        async with app_db.transaction(TenantContext(OWN)) as s:
            await s.execute(text(sql))


async def test_context_does_not_leak_between_pooled_transactions(
    app_db: Database, own_rows: uuid.UUID
) -> None:
    async with app_db.transaction(TenantContext(OWN)) as s:
        assert await s.scalar(text("SELECT current_setting('app.tenant_id', true)")) == str(own_rows)
    for _ in range(4):  # the pool hands back the same connections
        async with app_db.transaction(None) as s:
            assert await s.scalar(text("SELECT current_setting('app.tenant_id', true)")) in ("", None)
            assert await s.scalar(text("SELECT count(*) FROM tenant_profiles")) == 0


async def test_tenant_tree_shows_the_subtree_and_the_ancestors_only(
    app_db: Database, registry: dict[str, Tenant]
) -> None:
    async with app_db.transaction(TenantContext("/32/3204/")) as s:
        codes = set((await s.scalars(text("SELECT code FROM tenants"))).all())
    assert codes == {"320000", "320400", "320402", "320404", "320411", "320412", "320413", "320481"}
