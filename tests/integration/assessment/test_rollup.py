"""Counters from a hand-built month of 金安区 cases, every one known by hand.

Calendar (baseline): 08:30–12:00 and 13:30–17:30 Asia/Shanghai, Mon–Fri; 2026-10-12 is a Monday.
Road not clean (matter 06012), normal urgency: disposal in 5 working hours; filing within 30
working minutes of being ready to file (the report of a supervisor, the verification of a public
report), dispatch within 30 working minutes of filing (the baseline's 立案时限 and 派遣时限). Posts:
sup-1, sup-2 (supervisors), in-1 (intake), sl-1 (shift lead), disp-1 (dispatcher), dept-1
(department).

- A (sup-1): reported 12th 09:00, filed 09:30 (due 09:30: on time), dispatched 10:00 to CGZF
  (due 10:00: on time; disposal due 16:30), disposed 11:00, checked (send_check 11:30, pass
  11:40), closed 14:00 — normal.
- B (12345 hotline): send_verify, verified by sup-1 09:40, filed 10:00 (due 10:10), dispatched
  13th 10:30 (due 10:30; disposal due 17:00), disposed 14th 10:00 (overdue), check_fail by sup-2
  11:00 (rework: due 17:30), disposed 14:00, check_pass by sup-2, closed — normal (the last
  disposal was on time).
- C (sup-2): reported 15th 09:00, filed 09:45 — **late** (due 09:30) — voided.
- D (sup-1): filed 16th 09:30, dispatched 10:15 — **late** (due 10:00) — postponement asked and
  granted (1wd), never disposed.
- E (sup-1): filed Fri 30th 16:10 (due 16:30), dispatched 16:30 (due 16:40): disposal due Mon 2
  November 14:00, counted in November.
- F (sup-2): filed 19th 09:10 (due 09:30), dispatched 09:20 (due 09:40) to CGZF, redispatched
  09:30 to HJWS (wrong unit), disposed 10:00.

按时立案率 = 5 on time (A B D E F) / 6 filed = 83.33 %; 按时派遣率 = 4 on time (A B E F) / 5
dispatched = 80 % (a redispatch is not a dispatch).
"""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select

from citylead.assessment.counters import Counters
from citylead.assessment.models import AssessmentCounters
from citylead.assessment.rollup import Period, count_period, do_refresh, refresh
from citylead.db import Database
from citylead.geography.models import Grid
from citylead.jobs.registry import JobContext
from tenants.audit import AuditEvent
from tenants.context import TenantContext
from tenants.models import Tenant
from tests.integration.assessment.conftest import COUNTY

CGZF, HJWS = f"{COUNTY}:CGZF", f"{COUNTY}:HJWS"


COUNTY_OCTOBER = Counters(
    reports=6,  # 5 supervisor reports (A C D E F) + in-1's send_verify of B
    valid_reports=5,  # all but C (voided)
    missed_reports=1,  # B: filed from a public source
    filed=6,
    voided=1,
    filed_on_time=5,  # all but C (filed 15 minutes after its filing deadline)
    verify_due=1,
    verified_on_time=1,
    check_due=3,  # A, B twice
    checked_on_time=3,
    dispatched=5,  # A B D E F (the redispatch is not a new dispatch)
    dispatched_on_time=4,  # all but D (dispatched 15 minutes after its dispatch deadline)
    returned_wrong_unit=1,  # F
    due_for_disposal=5,  # A, B's two clocks, D, F's HJWS clock (E is due in November)
    disposed=4,
    disposed_on_time=3,  # B's first disposal was late
    overdue_pending=1,  # D
    postponed=1,  # D
    rework=1,  # B
    reworked_disposals=1,  # B's first disposal, rejected on check
    due_to_close=4,  # A B D F
    closed=2,  # A B
    closed_on_time=2,
    deferred_approved=1,  # D
    deferred_closed_on_time=0,
    volume=6,  # filings
)


async def _count(app_db: Database, county: Tenant, label: str) -> dict[tuple[str, str], Counters]:
    async with app_db.transaction(TenantContext(county.path)) as s:
        return await count_period(s, county, Period.parse(label))


