"""The facts behind the counters (``assessment_facts``) in 金安区, on months of 2025 that no other
test counts: a case changed after a refresh is counted anew at the next refresh (the incremental
path); a case closed in September whose clock is due in October counts in October; and as the
application role no one but the county reads or writes its facts, monthly sums and stale marks."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from citylead.assessment.counters import Counters
from citylead.assessment.models import AssessmentCounters, AssessmentStale, assessment_facts, assessment_sums
from citylead.assessment.rollup import Period, count_period, do_refresh
from citylead.cases.models import Case
from citylead.db import Database
from citylead.geography.models import Grid
from tenants.context import TenantContext
from tenants.models import Tenant
from tests.integration.assessment.conftest import CITY, COUNTY, DEP, IN, OTHER_CITY, SIBLING, SL, D, Desk, S

SH = ZoneInfo("Asia/Shanghai")
JUNE, SEPTEMBER, OCTOBER = Period.parse("2025-06"), Period.parse("2025-09"), Period.parse("2025-10")


def at(month: int, day: int, hh: int, mm: int = 0) -> datetime:
    return datetime(2025, month, day, hh, mm, tzinfo=SH)


async def _refreshed(app_db: Database, county: Tenant, period: Period) -> Counters:
    """Refresh ``period`` as the county and read its stored county row back."""
    async with app_db.transaction(TenantContext(county.path)) as s:
        await do_refresh(s, county, period, acting_user="admin@341502")
    async with app_db.transaction(TenantContext(county.path)) as s:
        row = await s.scalar(
            select(AssessmentCounters.counters).where(
                AssessmentCounters.period == period.label,
                AssessmentCounters.subject_type == "county",
            )
        )
    assert row is not None
    return Counters(**row)


async def _stale(app_db: Database, county: Tenant, case: Case) -> int:
    async with app_db.transaction(TenantContext(county.path)) as s:
        return int(
            await s.scalar(
                select(func.count()).select_from(AssessmentStale).where(AssessmentStale.case_id == case.id)
            )
            or 0
        )


async def test_a_case_changed_after_a_refresh_is_counted_anew(
    app_db: Database, registry: dict[str, Tenant], jinan_grids: list[Grid]
) -> None:
    """Reported, filed and dispatched on Tuesday 10 June 2025 (due 16:30); refreshed: due and
    pending. Disposed at 11:00 and refreshed again: disposed on time, no longer pending."""
    county = registry[COUNTY]
    desk = Desk(app_db, county)
    case = await desk.report(jinan_grids[-1], at(6, 10, 9), "sup-7")
    case = await desk.act(case, "file", SL, "sl-7", at(6, 10, 9, 30))
    case = await desk.act(case, "dispatch", D, "disp-7", at(6, 10, 10), unit=(COUNTY, "CGZF"))
    assert case.due_at == at(6, 10, 16, 30)
    assert await _stale(app_db, county, case) == 1  # marked by the trigger on case_events
    reported = Counters(
        reports=1, valid_reports=1, filed=1, filed_on_time=1, dispatched=1, dispatched_on_time=1
    )
    due = Counters(due_for_disposal=1, due_to_close=1, volume=1)
    assert await _refreshed(app_db, county, JUNE) == reported + due + Counters(overdue_pending=1)
    assert await _stale(app_db, county, case) == 0  # its facts are current

    await desk.act(case, "dispose", DEP, "dept-7", at(6, 10, 11), feedback="已清扫")
    assert await _stale(app_db, county, case) == 1
    assert await _refreshed(app_db, county, JUNE) == reported + due + Counters(disposed=1, disposed_on_time=1)
    assert await _stale(app_db, county, case) == 0


async def test_a_case_closed_in_september_counts_in_october_when_its_clock_falls_due(
    app_db: Database, registry: dict[str, Tenant], jinan_grids: list[Grid]
) -> None:
    """Dispatched on Tuesday 30 September 2025 at 16:30 (due in October, after 1 working hour of
    the 5 on that day), disposed, checked and closed the same evening."""
    county = registry[COUNTY]
    desk = Desk(app_db, county)
    case = await desk.report(jinan_grids[-2], at(9, 30, 16), "sup-8")
    case = await desk.act(case, "file", SL, "sl-8", at(9, 30, 16, 10))
    case = await desk.act(case, "dispatch", D, "disp-8", at(9, 30, 16, 30), unit=(COUNTY, "CGZF"))
    assert case.due_at is not None and OCTOBER.holds(case.due_at)
    case = await desk.act(case, "dispose", DEP, "dept-8", at(9, 30, 17), feedback="已清扫")
    case = await desk.act(case, "send_check", IN, "in-8", at(9, 30, 17, 5))
    case = await desk.act(case, "check_pass", S, "sup-8", at(9, 30, 17, 10))
    case = await desk.act(case, "close", SL, "sl-8", at(9, 30, 17, 20))
    assert case.closed_at is not None and SEPTEMBER.holds(case.closed_at)

    async with app_db.transaction(TenantContext(county.path)) as s:
        september = (await count_period(s, county, SEPTEMBER))[("county", COUNTY)]
        october = (await count_period(s, county, OCTOBER))[("county", COUNTY)]
    assert (september.filed, september.dispatched, september.due_for_disposal, september.due_to_close) == (
        1, 1, 0, 0,
    )  # fmt: skip
    assert (october.filed, october.due_for_disposal, october.disposed, october.disposed_on_time) == (
        0,
        1,
        1,
        1,
    )
    assert (october.overdue_pending, october.due_to_close, october.closed, october.closed_on_time) == (
        0,
        1,
        1,
        1,
    )


# -- isolation -----------------------------------------------------------------------------------


async def _visible(app_db: Database, tenant: Tenant, county: Tenant) -> tuple[int, int, int]:
    """The county's facts, stale marks and monthly sums that ``tenant`` reads."""
    async with app_db.transaction(TenantContext(tenant.path)) as s:
        return (
            await _rows(s, assessment_facts, county),
            await _rows(s, AssessmentStale.__table__, county),
            await _rows(s, assessment_sums, county),
        )


