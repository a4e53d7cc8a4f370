"""Deadlines in working time, hand-computed, through the actions with fixed instants.

Calendar (baseline): 08:30–12:00 and 13:30–17:30 Asia/Shanghai, Mon–Fri; 2026-03-02 is a Monday
with no holiday that week. Road not clean (matter 06012), normal urgency: 5 working hours.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from citylead.cases.access import Actor
from citylead.cases.actions import Given, do_action
from citylead.cases.intake import Report, do_report
from citylead.cases.jobs import sweep_overdue
from citylead.cases.models import Case, Source
from citylead.db import Database
from citylead.geography.index import Locator
from citylead.identity.principal import Role
from citylead.jobs.notifications import Notification
from citylead.jobs.registry import JobContext
from tenants.context import TenantContext
from tenants.models import Tenant
from tenants.standards.resolver import Resolver
from tests.integration.cases.conftest import Spot, deliver_notifications

SH = ZoneInfo("Asia/Shanghai")
C = "320613"


def at(day: int, hh: int, mm: int = 0) -> datetime:
    return datetime(2026, 3, day, hh, mm, tzinfo=SH)


class Desk:
    """Acting in 崇川区 as the app role at chosen instants."""

    def __init__(self, app_db: Database, county: Tenant) -> None:
        self.db, self.county = app_db, county
        self.resolver, self.locator = Resolver(), Locator()

    def actor(self, role: Role) -> Actor:
        units = frozenset()
        if role is Role.DEPARTMENT:
            units = frozenset({(self.county.id, "CGZF")})  # acts for the county's 城管执法 unit
        return Actor(f"{role.value}@{C}", frozenset({role}), self.county, units)

    async def report(
        self, spot: Spot, when: datetime, *, code: str = "06012", source: Source = Source.SUPERVISOR
    ) -> Case:
        async with self.db.transaction(TenantContext(self.county.path)) as s:
            county = await s.get_one(Tenant, self.county.id)  # live now (the registry fixture is older)
            intake = await do_report(
                s,
                county,
                Report("matter", code, spot.lon, spot.lat, "道路不洁", source=source),
                resolver=self.resolver,
                locator=self.locator,
                acting_user=f"{source.value}@{C}",
                now=when,
            )
            return intake.case

    async def act(self, case: Case, name: str, role: Role, when: datetime, **given: object) -> Case:
        async with self.db.transaction(TenantContext(self.county.path)) as s:
            fresh = await s.get_one(Case, (case.tenant_id, case.id))
            return await do_action(
                s,
                fresh,
                name,
                Given(**given),
                actor=self.actor(role),
                resolver=self.resolver,
                now=when,  # type: ignore[arg-type]
            )


async def _dispatched(desk: Desk, spot: Spot) -> Case:
    case = await desk.report(spot, at(2, 9))
    case = await desk.act(case, "file", Role.SHIFT_LEAD, at(2, 9, 30))
    return await desk.act(case, "dispatch", Role.DISPATCHER, at(2, 10), unit=(C, "CGZF"))


async def test_dispose_deadline_postponement_and_parking(
    app_db: Database, registry: dict[str, Tenant], case_world: dict[str, list[Spot]]
) -> None:
    desk = Desk(app_db, registry[C])
    case = await _dispatched(desk, case_world[C][0])
    # 10:00–12:00 is 2 h, 13:30–16:30 the other 3 h → 16:30; 80 % (4 h) at 15:30.
    assert (case.due_at, case.warn_at) == (at(2, 16, 30), at(2, 15, 30))
    case = await desk.act(case, "request_postpone", Role.DEPARTMENT, at(2, 11), reason="协调", duration="2wh")
    case = await desk.act(case, "approve_postpone", Role.DISPATCHER, at(2, 11))
    # 1 h used (10–11); paused 11:00–14:30 (2 working hours: 11–12, 13:30–14:30); 4 h left from
    # 14:30: 3 h to 17:30, then 1 h on Tuesday from 08:30 → Tue 09:30.
    assert case.due_at == at(3, 9, 30)
    case = await desk.act(case, "request_park", Role.DEPARTMENT, at(3, 9), reason="纳入改造计划")
    case = await desk.act(case, "approve_park", Role.DISPATCHER, at(3, 9))
    assert case.due_at is None and case.state == "parked"
    case = await desk.act(case, "resume", Role.DISPATCHER, at(4, 9))
    # Used before parking: 1 h Mon morning + 3 h Mon afternoon + 0.5 h Tue = 4.5 h; 0.5 h left
    # from Wed 09:00 → Wed 09:30.
    assert case.due_at == at(4, 9, 30)


async def test_overdue_sweep_marks_once_and_closing_is_overdue(
    app_db: Database, registry: dict[str, Tenant], case_world: dict[str, list[Spot]]
) -> None:
    desk = Desk(app_db, registry[C])
    case = await _dispatched(desk, case_world[C][1])
    assert case.due_at == at(2, 16, 30)
    ctx = JobContext(app_db)
    assert await sweep_overdue(ctx, now=at(2, 16, 29)) == 0
    marked = await sweep_overdue(ctx, now=at(2, 16, 31))
    assert marked >= 1
    assert await sweep_overdue(ctx, now=at(2, 16, 32)) == 0  # once
    await deliver_notifications(app_db)
    async with app_db.transaction(TenantContext(registry[C].path)) as s:
        bodies = list(await s.scalars(select(Notification.body).where(Notification.case_id == case.id)))
    assert [b for b in bodies if "超期" in b or "已过" in b] == [
        "道路不洁：期限 2026-03-02 16:30（北京时间）已过"
    ]
    async with app_db.transaction(TenantContext(registry[C].path)) as s:
        assert (await s.get_one(Case, (case.tenant_id, case.id))).overdue is True
    case = await desk.act(case, "dispose", Role.DEPARTMENT, at(3, 9), feedback="已清扫")
    assert case.dispose_overdue is True
    case = await desk.act(case, "send_check", Role.INTAKE, at(3, 9, 5))
    # The check clock: 1 working hour from 09:05 → 10:05.
    assert case.due_at == at(3, 10, 5)
    case = await desk.act(case, "check_pass", Role.SUPERVISOR, at(3, 9, 30))
    case = await desk.act(case, "close", Role.SHIFT_LEAD, at(3, 9, 40))
    assert case.closing_type == "overdue"


async def test_deadlines_stay_pinned_when_the_manual_changes(
    app_db: Database, registry: dict[str, Tenant], case_world: dict[str, list[Spot]]
) -> None:
    from tenants.standards.paths import Kind
    from tenants.standards.seeding import publish_layer

    desk = Desk(app_db, registry[C])
    case = await desk.report(case_world[C][2], at(2, 9))
    async with app_db.transaction(TenantContext(registry[C].path)) as s:
        await publish_layer(
            s,
            Resolver(),
            registry[C],
            Kind.MANUAL,
            {"manual/matter/06012/limit/normal": "3wh"},
            note="收紧",
            acting_user="test",
        )
    case = await desk.act(case, "file", Role.SHIFT_LEAD, at(2, 9, 30))
    case = await desk.act(case, "dispatch", Role.DISPATCHER, at(2, 10), unit=(C, "CGZF"))
    assert case.limits["dispose"] == "5wh" and case.due_at == at(2, 16, 30)
    newer = await desk.report(case_world[C][3], at(2, 9))
    assert newer.limits["dispose"] == "3wh" and newer.standards["manual"].endswith(f"{C}:1")


async def test_verify_clock_and_staged_deadlines(
    app_db: Database, registry: dict[str, Tenant], case_world: dict[str, list[Spot]]
) -> None:
    desk = Desk(app_db, registry[C])
    public = await desk.report(case_world[C][4], at(6, 11, 30), source=Source.HOTLINE_12345)  # Friday
    public = await desk.act(public, "send_verify", Role.INTAKE, at(6, 11, 30))
    # Verification: 1 working hour from Friday 11:30 — 30 min before lunch, 30 min after → 14:00.
    assert public.due_at == at(6, 14, 0)

    # Illegal construction (私搭乱建 06001): 15 working days, in stages counted from dispatch.
    staged = await desk.report(case_world[C][5], at(2, 9), code="06001")
    staged = await desk.act(staged, "file", Role.SHIFT_LEAD, at(2, 9, 30))
    staged = await desk.act(staged, "dispatch", Role.DISPATCHER, at(2, 10), unit=(C, "CGZF"))
    # 责令停工 4wh: 10–12 and 13:30–15:30. 立案处罚 7wd: a working day is 7.5 h, so each working
    # day from Mon 10:00 ends at the next working day's 10:00 → Wed 11 March 10:00. 拆除 15wd:
    # three weeks of five working days → Mon 23 March 10:00, which is also the case's deadline.
    assert staged.stage_due == [
        ["责令停工", at(2, 15, 30).isoformat()],
        ["立案处罚", at(11, 10).isoformat()],
        ["拆除", at(23, 10).isoformat()],
    ]
    assert staged.due_at == at(23, 10)
