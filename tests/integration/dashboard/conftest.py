"""Dashboard data on PostgreSQL: 滁州市 341100 (琅琊区 341102, 南谯区 341103) and 阜阳市 341200
(颍州区 341202), used by no other module for cases or counters. Cases are inserted as the owner
with fixed instants around ``NOW``; the daily volume is then counted as the application role.

| case | county | class | grid | reported (Beijing) | clock at NOW |
|---|---|---|---|---|---|
| c1 | 341102 | matter 06012 | G1 | 2026-09-10 10:00 | none (closed) |
| c2 | 341102 | matter 06012 | G1 | 2026-09-10 11:00 | green (warn in 1 h) |
| c3 | 341102 | matter 01001 | G2 | 2026-09-11 09:00 | yellow (due in 1 h) |
| c4 | 341102 | component 0101 | — | 2026-09-12 09:00 | red, 26.5 h overdue |
| c5 | 341102 | matter 06012 | G1 | 2026-08-31 23:30 | none (August) |
| c6 | 341102 | matter 06012 | G1 | 2026-10-01 00:30 | none (October in Beijing, September in UTC) |
| c7 | 341103 | matter 06012 | G3 | 2026-09-15 09:00 | red, 2 h overdue |
| c8 | 341103 | matter 06012 | G3 | 2026-09-16 09:00 | paused (parked) |
| c9 | 341202 | matter 06012 | F1 | 2026-09-15 09:00 | red, 100 h overdue |
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from citylead.assessment.rollup import Period
from citylead.cases.models import Case
from citylead.cases.volume import do_refresh_volume
from citylead.db import Database
from tenants.context import TenantContext
from tenants.models import Tenant
from tenants.standards.resolver import Resolver
from tenants.standards.seeding import seed_baseline

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 20, 10, tzinfo=SH)
LANGYA, NANQIAO, CHUZHOU, YINGZHOU, FUYANG = "341102", "341103", "341100", "341202", "341200"
G1, G2, G3, F1 = "341102001001001", "341102001001002", "341103001001001", "341202001001001"
H = timedelta(hours=1)


def sh(month: int, day: int, hh: int, mm: int = 0) -> datetime:
    return datetime(2026, month, day, hh, mm, tzinfo=SH)


# name → (county, kind, class, grid, reported, (warn_at, due_at) or None, paused)
CASES: dict[str, tuple[str, str, str, str | None, datetime, tuple[datetime, datetime] | None, bool]] = {
    "c1": (LANGYA, "matter", "06012", G1, sh(9, 10, 10), None, False),
    "c2": (LANGYA, "matter", "06012", G1, sh(9, 10, 11), (NOW + H, NOW + 3 * H), False),
    "c3": (LANGYA, "matter", "01001", G2, sh(9, 11, 9), (NOW - H, NOW + H), False),
    "c4": (LANGYA, "component", "0101", None, sh(9, 12, 9), (NOW - 30 * H, NOW - 26.5 * H), False),
    "c5": (LANGYA, "matter", "06012", G1, sh(8, 31, 23, 30), None, False),
    "c6": (LANGYA, "matter", "06012", G1, sh(10, 1, 0, 30), None, False),
    "c7": (NANQIAO, "matter", "06012", G3, sh(9, 15, 9), (NOW - 4 * H, NOW - 2 * H), False),
    "c8": (NANQIAO, "matter", "06012", G3, sh(9, 16, 9), None, True),
    "c9": (YINGZHOU, "matter", "06012", F1, sh(9, 15, 9), (NOW - 110 * H, NOW - 100 * H), False),
}


def _case(name: str, county: Tenant) -> Case:
    _, kind, code, grid, reported, clock, paused = CASES[name]
    running = clock is not None or paused
    return Case(
        tenant_id=county.id,
        number=f"H3-{county.code}-{name}",
        kind=kind,
        class_code=code,
        class_name=f"类{code}",
        urgency="normal",
        source="supervisor",
        description=name,
        address=f"{name} 路" if name != "c7" else None,
        lon=118.3,
        lat=32.3,
        grid_code=grid,
        state="dispatched" if running else "closed",
        standards={},
        command_tenant_id=county.id,
        reported_by="sup-h3",
        reported_at=reported,
        step="dispose" if running else None,
        warn_at=clock[0] if clock else None,
        due_at=clock[1] if clock else None,
        unit_name="环卫所" if running else None,
    )


@pytest.fixture(scope="session")
async def case_stats(owner_db: Database, app_db: Database, registry: dict[str, Tenant]) -> dict[str, Case]:
    """The cases above, and their daily volume for August to October counted as the app role."""
    province = registry["340000"]
    async with owner_db.transaction(TenantContext(province.path)) as s:
        await seed_baseline(s, Resolver(), province)
    async with owner_db.transaction(None) as s:
        cases = {name: _case(name, registry[row[0]]) for name, row in CASES.items()}
        s.add_all(cases.values())
    for code in (LANGYA, NANQIAO, YINGZHOU):
        county = registry[code]
        async with app_db.transaction(TenantContext(county.path)) as s:
            for period in ("2026Q3", "2026-10"):
                await do_refresh_volume(s, county, Period.parse(period), acting_user="t")
    return cases