async def _rows(s: AsyncSession, table: Any, county: Tenant) -> int:
    count = select(func.count()).select_from(table).where(table.c.tenant_id == county.id)
    return int(await s.scalar(count) or 0)


@pytest.fixture(scope="module")
async def facts(app_db: Database, owner_db: Database, registry: dict[str, Tenant], month: list[Grid]) -> int:
    """金安区's facts built (October 2026 counted), with one case marked stale again."""
    county = registry[COUNTY]
    async with app_db.transaction(TenantContext(county.path)) as s:
        await count_period(s, county, Period.parse("2026-10"))
    async with owner_db.transaction(None) as s:
        await s.execute(
            text(
                "INSERT INTO assessment_stale (tenant_id, case_id) SELECT tenant_id, id FROM cases "
                "WHERE tenant_id = :t LIMIT 1 ON CONFLICT DO NOTHING"
            ),
            {"t": county.id},
        )
    own, stale, sums = await _visible(app_db, county, county)
    assert own > 0 and stale == 1 and sums > 0  # the positive control: the county reads its own
    return own


@pytest.mark.parametrize("intruder", [SIBLING, CITY, OTHER_CITY])
async def test_no_one_else_reads_or_writes_the_facts(
    app_db: Database, registry: dict[str, Tenant], facts: int, intruder: str
) -> None:
    county, context = registry[COUNTY], TenantContext(registry[intruder].path)
    assert await _visible(app_db, registry[intruder], county) == (0, 0, 0)  # the city neither
    async with app_db.transaction(context) as s:
        gone = await s.execute(assessment_facts.delete().where(assessment_facts.c.tenant_id == county.id))
        assert gone.rowcount == 0  # type: ignore[attr-defined]
        gone = await s.execute(
            AssessmentStale.__table__.delete().where(AssessmentStale.tenant_id == county.id)
        )
        assert gone.rowcount == 0  # type: ignore[attr-defined]
    case_id = await _any_case(app_db, county)
    with pytest.raises(DBAPIError, match="row-level security"):
        async with app_db.transaction(context) as s:
            await s.execute(
                assessment_facts.insert().values(
                    tenant_id=county.id, case_id=case_id, n=99, at=at(1, 1, 0), regions=True, filed=99
                )
            )
    assert (await _visible(app_db, county, county))[:2] == (facts, 1)


async def test_facts_are_never_updated_and_marks_only_come_from_events(
    app_db: Database, registry: dict[str, Tenant], facts: int
) -> None:
    county = registry[COUNTY]
    with pytest.raises(DBAPIError, match="permission denied"):
        async with app_db.transaction(TenantContext(county.path)) as s:
            await s.execute(update(assessment_facts).values(filed=0))
    with pytest.raises(DBAPIError, match="permission denied"):
        async with app_db.transaction(TenantContext(county.path)) as s:
            await s.execute(AssessmentStale.__table__.insert().values(tenant_id=county.id, case_id=county.id))


async def _any_case(app_db: Database, county: Tenant) -> object:
    async with app_db.transaction(TenantContext(county.path)) as s:
        return await s.scalar(select(Case.id).where(Case.tenant_id == county.id).limit(1))
