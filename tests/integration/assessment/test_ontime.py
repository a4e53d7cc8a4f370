"""按时立案率 and 按时派遣率 through the real workflow, in 霍邱县 341522 (六安市), used by no other
test, in March 2025 (a period no other test counts).

Calendar (baseline): 08:30–12:00 and 13:30–17:30 Asia/Shanghai; Monday 3 March 2025, no holiday
that week. Road not clean (matter 06012): the baseline's filing and dispatch limits are 30 working
minutes each, from the event that makes the case ready to file (a supervisor's report, an
intake operator's ``accept``) and from the one that puts it in a dispatch queue (``file``, and
again ``approve_return`` and ``send_back``). The deadline is pinned on that event (``due_at``).

- P (supervisor): reported 09:00 (filing due 09:30), filed 09:45 — **late**; dispatched 10:00
  (due 10:15) to CGZF; returned 10:30 (due 11:00), dispatched again 11:20 to HJWS — **late**.
- Q (12345 hotline): reported 09:00, accepted 09:10 (due 09:40), filed 09:40 — on time, at the
  deadline; dispatched 10:30 (due 10:10) — **late**.
- R (supervisor): reported 11:50, filing due 13:50 (10 working minutes before lunch, 20 after);
  filed 13:45 — on time; escalated 14:00 to the city, sent back by the city 15:00 (due 15:30),
  dispatched 15:20 — on time (timed from the send-back, not from the filing: 14:15).
- T (supervisor), after the county tightened its own filing limit to 15 working minutes: reported
  Tuesday 4 March 09:00 (due 09:15), filed 09:20 — **late**; P still keeps its pinned 30.

P, Q and R are disposed at 16:00, T stays filed. March: 按时立案率 = 2 (Q, R) / 4 filed = 50 %;
按时派遣率 = 2 (P's first, R) / 4 dispatched = 50 %.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from citylead.assessment.counters import Counters
from citylead.assessment.rollup import Period, count_period
from citylead.cases.access import Actor
from citylead.cases.actions import Given, do_action
from citylead.cases.events import history
from citylead.cases.models import Case, Source
from citylead.db import Database
from citylead.geography.demo import seed_demo_geography
from citylead.geography.models import Grid
from citylead.units.demo import seed_demo_units
from tenants.context import TenantContext
from tenants.models import Tenant, TenantStatus
from tenants.standards.paths import Kind
from tenants.standards.resolver import Resolver
from tenants.standards.seeding import publish_layer, seed_baseline
from tests.integration.assessment.conftest import DEP, IN, SL, D, Desk

SH = ZoneInfo("Asia/Shanghai")
HUOQIU, LU_AN = "341522", "341500"
MARCH = Period.parse("2025-03")


def at(day: int, hh: int, mm: int = 0) -> datetime:
    return datetime(2025, 3, day, hh, mm, tzinfo=SH)


async def _grids(owner_db: Database, registry: dict[str, Tenant]) -> list[Grid]:
    province = registry["340000"]
    async with owner_db.transaction(TenantContext(province.path)) as s:
        await seed_baseline(s, Resolver(), province)
    async with owner_db.transaction(None) as s:
        await s.execute(update(Tenant).where(Tenant.code == HUOQIU).values(status=TenantStatus.LIVE))
    await seed_demo_geography(owner_db, [HUOQIU])
    await seed_demo_units(owner_db, [HUOQIU])
    async with owner_db.transaction(None) as s:
        county = registry[HUOQIU]
        return list(await s.scalars(select(Grid).where(Grid.tenant_id == county.id).order_by(Grid.code)))


async def _city_sends_back(app_db: Database, city: Tenant, case: Case, when: datetime) -> Case:
    """The city's dispatcher sends an escalated case back to the county (退回区县)."""
    async with app_db.transaction(TenantContext(city.path)) as s:
        fresh = await s.get_one(Case, (case.tenant_id, case.id))
        actor = Actor("disp-city", frozenset({D}), city)
        given = Given(reason="属区县职责，请自行派遣")
        return await do_action(s, fresh, "send_back", given, actor=actor, resolver=Resolver(), now=when)


async def _dues(app_db: Database, county: Tenant, case: Case) -> list[tuple[str, str | None]]:
    """(action, data.due_at) of the case's events, in order."""
    async with app_db.transaction(TenantContext(county.path)) as s:
        return [(e.action, e.data.get("due_at")) for e in await history(s, case)]


