"""宣城市 341800's worked roll-up (used only by these tests): two counties' stored rows, the city's
own assessment rules, and a department unit with an account.

The city publishes one override, region grade A ≥ 85 (the province's is 90). The county rows of
2019-08 are pinned to the rules after it; those of 2019-07, identical, to the rules before it.

Anhui baseline, region scheme 30 处置率 / 20 按期处置率 / 20 返工率 / 20 超期待处置率 / 10 延期率:

- 宣州区 341802: 处置率 36/40 → 90, 按期 30/40 → 75, 返工 3/30 → 90, 超期 4/40 → 90, 延期 2/40 → 95:
  (2700 + 1500 + 1800 + 1800 + 950) / 100 = 87.5 → A (≥ 85 under the city's rules).
- 郎溪县 341821: 处置率 9/10 → 90, 按期 5/10 → 50, 返工 2/10 → 80, 超期 1/10 → 90, 延期 3/10 → 70:
  (2700 + 1000 + 1600 + 1800 + 700) / 100 = 78 → B.
- 宣城市 341800 = the sums: 处置率 45/50 → 90, 按期 35/50 → 70, 返工 5/40 → 87.5, 超期 5/50 → 90,
  延期 5/50 → 90: (2700 + 1400 + 1750 + 1800 + 900) / 100 = 85.5 → **A** under the city's rules
  (2019-08), **B** under those before the override (2019-07) and under the province's (340000).
  Not the mean of the counties' composites (82.75): counters add, rates do not.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, update

from citylead.assessment.counters import Counters
from citylead.assessment.models import AssessmentCounters
from citylead.db import Database
from citylead.units.models import Unit
from tenants.context import TenantContext
from tenants.models import Tenant, TenantStatus
from tenants.standards.paths import Kind
from tenants.standards.resolver import Resolver, format_vector
from tenants.standards.seeding import publish_layer, seed_baseline

__all__ = ["CITY", "DEPT_USER", "LANGXI", "PERIOD", "PERIOD_BEFORE", "XUANZHOU", "World", "arrange"]

CITY, XUANZHOU, LANGXI, JINGXIAN = "341800", "341802", "341821", "341823"
PERIOD, PERIOD_BEFORE = "2019-08", "2019-07"
DEPT_USER = "department@341802"  # what mint("department", 宣州区) signs in as
UNIT = f"{XUANZHOU}:SZJ"

COUNTERS = {
    XUANZHOU: Counters(
        due_for_disposal=40, disposed=36, disposed_on_time=30, overdue_pending=4, postponed=2,
        due_to_close=30, closed=27, closed_on_time=25, rework=3, reworked_disposals=3, filed=42,
        volume=42,
    ),
    LANGXI: Counters(
        due_for_disposal=10, disposed=9, disposed_on_time=5, overdue_pending=1, postponed=3,
        due_to_close=10, closed=8, closed_on_time=6, rework=2, reworked_disposals=2, filed=11,
        volume=11,
    ),
}  # fmt: skip
CITY_SUM = COUNTERS[XUANZHOU] + COUNTERS[LANGXI]
DEPARTMENT = Counters(due_for_disposal=8, disposed=8, disposed_on_time=6, due_to_close=8, closed=8, volume=8)


@dataclass(frozen=True)
class World:
    before: dict[str, str]  # county code → the rules vector before the city's override
    after: dict[str, str]
    city_version: int


async def arrange(owner_db: Database, app_db: Database, registry: dict[str, Tenant]) -> World:
    """Idempotent within a session only in effect: call it once (a module fixture)."""
    province, city = registry["340000"], registry[CITY]
    async with owner_db.transaction(TenantContext(province.path)) as s:
        await seed_baseline(s, Resolver(), province)
    codes = (XUANZHOU, LANGXI)
    async with owner_db.transaction(None) as s:
        await s.execute(update(Tenant).where(Tenant.code.in_(codes)).values(status=TenantStatus.LIVE))

    async def vectors() -> dict[str, str]:
        out = {}
        for code in codes:
            async with app_db.transaction(TenantContext(registry[code].path)) as s:
                rules = await Resolver().effective(s, registry[code], Kind.ASSESSMENT)
                out[code] = format_vector(rules.vector)
        return out

    before = await vectors()
    async with app_db.transaction(TenantContext(city.path)) as s:
        version = await publish_layer(
            s,
            Resolver(),
            city,
            Kind.ASSESSMENT,
            {"assessment/region/grade/A": 85},
            note="宣城市: A 级 85 分",
            acting_user="city_admin@341800",
        )
    after = await vectors()
    async with owner_db.transaction(None) as s:
        await s.execute(
            delete(AssessmentCounters).where(AssessmentCounters.period.in_([PERIOD, PERIOD_BEFORE]))
        )
        for period, pinned in ((PERIOD, after), (PERIOD_BEFORE, before)):
            for code in codes:
                rows = [("county", code, COUNTERS[code]), ("grid", f"{code}001001001", COUNTERS[code])]
                if code == XUANZHOU:
                    rows += [("department", UNIT, DEPARTMENT), ("supervisor", "sup-x", Counters(reports=1))]
                s.add_all(
                    AssessmentCounters(
                        tenant_id=registry[code].id,
                        period=period,
                        subject_type=kind,
                        subject_code=subject,
                        counters=c.as_dict(),
                        rules=pinned[code],
                    )
                    for kind, subject, c in rows
                )
        s.add(
            Unit(
                tenant_id=registry[XUANZHOU].id,
                code="SZJ",
                name="宣州区市政局",
                kind="sector",
                sector="市政",
                accounts=[DEPT_USER],
            )
        )
    return World(before, after, version)
