"""Refreshing every live division below a tenant (what `citylead assess run` does)."""

from __future__ import annotations

from sqlalchemy import func, select

from citylead.assessment.models import AssessmentCounters
from citylead.assessment.rollup import Period
from citylead.assessment.runs import live_counties, refresh_counties
from citylead.db import Database
from citylead.geography.models import Grid
from tenants.context import TenantContext
from tenants.models import Tenant
from tests.integration.assessment.conftest import CITY, COUNTY

LU_AN = TenantContext("/34/3415/")


async def test_every_live_division_below_the_city_is_refreshed(
    app_db: Database, registry: dict[str, Tenant], month: list[Grid]
) -> None:
    live = [t.code for t in await live_counties(app_db, LU_AN)]
    assert COUNTY in live
    assert CITY not in live  # the city itself is not a division
    seen: list[str] = []
    reports = await refresh_counties(
        app_db,
        LU_AN,
        Period.parse("2026-10"),
        acting_user="cli:test",
        on_done=lambda t, _: seen.append(t.code),
    )
    assert [r.county for r in reports] == live == seen
    mine = next(r for r in reports if r.county == COUNTY)
    async with app_db.transaction(TenantContext(registry[COUNTY].path)) as s:
        stored = await s.scalar(
            select(func.count())
            .select_from(AssessmentCounters)
            .where(
                AssessmentCounters.tenant_id == registry[COUNTY].id, AssessmentCounters.period == "2026-10"
            )
        )
    assert mine.subjects == stored and stored > 0
