"""Refreshing many counties' roll-ups at once (``citylead assess run``): each live county-level
division below a tenant, each in its own transaction and its own context, so one failure does
not undo the others."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from citylead.assessment.rollup import Period, RefreshReport, do_refresh
from citylead.db import Database
from tenants.context import TenantContext
from tenants.models import Tenant, TenantLevel, TenantStatus

__all__ = ["live_counties", "refresh_counties"]

_DIVISIONS = (TenantLevel.MUNICIPAL_DISTRICT, TenantLevel.COUNTY_CITY, TenantLevel.COUNTY)


async def live_counties(db: Database, scope: TenantContext) -> list[Tenant]:
    """The live county-level divisions in ``scope``'s subtree, in code order."""
    async with db.transaction(scope) as s:
        rows = await s.scalars(
            select(Tenant)
            .where(
                Tenant.path.startswith(scope.path),
                Tenant.level.in_(_DIVISIONS),
                Tenant.status == TenantStatus.LIVE,
            )
            .order_by(Tenant.code)
        )
        return list(rows.all())


async def refresh_counties(
    db: Database,
    scope: TenantContext,
    period: Period,
    *,
    acting_user: str,
    on_done: Callable[[Tenant, RefreshReport], None] = lambda *_: None,
) -> list[RefreshReport]:
    """Refresh ``period`` for every live division below ``scope``; the reports in code order."""
    reports = []
    for county in await live_counties(db, scope):
        async with db.transaction(TenantContext(county.path)) as s:
            report = await do_refresh(s, county, period, acting_user=acting_user)
        reports.append(report)
        on_done(county, report)
    return reports
