"""A city's department that works in several counties (部门跨区县汇总), as the application role
with RLS: 宣城市城管局 ``341800:CGJ`` has a ``department`` row in 宣州区 and one in 郎溪县 for
2019-05 (written here, deleted afterwards). The city and the province see one row, the sum, scored
under the city's rules; each county sees its own part; another city sees nothing.

Department scheme (baseline): 10 volume / 30 结案率 / 30 按期处置率 / 30 (1 − 返工率), volume steps
200 → 100 … 20 → 40, below 20 → 0; grades A ≥ 90, B ≥ 75, C ≥ 60.

- 宣州区's part: due 6, disposed 6 (5 on time), due to close 6, closed 6, rework 0, volume 6:
  0 + 30 × 6/6 + 30 × 5/6 + 30 × (1 − 0/6) = 30 + 25 + 30 = **85.0**, B.
- 郎溪县's part: due 4, disposed 3 (2 on time), due to close 4, closed 3, rework 1, volume 4:
  0 + 30 × 3/4 + 30 × 2/4 + 30 × (1 − 1/4) = 22.5 + 15 + 22.5 = **60.0**, C.
- The sum: due 10, disposed 9 (7 on time), due to close 10, closed 9, rework 1, volume 10:
  0 + 30 × 9/10 + 30 × 7/10 + 30 × (1 − 1/10) = 27 + 21 + 27 = **75.0**, B (not the mean 72.5).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import delete

from citylead.assessment.counters import Counters
from citylead.assessment.models import AssessmentCounters
from citylead.assessment.results import Result, list_assessments
from citylead.assessment.rollup import Period
from citylead.db import Database
from tenants.context import TenantContext
from tenants.errors import NotFound
from tenants.models import Tenant
from tenants.standards.resolver import Resolver
from tests.integration.assessment.xuancheng import CITY, LANGXI, XUANZHOU, World

PERIOD = "2019-05"
UNIT = f"{CITY}:CGJ"
PARTS = {
    XUANZHOU: Counters(
        due_for_disposal=6, disposed=6, disposed_on_time=5, due_to_close=6, closed=6, volume=6
    ),
    LANGXI: Counters(
        due_for_disposal=4, disposed=3, disposed_on_time=2, due_to_close=4, closed=3, rework=1,
        reworked_disposals=1, volume=4,
    ),
}  # fmt: skip


@pytest.fixture
async def parts(owner_db: Database, registry: dict[str, Tenant], xuancheng: World) -> AsyncIterator[None]:
    async with owner_db.transaction(None) as s:
        s.add_all(
            AssessmentCounters(
                tenant_id=registry[code].id,
                period=PERIOD,
                subject_type="department",
                subject_code=UNIT,
                counters=counters.as_dict(),
                rules=xuancheng.after[code],
            )
            for code, counters in PARTS.items()
        )
    try:
        yield
    finally:
        async with owner_db.transaction(None) as s:
            await s.execute(delete(AssessmentCounters).where(AssessmentCounters.period == PERIOD))


async def _departments(app_db: Database, who: Tenant, tenant: str | None = None) -> list[Result]:
    scope = TenantContext(who.path)
    async with app_db.transaction(scope) as s:
        return await list_assessments(
            s,
            scope,
            period=Period.parse(PERIOD),
            resolver=Resolver(),
            subject_type="department",
            tenant_code=tenant,
        )


def _shown(rows: list[Result]) -> list[tuple[str, str, float | None, str | None, int]]:
    return [
        (
            r.tenant,
            r.subject_code,
            None if r.assessment.composite is None else float(r.assessment.composite),
            r.assessment.grade,
            r.parts,
        )
        for r in rows
    ]


async def test_the_city_sees_its_department_once_summed_over_its_counties(
    app_db: Database, registry: dict[str, Tenant], parts: None
) -> None:
    rows = await _departments(app_db, registry[CITY])
    assert _shown(rows) == [(CITY, UNIT, 75.0, "B", 2)]
    (row,) = rows
    assert row.assessment.counters == PARTS[XUANZHOU] + PARTS[LANGXI]
    assert row.tenant_name == "宣城市"
    assert row.rules is not None and row.rules.startswith("340000:")  # the city's lineage, pinned
    assert CITY in row.rules and XUANZHOU not in row.rules


async def test_the_province_sees_the_same_single_row(
    app_db: Database, registry: dict[str, Tenant], parts: None
) -> None:
    assert _shown(await _departments(app_db, registry["340000"], tenant=CITY)) == [(CITY, UNIT, 75.0, "B", 2)]


async def test_each_county_sees_its_own_part(
    app_db: Database, registry: dict[str, Tenant], parts: None
) -> None:
    assert _shown(await _departments(app_db, registry[XUANZHOU])) == [(XUANZHOU, UNIT, 85.0, "B", 1)]
    assert _shown(await _departments(app_db, registry[LANGXI])) == [(LANGXI, UNIT, 60.0, "C", 1)]
    # and the city asking for one county gets that county's part
    assert _shown(await _departments(app_db, registry[CITY], tenant=LANGXI)) == [(LANGXI, UNIT, 60.0, "C", 1)]


async def test_another_city_and_a_sibling_see_nothing_of_it(
    app_db: Database, registry: dict[str, Tenant], parts: None
) -> None:
    assert await _departments(app_db, registry["340100"]) == []  # 合肥市: its own subtree only
    with pytest.raises(NotFound):
        await _departments(app_db, registry["340100"], tenant=CITY)
    with pytest.raises(NotFound):
        await _departments(app_db, registry[LANGXI], tenant=XUANZHOU)
