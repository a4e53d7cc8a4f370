"""The job ``cases.refresh_stats``: one county's months recounted as the application role, twice
with the same result; the months a scheduled run recounts; an unknown tenant is refused."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import delete, select

from citylead.cases.models import Case
from citylead.cases.volume import CaseVolume, months_due, refresh_stats
from citylead.db import Database
from citylead.jobs.registry import JobContext
from tenants.audit import AuditEvent
from tenants.context import TenantContext
from tenants.errors import InvalidInput
from tenants.models import Tenant
from tests.integration.dashboard.conftest import G3, NANQIAO


async def _rows(app_db: Database, county: Tenant) -> list[tuple[date, str, str, int]]:
    v = CaseVolume
    async with app_db.transaction(TenantContext(county.path)) as s:
        found = await s.execute(
            select(v.month, v.axis, v.code, v.cases).where(v.tenant_id == county.id).order_by(v.month, v.axis)
        )
        return [(m, a, c, n) for m, a, c, n in found.all()]


async def test_the_job_recounts_a_county_idempotently(
    app_db: Database, registry: dict[str, Tenant], case_stats: dict[str, Case]
) -> None:
    county = registry[NANQIAO]
    expected = [(date(2026, 9, 1), "class", "06012", 2), (date(2026, 9, 1), "grid", G3, 2)]  # c7, c8
    async with app_db.transaction(TenantContext(county.path)) as s:
        await s.execute(delete(CaseVolume).where(CaseVolume.tenant_id == county.id))
    assert await _rows(app_db, county) == []
    ctx = JobContext(app_db)
    for _ in range(2):  # delivered twice
        await refresh_stats.fn(ctx, tenant_path=county.path, period="2026Q3")
        assert await _rows(app_db, county) == expected
    # the scheduler's message recounts the month of scheduled_at only: September stays
    await refresh_stats.fn(ctx, tenant_path=county.path, scheduled_at="2026-11-20T02:00:00+00:00")
    assert await _rows(app_db, county) == expected
    async with app_db.transaction(TenantContext(county.path)) as s:
        audits = list(
            await s.scalars(
                select(AuditEvent.subject).where(
                    AuditEvent.tenant_id == county.id, AuditEvent.action == "cases.refresh_stats"
                )
            )
        )
    assert audits.count(f"{NANQIAO}/2026-11") == 1
    assert audits.count(f"{NANQIAO}/2026Q3") == 3  # the fixture's refresh, then the job twice


def test_months_due_on_the_first_day_include_the_month_before() -> None:
    def labels(at: str) -> list[str]:
        return [p.label for p in months_due(datetime.fromisoformat(at))]

    assert labels("2026-11-20T02:00:00+00:00") == ["2026-11"]
    assert labels("2026-11-30T20:00:00+00:00") == ["2026-12", "2026-11"]  # 04:00 on 1 December in Beijing
    assert labels("2027-01-01T09:00:00+08:00") == ["2027-01", "2026-12"]
    assert labels("2026-12-02T00:00:00+08:00") == ["2026-12"]


async def test_bad_input_is_refused(app_db: Database, registry: dict[str, Tenant]) -> None:
    ctx = JobContext(app_db)
    with pytest.raises(InvalidInput):
        await refresh_stats.fn(ctx, tenant_path="/34/3411/341199/")  # no such tenant
    with pytest.raises(InvalidInput):
        await refresh_stats.fn(ctx, tenant_path=registry[NANQIAO].path, period="september")
