"""Refreshing many counties' roll-ups at once (``citylead assess run``, the scheduled refresh):
each live county-level division below a tenant, each in its own transactions and its own context,
so one failure does not undo the others; ``concurrency`` counties at a time, each on its own
connection (the sums run in PostgreSQL, so two connections use two cores)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from sqlalchemy import select, text

from citylead.assessment.fact_store import BATCH, update_facts
from citylead.assessment.rollup import Period, RefreshReport, do_refresh
from citylead.db import Database
from tenants.context import TenantContext
from tenants.models import Tenant, TenantLevel, TenantStatus

__all__ = ["CONCURRENCY", "each_county", "live_counties", "refresh_counties", "refresh_county"]

CONCURRENCY = 2
"""Counties refreshed at once by default (one connection each)."""
_DIVISIONS = (TenantLevel.MUNICIPAL_DISTRICT, TenantLevel.COUNTY_CITY, TenantLevel.COUNTY)
T = TypeVar("T")


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


async def refresh_county(
    db: Database, county: Tenant, periods: Sequence[Period], *, acting_user: str, batch: int = BATCH
) -> list[RefreshReport]:
    """Bring the county's facts up to date, then refresh ``periods`` in one transaction, in its own
    context. A backlog of stale cases (a first build) is rebuilt ``batch`` cases per transaction
    first, so that no transaction holds it all; usually there is one transaction.

    The commit does not wait for the disk (``synchronous_commit``): a refresh lost in a crash is
    recounted by the next, and its facts and claims are lost with it."""
    while True:
        async with db.transaction(TenantContext(county.path)) as s:
            await s.execute(text("SET LOCAL synchronous_commit TO off"))
            if await update_facts(s, county, limit=batch) < batch:
                return [await do_refresh(s, county, p, acting_user=acting_user) for p in periods]


async def each_county(
    counties: Sequence[Tenant],
    work: Callable[[Tenant], Awaitable[T]],
    *,
    concurrency: int = CONCURRENCY,
    on_done: Callable[[Tenant, T | BaseException], None] = lambda *_: None,
) -> list[T | BaseException]:
    """``work`` for every county, ``concurrency`` at a time; the results (or the exception each
    raised) in the counties' order, and ``on_done`` called in that order as they finish."""
    gate = asyncio.Semaphore(max(1, concurrency))
    finished: dict[int, T | BaseException] = {}
    told = 0

    async def one(i: int, county: Tenant) -> None:
        nonlocal told
        async with gate:
            try:
                finished[i] = await work(county)
            except Exception as exc:
                finished[i] = exc
        while told in finished:
            on_done(counties[told], finished[told])
            told += 1

    await asyncio.gather(*(one(i, c) for i, c in enumerate(counties)))
    return [finished[i] for i in range(len(counties))]


async def refresh_counties(
    db: Database,
    scope: TenantContext,
    period: Period,
    *,
    acting_user: str,
    on_done: Callable[[Tenant, RefreshReport], None] = lambda *_: None,
    concurrency: int = CONCURRENCY,
) -> list[RefreshReport]:
    """Refresh ``period`` for every live division below ``scope``; the reports in code order. The
    first county that fails raises (after the others have finished)."""

    def done(county: Tenant, result: list[RefreshReport] | BaseException) -> None:
        if not isinstance(result, BaseException):
            on_done(county, result[0])

    results = await each_county(
        await live_counties(db, scope),
        lambda county: refresh_county(db, county, [period], acting_user=acting_user),
        concurrency=concurrency,
        on_done=done,
    )
    reports = []
    for result in results:
        if isinstance(result, BaseException):
            raise result
        reports += result
    return reports