@pytest.fixture(scope="module")
async def march(app_db: Database, owner_db: Database, registry: dict[str, Tenant]) -> dict[str, Any]:
    """The four cases of the module docstring, driven through ``do_report`` / ``do_action``."""
    county, g = registry[HUOQIU], await _grids(owner_db, registry)
    desk = Desk(app_db, county)
    cgzf, hjws = (HUOQIU, "CGZF"), (HUOQIU, "HJWS")

    p = await desk.report(g[0], at(3, 9), "sup-1")
    p = await desk.act(p, "file", SL, "sl-1", at(3, 9, 45))
    p = await desk.act(p, "dispatch", D, "disp-1", at(3, 10), unit=cgzf)
    p = await desk.act(p, "request_return", DEP, "dept-1", at(3, 10, 20), reason="非本单位职责")
    p = await desk.act(p, "approve_return", D, "disp-1", at(3, 10, 30))
    p = await desk.act(p, "dispatch", D, "disp-1", at(3, 11, 20), unit=hjws)

    q = await desk.report(g[1], at(3, 9), "hotline", Source.HOTLINE_12345)
    q = await desk.act(q, "accept", IN, "in-1", at(3, 9, 10))
    q = await desk.act(q, "file", SL, "sl-1", at(3, 9, 40))
    q = await desk.act(q, "dispatch", D, "disp-1", at(3, 10, 30), unit=hjws)

    r = await desk.report(g[2], at(3, 11, 50), "sup-1")
    r = await desk.act(r, "file", SL, "sl-2", at(3, 13, 45))
    r = await desk.act(r, "escalate", D, "disp-1", at(3, 14), reason="责任不清")
    r = await _city_sends_back(app_db, registry[LU_AN], r, at(3, 15))
    r = await desk.act(r, "dispatch", D, "disp-2", at(3, 15, 20), unit=hjws)

    async with app_db.transaction(TenantContext(county.path)) as s:
        await publish_layer(
            s,
            Resolver(),
            await s.get_one(Tenant, county.id),
            Kind.MANUAL,
            {"manual/default/step/file": "15wmin"},
            note="立案时限从严：15 个工作分钟",
            acting_user="admin@341522",
        )
    t = await desk.report(g[3], at(4, 9), "sup-2")
    t = await desk.act(t, "file", SL, "sl-2", at(4, 9, 20))
    for case in (p, q, r):  # no clock is left running (test_deadlines sweeps every county's)
        await desk.act(case, "dispose", DEP, "dept-1", at(3, 16), feedback="已清扫")
    return {"county": county, "cases": {"P": p, "Q": q, "R": r, "T": t}}


async def test_each_step_pins_its_deadline_on_the_event_that_starts_it(
    app_db: Database, march: dict[str, Any]
) -> None:
    county, cases = march["county"], march["cases"]
    p, q, r, t = (cases[k] for k in "PQRT")
    assert (p.limits["file"], p.limits["dispatch"], t.limits["file"]) == ("30wmin", "30wmin", "15wmin")
    assert p.limits["set_by"]["step/file"].startswith("340000 v")
    assert t.limits["set_by"]["step/file"] == "341522 v1"  # the county's own, pinned at intake
    assert await _dues(app_db, county, p) == [
        ("report", at(3, 9, 30).isoformat()),
        ("file", at(3, 10, 15).isoformat()),
        ("dispatch", at(3, 16, 30).isoformat()),  # the disposal clock: 5 working hours
        ("request_return", None),
        ("approve_return", at(3, 11).isoformat()),
        ("dispatch", at(4, 8, 50).isoformat()),
        ("dispose", None),
    ]
    assert (await _dues(app_db, county, q))[:3] == [
        ("report", None),  # a public report waits for acceptance: not yet ready to file
        ("accept", at(3, 9, 40).isoformat()),
        ("file", at(3, 10, 10).isoformat()),
    ]
    assert await _dues(app_db, county, r) == [
        ("report", at(3, 13, 50).isoformat()),
        ("file", at(3, 14, 15).isoformat()),
        ("escalate", at(3, 14, 30).isoformat()),
        ("send_back", at(3, 15, 30).isoformat()),
        ("dispatch", at(4, 11, 20).isoformat()),
        ("dispose", None),
    ]
    assert (await _dues(app_db, county, t))[0] == ("report", at(4, 9, 15).isoformat())


async def test_late_filings_and_dispatches_are_not_counted_on_time(
    app_db: Database, march: dict[str, Any]
) -> None:
    county = march["county"]
    async with app_db.transaction(TenantContext(county.path)) as s:
        got = await count_period(s, county, MARCH)
    whole = got[("county", HUOQIU)]
    assert (whole.filed, whole.filed_on_time) == (4, 2)  # P and T late
    assert (whole.dispatched, whole.dispatched_on_time) == (4, 2)  # P's second and Q late
    assert got[("shift_lead", "sl-1")] == Counters(filed=2, filed_on_time=1, volume=2)  # P late, Q
    assert got[("shift_lead", "sl-2")] == Counters(filed=2, filed_on_time=1, volume=2)  # R, T late
    assert got[("dispatcher", "disp-1")] == Counters(
        dispatched=3, dispatched_on_time=1, returned_wrong_unit=1, volume=5
    )  # P on time then late, Q late; its escalation and approved return are its own events too
    assert got[("dispatcher", "disp-2")] == Counters(dispatched=1, dispatched_on_time=1, volume=1)
