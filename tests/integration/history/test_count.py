"""Generated history counted at once (``count_history``): September 2026 in 砀山县 341321, with
disposals that linger past the month they fell due in and some never made, then counted. The
stored roll-ups of the month, its quarter and its year are what ``count_period`` counts, the
month's volumes count its 40 cases by class and by grid, and 埇桥区 341302 sees none of those rows
as the application role.

September only: after test_seed's June–August in this county, and far from test_paths' October
(in 341302): the cases left open here are past any duplicate window by then."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from citylead.assessment.counters import Counters
from citylead.assessment.models import AssessmentCounters
from citylead.assessment.rollup import Period, count_period
from citylead.cases.models import Case, CaseEvent
from citylead.cases.volume import CaseVolume
from citylead.db import Database
from citylead.history.count import count_history
from citylead.history.generate import generate_history
from citylead.history.profile import Mix
from tenants.audit import AuditEvent
from tenants.context import TenantContext
from tenants.models import Tenant
from tests.integration.history.conftest import COUNTY, SIBLING

SH = ZoneInfo("Asia/Shanghai")
SEPTEMBER = Period.parse("2026-09")
OCTOBER_START = datetime(2026, 10, 1, tzinfo=SH)
NOW = datetime(2026, 10, 20, 12, 0, tzinfo=SH)  # lingering September disposals are made by then
N = 40
SEED = "count-test"
LATE = Mix(linger=0.25, abandon=0.1)  # before the division's profile scales them
MONTH = Case.external_id.startswith("demo:2026-09:")


@pytest.fixture(scope="module")
async def counted(app_db: Database, suzhou: dict[str, Tenant]) -> dict[str, Any]:
    county = suzhou[SIBLING]
    scope = TenantContext(county.path)
    await generate_history(app_db, scope, [SEPTEMBER], N, acting_user="test", seed=SEED, now=NOW, mix=LATE)
    steps: list[tuple[str, int, int]] = []
    report = await count_history(
        app_db, scope, ["2026-09"], acting_user="test", on_step=lambda *step: steps.append(step)
    )
    return {"report": report, "steps": steps}


async def test_the_month_its_quarter_and_year_are_counted(
    counted: dict[str, Any], app_db: Database, suzhou: dict[str, Tenant]
) -> None:
    county = suzhou[SIBLING]
    report = counted["report"]
    assert (report.periods, report.divisions) == (["2026-09", "2026Q3", "2026"], 1)
    assert counted["steps"] == [
        ("评价 2026-09", 1, 4),
        ("评价 2026Q3", 2, 4),
        ("评价 2026", 3, 4),
        (f"案件量 {SIBLING}", 4, 4),
    ]
    async with app_db.transaction(TenantContext(county.path)) as s:
        for label in report.periods:
            stored = await s.scalar(
                select(AssessmentCounters.counters).where(
                    AssessmentCounters.tenant_id == county.id,
                    AssessmentCounters.period == label,
                    AssessmentCounters.subject_type == "county",
                )
            )
            assert stored is not None, label
            fresh = await count_period(s, county, Period.parse(label))
            assert Counters(**stored) == fresh[("county", SIBLING)], label
        audits = set(
            await s.scalars(
                select(AuditEvent.subject).where(
                    AuditEvent.tenant_id == county.id, AuditEvent.action == "cases.refresh_stats"
                )
            )
        )
    assert f"{SIBLING}/2026-09" in audits


async def test_the_months_volume_counts_its_cases(
    counted: dict[str, Any], app_db: Database, suzhou: dict[str, Tenant]
) -> None:
    county = suzhou[SIBLING]
    async with app_db.transaction(TenantContext(county.path)) as s:
        rows = await s.execute(
            select(CaseVolume.axis, func.sum(CaseVolume.cases))
            .where(CaseVolume.tenant_id == county.id, CaseVolume.month == SEPTEMBER.start.date())
            .group_by(CaseVolume.axis)
        )
        volume = {axis: int(n) for axis, n in rows.all()}
    assert volume == {"class": N, "grid": N}  # nothing else is reported here in September


async def test_disposals_linger_past_the_month_or_never_come(
    counted: dict[str, Any], app_db: Database, suzhou: dict[str, Tenant]
) -> None:
    """Some September cases are disposed in October only, some never (the clock runs on)."""
    county = suzhou[SIBLING]
    async with app_db.transaction(TenantContext(county.path)) as s:
        month = select(Case.id).where(Case.tenant_id == county.id, MONTH)
        disposed_later = await s.scalar(
            select(func.count(func.distinct(CaseEvent.case_id))).where(
                CaseEvent.case_id.in_(month), CaseEvent.action == "dispose", CaseEvent.at >= OCTOBER_START
            )
        )
        never = await s.scalar(
            select(func.count()).where(
                Case.tenant_id == county.id, MONTH, Case.state == "dispatched", Case.due_at < NOW
            )
        )
        stale = await count_period(s, county, SEPTEMBER)
    assert disposed_later and disposed_later > 0
    assert never and never > 0
    assert stale[("county", SIBLING)].overdue_pending >= never


async def test_the_counts_stay_in_their_county(
    counted: dict[str, Any], app_db: Database, suzhou: dict[str, Tenant]
) -> None:
    """As the application role in the sibling 埇桥区 neither the roll-ups nor the volumes of 砀山县
    are visible; in 砀山县 they are."""
    county, sibling = suzhou[SIBLING], suzhou[COUNTY]
    for context, expected in ((TenantContext(sibling.path), 0), (TenantContext(county.path), 1)):
        async with app_db.transaction(context) as s:
            rollups = await s.scalar(
                select(func.count()).where(
                    AssessmentCounters.tenant_id == county.id, AssessmentCounters.period == "2026-09"
                )
            )
            volumes = await s.scalar(
                select(func.count()).where(
                    CaseVolume.tenant_id == county.id, CaseVolume.month == SEPTEMBER.start.date()
                )
            )
        assert (min(int(rollups or 0), 1), min(int(volumes or 0), 1)) == (expected, expected)
