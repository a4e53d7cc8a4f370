"""``case_days`` (migration 0016), the daily roll-up coverage reads: its triggers against
``cases``, and its isolation as the application role with RLS on.

Tenants, used by no other test's cases: 池州市 341700; 贵池区 341702 owns the rows, 东至县 341721 is
its sibling; 合肥市 340100 is another city.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import DBAPIError

from citylead.cases.models import Case
from citylead.cases.volume import CaseDay
from citylead.db import Database
from tenants.context import TenantContext
from tenants.models import Tenant
from tests.support import filed_case

CITY, OWNER, SIBLING, OTHER = "341700", "341702", "341721", "340100"
BJ = ZoneInfo("Asia/Shanghai")
DAY1 = datetime(2026, 9, 30, 23, 30, tzinfo=BJ)  # 15:30 UTC: still 30 September in Beijing
DAY2 = datetime(2026, 10, 1, 0, 30, tzinfo=BJ)  # 30 September 16:30 UTC, 1 October in Beijing


def _case(tenant: Tenant, n: int, at: datetime, source: str, by: str) -> Case:
    return filed_case(tenant, f"days-{n}", at, source, by)


async def _rows(db: Database, who: Tenant, owner: Tenant) -> list[tuple[date, str, int]]:
    async with db.transaction(TenantContext(who.path)) as s:
        found = await s.execute(
            select(CaseDay.day, CaseDay.reporter, CaseDay.cases)
            .where(CaseDay.tenant_id == owner.id)
            .order_by(CaseDay.day, CaseDay.reporter)
        )
        return [tuple(r) for r in found.all()]  # type: ignore[misc]


@pytest.fixture(scope="module")
async def counted(owner_db: Database, app_db: Database, registry: dict[str, Tenant]) -> dict[str, Tenant]:
    """Five cases of 贵池区 inserted as the application role in its own context, in one statement."""
    county = registry[OWNER]
    async with owner_db.transaction(None) as s:
        await s.execute(delete(Case).where(Case.tenant_id == county.id))
    async with app_db.transaction(TenantContext(county.path)) as s:
        s.add_all(
            [
                _case(county, 1, DAY1, "supervisor", "sup-1"),
                _case(county, 2, DAY1 - timedelta(hours=2), "supervisor", "sup-1"),
                _case(county, 3, DAY1, "hotline_12345", "hotline"),
                _case(county, 4, DAY2, "supervisor", "sup-2"),
                _case(county, 5, DAY2, "app", "citizen-9"),
            ]
        )
    return registry


async def test_inserted_cases_are_counted_by_beijing_day_and_supervisor(
    app_db: Database, counted: dict[str, Tenant]
) -> None:
    """A reporter other than a supervisor counts under ``''``; 23:30 and 00:30 Beijing are two days."""
    assert await _rows(app_db, counted[OWNER], counted[OWNER]) == [
        (date(2026, 9, 30), "", 1),
        (date(2026, 9, 30), "sup-1", 2),
        (date(2026, 10, 1), "", 1),
        (date(2026, 10, 1), "sup-2", 1),
    ]


async def test_deleted_cases_are_subtracted_and_empty_rows_go(
    owner_db: Database, app_db: Database, counted: dict[str, Tenant]
) -> None:
    county = counted[OWNER]
    extra = _case(county, 6, DAY2, "supervisor", "sup-3")
    async with owner_db.transaction(None) as s:
        s.add(extra)
    assert (date(2026, 10, 1), "sup-3", 1) in await _rows(app_db, county, county)
    async with owner_db.transaction(None) as s:
        await s.execute(delete(Case).where(Case.number == extra.number))
        await s.execute(delete(Case).where(Case.number == f"{OWNER}-days-2"))  # one of sup-1's two
    rows = await _rows(app_db, county, county)
    assert (date(2026, 9, 30), "sup-1", 1) in rows
    assert all(reporter != "sup-3" for _, reporter, _ in rows)
    async with owner_db.transaction(None) as s:  # put case 2 back for the other tests
        s.add(_case(county, 2, DAY1 - timedelta(hours=2), "supervisor", "sup-1"))
    assert (date(2026, 9, 30), "sup-1", 2) in await _rows(app_db, county, county)


async def test_the_parent_city_reads_and_the_sibling_and_another_city_read_nothing(
    app_db: Database, counted: dict[str, Tenant]
) -> None:
    owner = counted[OWNER]
    assert len(await _rows(app_db, counted[CITY], owner)) == 4
    assert await _rows(app_db, counted[SIBLING], owner) == []
    assert await _rows(app_db, counted[OTHER], owner) == []


@pytest.mark.parametrize("who", [OWNER, SIBLING, CITY, OTHER])
async def test_no_one_writes_it_as_the_application_role(
    app_db: Database, counted: dict[str, Tenant], who: str
) -> None:
    """Only the triggers keep it: the application role may not insert, change or delete a row,
    not even the owning county."""
    owner, context = counted[OWNER], TenantContext(counted[who].path)
    statements = [
        update(CaseDay).where(CaseDay.tenant_id == owner.id).values(cases=99),
        delete(CaseDay).where(CaseDay.tenant_id == owner.id),
        text("INSERT INTO case_days (tenant_id, day, reporter, cases) VALUES (:t, '2026-10-02', 'x', 1)"),
    ]
    for statement in statements:
        with pytest.raises(DBAPIError, match="permission denied"):
            async with app_db.transaction(context) as s:
                await s.execute(statement, {"t": owner.id})
    async with app_db.transaction(TenantContext(owner.path)) as s:
        total = await s.scalar(select(func.sum(CaseDay.cases)).where(CaseDay.tenant_id == owner.id))
    assert total == 5
