"""The scored-period cache (``assessment.cache.ScoredCache``, the dashboard's trend) on 宣城市's
worked roll-up (xuancheng.py), as the application role with RLS: the same answer as
``list_assessments_many``, a period scored once until it is assessed again, unpinned rows never
kept, and access checked before anything is served from memory.

Its own months (2019-03, 2019-04) are written here and deleted afterwards.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import delete, func, update

from citylead.assessment.cache import ScoredCache
from citylead.assessment.counters import Counters
from citylead.assessment.models import AssessmentCounters
from citylead.assessment.results import list_assessments_many
from citylead.assessment.rollup import Period
from citylead.db import Database
from tenants.context import TenantContext
from tenants.errors import NotFound
from tenants.models import Tenant
from tenants.standards.resolver import Resolver
from tests.integration.assessment.xuancheng import CITY, COUNTERS, LANGXI, XUANZHOU, World

PINNED, UNPINNED = "2019-04", "2019-03"
PERIODS = [Period.parse(PINNED), Period.parse("2019-02")]  # 2019-02: no rows at all
KINDS = ["city", "county"]


@pytest.fixture
async def months(owner_db: Database, registry: dict[str, Tenant], xuancheng: World) -> AsyncIterator[None]:
    """County rows for 2019-04 pinned as the refresh pins them, and for 2019-03 with no rules."""
    async with owner_db.transaction(None) as s:
        for period, rules in ((PINNED, xuancheng.after), (UNPINNED, None)):
            s.add_all(
                AssessmentCounters(
                    tenant_id=registry[code].id,
                    period=period,
                    subject_type="county",
                    subject_code=code,
                    counters=COUNTERS[code].as_dict(),
                    rules=rules[code] if rules else None,
                )
                for code in (XUANZHOU, LANGXI)
            )
    try:
        yield
    finally:
        async with owner_db.transaction(None) as s:
            await s.execute(
                delete(AssessmentCounters).where(AssessmentCounters.period.in_([PINNED, UNPINNED]))
            )


async def _many(
    db: Database, cache: ScoredCache, scope: TenantContext, periods: list[Period], tenant: str | None = None
) -> dict[str, list[tuple[str, str, float | None, str | None]]]:
    async with db.transaction(scope) as s:
        found = await cache.many(
            s, scope, periods=periods, resolver=Resolver(), subject_types=KINDS, tenant_code=tenant
        )
    return {
        label: [
            (
                r.subject_type,
                r.tenant,
                None if r.assessment.composite is None else float(r.assessment.composite),
                r.rules,
            )
            for r in rows
        ]
        for label, rows in found.items()
    }


async def test_a_month_is_scored_once_and_answers_as_list_assessments_many(
    app_db: Database, registry: dict[str, Tenant], months: None
) -> None:
    city, cache = TenantContext(registry[CITY].path), ScoredCache()
    first = await _many(app_db, cache, city, PERIODS)
    assert (cache.hits, cache.misses) == (0, 2)
    async with app_db.transaction(city) as s:
        plain = await list_assessments_many(
            s, city, periods=PERIODS, resolver=Resolver(), subject_types=KINDS
        )
    assert [r.tenant for r in plain[PINNED]] == [CITY, XUANZHOU, LANGXI]
    assert first[PINNED] == [
        (r.subject_type, r.tenant, float(r.assessment.composite or 0), r.rules) for r in plain[PINNED]
    ]
    assert [c for _, _, c, _ in first[PINNED]] == [85.5, 87.5, 78.0]  # the worked roll-up's figures
    assert first["2019-02"] == []

    again = await _many(app_db, cache, city, PERIODS)
    assert again == first
    assert (cache.hits, cache.misses) == (2, 2)


async def test_a_month_assessed_again_is_scored_again_and_the_others_stay(
    app_db: Database, owner_db: Database, registry: dict[str, Tenant], months: None
) -> None:
    """郎溪县 is assessed again for 2019-04 with every case disposed on time: the city's and the
    county's scores change at once; the empty month is still served from memory."""
    city, cache = TenantContext(registry[CITY].path), ScoredCache()
    before = await _many(app_db, cache, city, PERIODS)
    perfect = COUNTERS[LANGXI].as_dict()
    due = perfect["due_for_disposal"]
    perfect.update(disposed=due, disposed_on_time=due, overdue_pending=0)
    async with owner_db.transaction(None) as s:
        await s.execute(
            update(AssessmentCounters)
            .where(
                AssessmentCounters.period == PINNED,
                AssessmentCounters.tenant_id == registry[LANGXI].id,
                AssessmentCounters.subject_type == "county",
            )
            .values(counters=Counters(**perfect).as_dict(), computed_at=func.clock_timestamp())
        )
    after = await _many(app_db, cache, city, PERIODS)
    assert (cache.hits, cache.misses) == (1, 3)  # 2019-02 from memory, 2019-04 scored again
    assert after[PINNED][1] == before[PINNED][1]  # 宣州区 unchanged
    assert after[PINNED][2][2] != before[PINNED][2][2]  # 郎溪县 rescored
    assert after[PINNED][0][2] != before[PINNED][0][2]  # and so the city


async def test_rows_without_pinned_rules_are_scored_every_time(
    app_db: Database, registry: dict[str, Tenant], months: None
) -> None:
    """Scored under "the rules in force now", such a month could change with the rules alone."""
    city, cache = TenantContext(registry[CITY].path), ScoredCache()
    periods = [Period.parse(UNPINNED)]
    first = await _many(app_db, cache, city, periods)
    second = await _many(app_db, cache, city, periods)
    assert first == second
    assert [t for _, t, _, _ in first[UNPINNED]] == [CITY, XUANZHOU, LANGXI]
    assert (cache.hits, cache.misses, len(cache)) == (0, 2, 0)


async def test_access_is_checked_before_anything_is_served_from_memory(
    app_db: Database, registry: dict[str, Tenant], months: None
) -> None:
    """With the city's answer cached, the sibling county and another city are refused it (RLS
    hides the target from them), and the county sees only its own rows."""
    cache = ScoredCache()
    await _many(app_db, cache, TenantContext(registry[CITY].path), PERIODS)
    for other, asked in ((LANGXI, XUANZHOU), ("340100", CITY), (LANGXI, CITY)):
        with pytest.raises(NotFound):
            await _many(app_db, cache, TenantContext(registry[other].path), PERIODS, tenant=asked)
    own = await _many(app_db, cache, TenantContext(registry[LANGXI].path), PERIODS)
    assert [(k, t) for k, t, _, _ in own[PINNED]] == [("county", LANGXI)]
