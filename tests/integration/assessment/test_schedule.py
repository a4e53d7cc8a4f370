"""The scheduled refresh ``assessment.refresh_current``: which periods a run recounts, every live
county below the scope each in its own transaction, and a repeated ``scheduled_at`` leaving the
same rows. 泾县 341823 has two cases: one filed on 29 September, one on 1 October 2026."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select, update

from citylead.assessment.counters import Counters
from citylead.assessment.models import AssessmentCounters
from citylead.assessment.schedule import refresh_current
from citylead.db import Database
from citylead.geography.demo import seed_demo_geography
from citylead.geography.models import Grid
from citylead.identity.principal import Role
from citylead.jobs.catalog import build_registry
from citylead.jobs.registry import JobContext
from citylead.settings import JobsSettings, Settings
from citylead.units.demo import seed_demo_units
from tenants.context import TenantContext
from tenants.models import Tenant, TenantStatus
from tests.integration.assessment.conftest import SH, Desk
from tests.integration.assessment.xuancheng import CITY, LANGXI, XUANZHOU, World

JINGXIAN = "341823"
EARLY = "2026-10-02T01:00:00+00:00"  # 09:00 on 2 October in Beijing: September is still open
LATE = "2026-10-20T01:00:00+00:00"
ONE = Counters(reports=1, valid_reports=1, filed=1, filed_on_time=1, volume=1)


@pytest.fixture(scope="module")
async def jingxian(
    owner_db: Database, app_db: Database, registry: dict[str, Tenant], xuancheng: World
) -> Tenant:
    async with owner_db.transaction(None) as s:
        await s.execute(update(Tenant).where(Tenant.code == JINGXIAN).values(status=TenantStatus.LIVE))
    await seed_demo_geography(owner_db, [JINGXIAN])
    await seed_demo_units(owner_db, [JINGXIAN])
    county = registry[JINGXIAN]
    async with owner_db.transaction(None) as s:
        grids = list(await s.scalars(select(Grid).where(Grid.tenant_id == county.id).order_by(Grid.code)))
    desk = Desk(app_db, county)
    for grid, when in zip(
        grids, (datetime(2026, 9, 29, 10, tzinfo=SH), datetime(2026, 10, 1, 10, tzinfo=SH)), strict=False
    ):
        case = await desk.report(grid, when, "sup-j")
        await desk.act(case, "file", Role.SHIFT_LEAD, "sl-j", when.replace(minute=30))
    return county


async def _rows(
    app_db: Database, county: Tenant
) -> dict[tuple[str, str, str], tuple[dict[str, int], datetime]]:
    async with app_db.transaction(TenantContext(county.path)) as s:
        rows = await s.scalars(
            select(AssessmentCounters).where(
                AssessmentCounters.tenant_id == county.id, AssessmentCounters.period.like("2026%")
            )
        )
        return {(r.period, r.subject_type, r.subject_code): (r.counters, r.computed_at) for r in rows}


async def test_a_run_early_in_the_month_recounts_the_previous_month_too(
    app_db: Database, registry: dict[str, Tenant], jingxian: Tenant
) -> None:
    ctx = JobContext(app_db)
    await refresh_current.fn(ctx, scheduled_at=EARLY, tenant_path=registry[CITY].path)
    first = await _rows(app_db, jingxian)
    county = {p: Counters(**c) for (p, kind, _), (c, _) in first.items() if kind == "county"}
    assert county == {"2026-10": ONE, "2026Q4": ONE, "2026-09": ONE, "2026Q3": ONE, "2026": ONE + ONE}
    assert Counters(**first[("2026-09", "shift_lead", "sl-j")][0]) == Counters(
        filed=1, filed_on_time=1, volume=1
    )

    await refresh_current.fn(ctx, scheduled_at=EARLY, tenant_path=registry[CITY].path)  # delivered twice
    again = await _rows(app_db, jingxian)
    assert {k: c for k, (c, _) in again.items()} == {k: c for k, (c, _) in first.items()}
    assert all(again[k][1] > first[k][1] for k in first)  # recounted, not added to

    await refresh_current.fn(ctx, scheduled_at=LATE, tenant_path=registry[CITY].path)
    late = await _rows(app_db, jingxian)
    assert {k: c for k, (c, _) in late.items()} == {k: c for k, (c, _) in first.items()}
    recounted = {k[0] for k in late if late[k][1] > again[k][1]}
    assert recounted == {"2026-10", "2026Q4", "2026"}  # September and Q3 are closed by the 20th


async def test_every_live_county_below_the_scope_is_refreshed(
    app_db: Database, registry: dict[str, Tenant], jingxian: Tenant
) -> None:
    await refresh_current.fn(JobContext(app_db), scheduled_at=LATE, tenant_path=registry[CITY].path)
    for code in (XUANZHOU, LANGXI):  # live, no case in 2026: their periods are replaced by nothing
        assert await _rows(app_db, registry[code]) == {}
    assert await _rows(app_db, jingxian)


def test_the_refresh_is_scheduled_from_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    periodic = {p.name: p.seconds for p in build_registry(Settings()).periodic}
    assert periodic["assessment.refresh_current"] == 3600
    monkeypatch.setenv("CITYLEAD_ASSESSMENT_REFRESH_SECONDS", "120")
    settings = Settings()
    settings.jobs = JobsSettings()
    assert {p.name: p.seconds for p in build_registry(settings).periodic}["assessment.refresh_current"] == 120
