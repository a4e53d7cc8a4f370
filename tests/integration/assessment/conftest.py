"""Assessment fixtures: 六安市 341500's 金安区 341502, live with the Anhui baseline, demo geography
and demo units, used by no other test; 宣城市 341800's worked roll-up (``xuancheng``). Cases are
driven through the real ``do_report`` and ``do_action`` at chosen instants, so their events are the
workflow's own."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from citylead.cases.access import Actor
from citylead.cases.actions import Given, do_action
from citylead.cases.intake import Report, do_report
from citylead.cases.models import Case, Source
from citylead.db import Database
from citylead.geography.demo import seed_demo_geography
from citylead.geography.index import Locator
from citylead.geography.models import Grid
from citylead.identity.principal import Role
from citylead.units.demo import seed_demo_units
from tenants.context import TenantContext
from tenants.models import Tenant, TenantStatus
from tenants.standards.resolver import Resolver
from tenants.standards.seeding import seed_baseline
from tests.integration.assessment.xuancheng import World, arrange

SH = ZoneInfo("Asia/Shanghai")
COUNTY, SIBLING, CITY, OTHER_CITY = "341502", "341503", "341500", "341600"


def at(month: int, day: int, hh: int, mm: int = 0) -> datetime:
    return datetime(2026, month, day, hh, mm, tzinfo=SH)


@pytest.fixture(scope="session")
async def jinan_grids(owner_db: Database, registry: dict[str, Tenant]) -> list[Grid]:
    """金安区 live with geography and units; its grids in code order."""
    province = registry["340000"]
    async with owner_db.transaction(TenantContext(province.path)) as s:
        await seed_baseline(s, Resolver(), province)
    async with owner_db.transaction(None) as s:
        await s.execute(update(Tenant).where(Tenant.code == COUNTY).values(status=TenantStatus.LIVE))
    await seed_demo_geography(owner_db, [COUNTY])
    await seed_demo_units(owner_db, [COUNTY])
    async with owner_db.transaction(None) as s:
        return list(
            await s.scalars(select(Grid).where(Grid.tenant_id == registry[COUNTY].id).order_by(Grid.code))
        )


class Desk:
    """Acting in 金安区 as the app role at chosen instants; posts are named ``ROLE-N``."""

    def __init__(self, app_db: Database, county: Tenant) -> None:
        self.db, self.county = app_db, county
        self.resolver, self.locator = Resolver(), Locator()

    def actor(self, role: Role, name: str) -> Actor:
        units = frozenset({(self.county.id, "CGZF"), (self.county.id, "HJWS")})
        return Actor(name, frozenset({role}), self.county, units if role is Role.DEPARTMENT else frozenset())

    async def report(self, grid: Grid, when: datetime, who: str, source: Source = Source.SUPERVISOR) -> Case:
        async with self.db.transaction(TenantContext(self.county.path)) as s:
            county = await s.get_one(Tenant, self.county.id)
            report = Report(
                "matter", "06012", grid.centroid_lon, grid.centroid_lat, "道路不洁", source=source
            )
            intake = await do_report(
                s, county, report, resolver=self.resolver, locator=self.locator, acting_user=who, now=when
            )
            assert intake.created
            return intake.case

    async def act(self, case: Case, name: str, role: Role, who: str, when: datetime, **given: object) -> Case:
        async with self.db.transaction(TenantContext(self.county.path)) as s:
            fresh = await s.get_one(Case, (case.tenant_id, case.id))
            return await do_action(
                s,
                fresh,
                name,
                Given(**given),  # type: ignore[arg-type]
                actor=self.actor(role, who),
                resolver=self.resolver,
                now=when,
            )


S, IN, SL, D, DEP = Role.SUPERVISOR, Role.INTAKE, Role.SHIFT_LEAD, Role.DISPATCHER, Role.DEPARTMENT


@pytest.fixture(scope="session")
async def month(app_db: Database, registry: dict[str, Tenant], jinan_grids: list[Grid]) -> list[Grid]:
    """The six cases of October 2026 described in test_rollup.py (once per session)."""
    desk, g = Desk(app_db, registry[COUNTY]), jinan_grids
    a = await desk.report(g[0], at(10, 12, 9), "sup-1")
    a = await desk.act(a, "file", SL, "sl-1", at(10, 12, 9, 30))
    a = await desk.act(a, "dispatch", D, "disp-1", at(10, 12, 10), unit=(COUNTY, "CGZF"))
    assert a.due_at == at(10, 12, 16, 30)
    a = await desk.act(a, "dispose", DEP, "dept-1", at(10, 12, 11), feedback="已清扫")
    a = await desk.act(a, "send_check", IN, "in-1", at(10, 12, 11, 30))
    a = await desk.act(a, "check_pass", S, "sup-1", at(10, 12, 11, 40))
    a = await desk.act(a, "close", SL, "sl-1", at(10, 12, 14))
    assert a.closing_type == "normal"

    b = await desk.report(g[1], at(10, 13, 9), "hotline", Source.HOTLINE_12345)
    b = await desk.act(b, "send_verify", IN, "in-1", at(10, 13, 9, 10))
    b = await desk.act(b, "verify", S, "sup-1", at(10, 13, 9, 40))
    b = await desk.act(b, "file", SL, "sl-1", at(10, 13, 10))
    b = await desk.act(b, "dispatch", D, "disp-1", at(10, 13, 10, 30), unit=(COUNTY, "CGZF"))
    assert b.due_at == at(10, 13, 17)
    b = await desk.act(b, "dispose", DEP, "dept-1", at(10, 14, 10), feedback="已清扫")
    assert b.dispose_overdue
    b = await desk.act(b, "send_check", IN, "in-1", at(10, 14, 10, 30))
    b = await desk.act(b, "check_fail", S, "sup-2", at(10, 14, 11), reason="仍有垃圾")
    assert b.due_at == at(10, 14, 17, 30)
    b = await desk.act(b, "dispose", DEP, "dept-1", at(10, 14, 14), feedback="已清扫")
    b = await desk.act(b, "send_check", IN, "in-1", at(10, 14, 14, 10))
    b = await desk.act(b, "check_pass", S, "sup-2", at(10, 14, 14, 20))
    b = await desk.act(b, "close", SL, "sl-1", at(10, 14, 15))
    assert b.closing_type == "normal"

    c = await desk.report(g[2], at(10, 15, 9), "sup-2")
    assert c.limits["file"] == c.limits["dispatch"] == "30wmin"  # the baseline's: filing due 09:30
    c = await desk.act(c, "file", SL, "sl-1", at(10, 15, 9, 45))  # 15 minutes late
    c = await desk.act(c, "void", SL, "sl-1", at(10, 15, 10), reason="重复")

    d = await desk.report(g[3], at(10, 16, 9), "sup-1")
    d = await desk.act(d, "file", SL, "sl-1", at(10, 16, 9, 30))
    d = await desk.act(d, "dispatch", D, "disp-1", at(10, 16, 10, 15), unit=(COUNTY, "CGZF"))  # due 10:00
    d = await desk.act(d, "request_postpone", DEP, "dept-1", at(10, 16, 11), reason="协调", duration="1wd")
    d = await desk.act(d, "approve_postpone", D, "disp-1", at(10, 16, 11))
    assert d.due_at is not None and at(10, 19, 0) < d.due_at < at(10, 24, 0)

    e = await desk.report(g[4], at(10, 30, 16), "sup-1")
    e = await desk.act(e, "file", SL, "sl-1", at(10, 30, 16, 10))
    e = await desk.act(e, "dispatch", D, "disp-1", at(10, 30, 16, 30), unit=(COUNTY, "CGZF"))
    assert e.due_at == at(11, 2, 14)

    f = await desk.report(g[5], at(10, 19, 9), "sup-2")
    f = await desk.act(f, "file", SL, "sl-1", at(10, 19, 9, 10))
    f = await desk.act(f, "dispatch", D, "disp-1", at(10, 19, 9, 20), unit=(COUNTY, "CGZF"))
    f = await desk.act(f, "redispatch", D, "disp-1", at(10, 19, 9, 30), unit=(COUNTY, "HJWS"), reason="错派")
    f = await desk.act(f, "dispose", DEP, "dept-1", at(10, 19, 10), feedback="已清扫")
    return g


@pytest.fixture(scope="session")
async def xuancheng(owner_db: Database, app_db: Database, registry: dict[str, Tenant]) -> World:
    """宣城市's worked roll-up (see xuancheng.py), once per session."""
    return await arrange(owner_db, app_db, registry)