async def test_every_counter_of_october(
    app_db: Database, registry: dict[str, Tenant], month: list[Grid]
) -> None:
    got = await _count(app_db, registry[COUNTY], "2026-10")
    assert got[("county", COUNTY)] == COUNTY_OCTOBER
    assert got[("grid", month[1].code)] == Counters(
        reports=1, valid_reports=1, missed_reports=1, filed=1, filed_on_time=1, verify_due=1,
        verified_on_time=1, check_due=2, checked_on_time=2, dispatched=1, dispatched_on_time=1,
        due_for_disposal=2, disposed=2, disposed_on_time=1, rework=1, reworked_disposals=1,
        due_to_close=1, closed=1,
        closed_on_time=1, volume=1,
    )  # fmt: skip
    assert got[("supervisor", "sup-1")] == Counters(
        reports=3, valid_reports=3, verify_due=1, verified_on_time=1, check_due=1, checked_on_time=1, volume=5
    )
    assert got[("supervisor", "sup-2")] == Counters(
        reports=2, valid_reports=1, check_due=2, checked_on_time=2, volume=4
    )
    # B, which in-1 sent to verification, was filed at 10:00, due 10:10 (verified 09:40 + 30 wmin)
    assert got[("intake", "in-1")] == Counters(reports=1, valid_reports=1, filed=1, filed_on_time=1, volume=4)
    assert got[("shift_lead", "sl-1")] == Counters(filed=6, voided=1, filed_on_time=5, volume=9)
    assert got[("dispatcher", "disp-1")] == Counters(
        dispatched=5, dispatched_on_time=4, returned_wrong_unit=1, volume=7
    )
    c_grid, d_grid = got[("grid", month[2].code)], got[("grid", month[3].code)]
    assert (c_grid.filed, c_grid.filed_on_time) == (1, 0)  # C: filed late
    assert (d_grid.dispatched, d_grid.dispatched_on_time) == (1, 0)  # D: dispatched late
    assert got[("department", CGZF)] == Counters(
        due_for_disposal=4, disposed=3, disposed_on_time=2, overdue_pending=1, postponed=1, rework=1,
        reworked_disposals=1, due_to_close=3, closed=2, closed_on_time=2, deferred_approved=1, volume=6,
    )  # fmt: skip
    assert got[("department", HJWS)] == Counters(
        due_for_disposal=1, disposed=1, disposed_on_time=1, due_to_close=1, volume=1
    )
    assert ("department", "dept-1") not in got  # a department user is not a post


async def test_attribution_to_the_period_of_the_event(
    app_db: Database, registry: dict[str, Tenant], month: list[Grid]
) -> None:
    november = await _count(app_db, registry[COUNTY], "2026-11")
    e_only = Counters(due_for_disposal=1, overdue_pending=1, due_to_close=1)
    assert november == {
        ("county", COUNTY): e_only,
        ("grid", month[4].code): e_only,
        ("department", CGZF): e_only,
    } | {k: e_only for k in november if k[0] == "street"}
    assert await _count(app_db, registry[COUNTY], "2026-09") == {}
    quarter = await _count(app_db, registry[COUNTY], "2026Q4")
    assert quarter[("county", COUNTY)] == COUNTY_OCTOBER + e_only  # months add up to the quarter
    year = await _count(app_db, registry[COUNTY], "2026")
    assert year[("county", COUNTY)] == quarter[("county", COUNTY)]


async def test_refresh_replaces_the_period_idempotently(
    app_db: Database, registry: dict[str, Tenant], month: list[Grid]
) -> None:
    county = registry[COUNTY]

    async def refresh() -> tuple[int, int, dict[tuple[str, str], dict[str, int]]]:
        async with app_db.transaction(TenantContext(county.path)) as s:
            report = await do_refresh(s, county, Period.parse("2026-10"), acting_user="admin@341502")
        async with app_db.transaction(TenantContext(county.path)) as s:
            rows = await s.scalars(select(AssessmentCounters).where(AssessmentCounters.period == "2026-10"))
            return (
                report.subjects,
                report.replaced,
                {(r.subject_type, r.subject_code): r.counters for r in rows},
            )

    first_n, _, first = await refresh()
    second_n, replaced, second = await refresh()
    assert first == second and first_n == second_n == replaced == len(first)
    assert first[("county", COUNTY)] == COUNTY_OCTOBER.as_dict()
    assert Counters(**first[("department", CGZF)]) == replace(
        Counters(), due_for_disposal=4, disposed=3, disposed_on_time=2, overdue_pending=1, postponed=1,
        rework=1, reworked_disposals=1, due_to_close=3, closed=2, closed_on_time=2, deferred_approved=1,
        volume=6,
    )  # fmt: skip
    async with app_db.transaction(TenantContext(county.path)) as s:
        audits = await s.scalars(
            select(AuditEvent).where(
                AuditEvent.tenant_id == county.id, AuditEvent.action == "assessment.refresh"
            )
        )
        assert len(list(audits)) >= 2


async def test_the_job_refreshes_a_period(
    app_db: Database, registry: dict[str, Tenant], month: list[Grid]
) -> None:
    county = registry[COUNTY]
    await refresh.fn(JobContext(app_db), tenant_path=county.path, period="2026-11")
    await refresh.fn(JobContext(app_db), tenant_path=county.path, period="2026-11")  # delivered twice
    async with app_db.transaction(TenantContext(county.path)) as s:
        rows = list(await s.scalars(select(AssessmentCounters).where(AssessmentCounters.period == "2026-11")))
    assert {(r.subject_type, r.subject_code) for r in rows} >= {("county", COUNTY), ("department", CGZF)}
    assert all(
        r.counters == Counters(due_for_disposal=1, overdue_pending=1, due_to_close=1).as_dict() for r in rows
    )
    assert {r.rules for r in rows} != {None}
