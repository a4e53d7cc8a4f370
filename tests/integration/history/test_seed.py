"""``seed_demo_history``: the small history ``citylead up`` seeds, in 砀山县 341321 only; a second
call finds it generated and leaves it alone."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from citylead.cases.models import Case
from citylead.db import Database
from citylead.history.generate import seed_demo_history
from tenants.context import TenantContext
from tenants.models import Tenant
from tests.integration.history.conftest import SIBLING

NOW = datetime(2026, 8, 20, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


async def test_seed_demo_history_once(app_db: Database, suzhou: dict[str, Tenant]) -> None:
    county = suzhou[SIBLING]
    scope = TenantContext(county.path)
    report = await seed_demo_history(app_db, months=3, per_division_month=12, scope=scope, now=NOW)
    assert report is not None
    assert (report.divisions, report.cases, report.months) == (1, 36, ["2026-06", "2026-07", "2026-08"])
    async with app_db.transaction(scope) as s:
        month = func.split_part(Case.external_id, ":", 2)
        seeded = month.in_(report.months)  # test_pipeline generates other months here
        rows = await s.execute(
            select(month, func.count()).where(Case.tenant_id == county.id, seeded).group_by(month)
        )
        months = Counter(tuple(r) for r in rows.all())
        latest = await s.scalar(select(func.max(Case.updated_at)).where(Case.tenant_id == county.id, seeded))
    assert months == Counter({("2026-06", 12): 1, ("2026-07", 12): 1, ("2026-08", 12): 1})
    assert latest is not None and latest <= NOW  # nothing happens after "now"
    assert await seed_demo_history(app_db, months=3, per_division_month=12, scope=scope, now=NOW) is None
