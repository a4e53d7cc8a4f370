"""Isolation of ``case_volume`` as the application role with RLS on: 琅琊区 341102 owns its
rows; its city 滁州市 341100 reads them; the sibling 南谯区 341103 and the other city 阜阳市 341200
read nothing; nobody else adds or deletes them; nobody updates them, not even the owner."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import DBAPIError

from citylead.cases.models import Case
from citylead.cases.volume import CaseVolume
from citylead.db import Database
from tenants.context import TenantContext
from tenants.models import Tenant
from tests.integration.dashboard.conftest import CHUZHOU, FUYANG, LANGYA, NANQIAO

OWNED = 10  # 琅琊区's rows: August 1 class + 1 grid, September 3 + 3, October 1 + 1


async def _count(app_db: Database, tenant: Tenant, owner: Tenant) -> int:
    async with app_db.transaction(TenantContext(tenant.path)) as s:
        found = await s.scalar(
            select(func.count()).select_from(CaseVolume).where(CaseVolume.tenant_id == owner.id)
        )
        return int(found or 0)


async def test_owner_and_parent_city_read(
    app_db: Database, registry: dict[str, Tenant], case_stats: dict[str, Case]
) -> None:
    assert await _count(app_db, registry[LANGYA], registry[LANGYA]) == OWNED
    assert await _count(app_db, registry[CHUZHOU], registry[LANGYA]) == OWNED


@pytest.mark.parametrize("intruder", [NANQIAO, FUYANG])
async def test_others_read_nothing(
    app_db: Database, registry: dict[str, Tenant], case_stats: dict[str, Case], intruder: str
) -> None:
    assert await _count(app_db, registry[intruder], registry[LANGYA]) == 0


@pytest.mark.parametrize("intruder", [NANQIAO, CHUZHOU, FUYANG])
async def test_no_one_else_writes(
    app_db: Database, registry: dict[str, Tenant], case_stats: dict[str, Case], intruder: str
) -> None:
    context, owner = TenantContext(registry[intruder].path), registry[LANGYA]
    async with app_db.transaction(context) as s:
        gone = await s.execute(delete(CaseVolume).where(CaseVolume.tenant_id == owner.id))
        assert gone.rowcount == 0  # type: ignore[attr-defined]
    with pytest.raises(DBAPIError, match="row-level security"):
        async with app_db.transaction(context) as s:
            s.add(
                CaseVolume(
                    tenant_id=owner.id,
                    month=date(2026, 9, 1),
                    axis="grid",
                    kind="",
                    code="x",
                    cases=99,
                )
            )
    assert await _count(app_db, owner, owner) == OWNED


async def test_rows_are_never_updated(
    app_db: Database, registry: dict[str, Tenant], case_stats: dict[str, Case]
) -> None:
    with pytest.raises(DBAPIError, match="permission denied"):
        async with app_db.transaction(TenantContext(registry[LANGYA].path)) as s:
            await s.execute(update(CaseVolume).values(cases=0))


async def test_owner_may_delete_and_add(
    app_db: Database, registry: dict[str, Tenant], case_stats: dict[str, Case]
) -> None:
    """The positive control for the writes above."""
    owner = registry[LANGYA]
    extra = {
        "tenant_id": owner.id,
        "month": date(2025, 1, 1),
        "axis": "class",
        "kind": "matter",
        "code": "x",
    }
    async with app_db.transaction(TenantContext(owner.path)) as s:
        s.add(CaseVolume(**extra, cases=1))
    assert await _count(app_db, owner, owner) == OWNED + 1
    async with app_db.transaction(TenantContext(owner.path)) as s:
        gone = await s.execute(delete(CaseVolume).where(CaseVolume.month == date(2025, 1, 1)))
        assert gone.rowcount == 1  # type: ignore[attr-defined]
