"""Isolation of ``assessment_counters`` as the application role with RLS on: a sibling county, the
parent city and another city try to read, add, change and delete 金安区's rows. The city reads its
counties' rows (subtree) but writes none; rows are replaced, never updated, even by their owner."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import DBAPIError

from citylead.assessment.models import AssessmentCounters
from citylead.db import Database
from tenants.context import TenantContext
from tenants.models import Tenant
from tests.integration.assessment.conftest import CITY, COUNTY, OTHER_CITY, SIBLING

PERIOD = "2025-01"  # no case of the month fixture falls here


@pytest.fixture(scope="module")
async def rows(owner_db: Database, registry: dict[str, Tenant]) -> int:
    async with owner_db.transaction(None) as s:
        await s.execute(delete(AssessmentCounters).where(AssessmentCounters.period == PERIOD))
        s.add_all(
            AssessmentCounters(
                tenant_id=registry[COUNTY].id,
                period=PERIOD,
                subject_type=kind,
                subject_code=code,
                counters={"filed": 3},
            )
            for kind, code in (("county", COUNTY), ("supervisor", "sup-9"))
        )
    return 2


async def _count(app_db: Database, tenant: Tenant) -> int:
    async with app_db.transaction(TenantContext(tenant.path)) as s:
        return int(
            await s.scalar(
                select(func.count())
                .select_from(AssessmentCounters)
                .where(AssessmentCounters.period == PERIOD)
            )
            or 0
        )


async def test_owner_and_parent_city_read(app_db: Database, registry: dict[str, Tenant], rows: int) -> None:
    assert await _count(app_db, registry[COUNTY]) == rows
    assert await _count(app_db, registry[CITY]) == rows


@pytest.mark.parametrize("intruder", [SIBLING, OTHER_CITY])
async def test_others_read_nothing(
    app_db: Database, registry: dict[str, Tenant], rows: int, intruder: str
) -> None:
    assert await _count(app_db, registry[intruder]) == 0


@pytest.mark.parametrize("intruder", [SIBLING, CITY, OTHER_CITY])
async def test_no_one_else_writes(
    app_db: Database, registry: dict[str, Tenant], rows: int, intruder: str
) -> None:
    context = TenantContext(registry[intruder].path)
    async with app_db.transaction(context) as s:
        gone = await s.execute(delete(AssessmentCounters).where(AssessmentCounters.period == PERIOD))
        assert gone.rowcount == 0  # type: ignore[attr-defined]
    with pytest.raises(DBAPIError, match="row-level security"):
        async with app_db.transaction(context) as s:
            s.add(
                AssessmentCounters(
                    tenant_id=registry[COUNTY].id,
                    period=PERIOD,
                    subject_type="grid",
                    subject_code="forged",
                    counters={"filed": 99},
                )
            )
    assert await _count(app_db, registry[COUNTY]) == rows


async def test_rows_are_never_updated(app_db: Database, registry: dict[str, Tenant], rows: int) -> None:
    with pytest.raises(DBAPIError, match="permission denied"):
        async with app_db.transaction(TenantContext(registry[COUNTY].path)) as s:
            await s.execute(update(AssessmentCounters).values(counters={"filed": 0}))


async def test_owner_may_delete_and_add(app_db: Database, registry: dict[str, Tenant], rows: int) -> None:
    """The positive control for the writes above: the county itself replaces its rows."""
    county = registry[COUNTY]
    async with app_db.transaction(TenantContext(county.path)) as s:
        s.add(
            AssessmentCounters(
                tenant_id=county.id, period=PERIOD, subject_type="grid", subject_code="g-1", counters={}
            )
        )
    assert await _count(app_db, county) == rows + 1
    async with app_db.transaction(TenantContext(county.path)) as s:
        gone = await s.execute(
            delete(AssessmentCounters).where(
                AssessmentCounters.period == PERIOD, AssessmentCounters.subject_code == "g-1"
            )
        )
        assert gone.rowcount == 1  # type: ignore[attr-defined]
