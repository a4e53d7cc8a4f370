"""Generating demo history (生成演示历史): every live county-level division below a tenant, month by
month, through the bulk path (or the real one for small histories).

Generated cases carry ``external_id = "demo:YYYY-MM:NNNNNNN"`` (the month planned and the case's
place in it). A division-month already generated is refused before anything is written, naming
the months; each division-month is one transaction (cases, events and an audit event
``demo.history``), so a failure leaves no half-written month.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from citylead.assessment.rollup import Period
from citylead.assessment.runs import live_counties
from citylead.cases.models import Case
from citylead.db import Database
from citylead.geography.index import Locator
from citylead.history.bulk import Rows, case_numbers, insert_rows, rows_of
from citylead.history.profile import USUAL, Mix
from citylead.history.replay import replay
from citylead.history.script import EXTERNAL_PREFIX, MonthPlanner
from citylead.history.simulate import Plan, Simulation
from citylead.history.world import load_world
from tenants.audit import record
from tenants.context import TenantContext
from tenants.errors import Conflict, FieldProblem, InvalidInput
from tenants.models import Tenant
from tenants.standards.resolver import Resolver

__all__ = [
    "DEFAULT_SEED",
    "SH",
    "HistoryReport",
    "Job",
    "Writes",
    "generate_division",
    "generate_divisions",
    "generate_history",
    "months_ending",
    "seed_demo_history",
]

DEFAULT_SEED = "citylead-demo"
SH = ZoneInfo("Asia/Shanghai")


@dataclass
class HistoryReport:
    divisions: int = 0
    cases: int = 0
    events: int = 0
    seconds: float = 0.0
    months: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.cases / self.seconds if self.seconds else 0.0


def months_ending(end: str, months: int) -> list[Period]:
    """The ``months`` months up to and including ``end`` (``2026-11``), oldest first."""
    last = Period.parse(end)
    if len(last.label) != 7:
        raise InvalidInput(
            "end must be a month", errors=[FieldProblem("end", "a month such as 2026-11", end)]
        )
    if months < 1:
        raise InvalidInput("months must be positive", errors=[FieldProblem("months", "at least 1", months)])
    year, month = int(end[:4]), int(end[5:])
    out = []
    for back in range(months - 1, -1, -1):
        index = year * 12 + month - 1 - back
        out.append(Period.parse(f"{index // 12}-{index % 12 + 1:02d}"))
    return out


async def _generated(db: Database, county: Tenant) -> set[str]:
    """The months already generated in the county."""
    async with db.transaction(TenantContext(county.path)) as s:
        rows = await s.scalars(
            select(func.split_part(Case.external_id, ":", 2))
            .where(Case.tenant_id == county.id, Case.external_id.startswith(EXTERNAL_PREFIX))
            .distinct()
        )
        return set(rows)


@dataclass(frozen=True)
class Job:
    """What to generate in each division (picklable: worker processes get it as is)."""

    periods: tuple[str, ...]
    per_division_month: int
    acting_user: str
    seed: str
    now: datetime
    real: bool = False
    mix: Mix = USUAL


MonthDone = Callable[[Tenant, str, int, int], None]  # county, month, cases, events


async def _write_month(db: Database, county: Tenant, job: Job, label: str, rows: Rows) -> int:
    """One division-month in one transaction: its cases, events and audit event."""
    async with db.transaction(TenantContext(county.path)) as s:
        cases, events = await insert_rows(s, rows)
        await record(
            s,
            county.id,
            actor=job.acting_user,
            action="demo.history",
            subject=f"{county.code}/{label}",
            cases=cases,
            events=events,
            seed=job.seed,
        )
    return events


class Writes:
    """The division-month being written while the next one is planned (at most one at a time,
    across divisions too: a worker plans the next division's first month meanwhile)."""

    def __init__(self, db: Database, job: Job, on_month: MonthDone) -> None:
        self.db, self.job, self.on_month = db, job, on_month
        self._task: asyncio.Task[int] | None = None
        self._month: tuple[Tenant, str, int] | None = None

    async def start(self, county: Tenant, label: str, cases: int, rows: Rows) -> None:
        """Wait for the month in flight (reporting it), then start writing this one."""
        await self.wait()
        self._task = asyncio.create_task(_write_month(self.db, county, self.job, label, rows))
        self._month = (county, label, cases)

    async def wait(self) -> None:
        if self._task is not None and self._month is not None:
            task, (county, label, cases) = self._task, self._month
            self._task = self._month = None
            self.on_month(county, label, cases, await task)

    async def settle(self) -> None:
        """After an error elsewhere: let the month being written commit or fail whole."""
        if self._task is not None and not self._task.done():
            await asyncio.gather(self._task, return_exceptions=True)


async def generate_division(
    db: Database, county: Tenant, job: Job, on_month: MonthDone, *, writes: Writes | None = None
) -> None:
    """One division's months, each in one transaction (bulk) or replayed (real). The bulk path
    plans the next month in a thread while the database takes the previous one; given ``writes``
    (shared by the divisions of one process), the last month may still be in flight on return."""
    context, resolver, locator = TenantContext(county.path), Resolver(), Locator()
    async with db.transaction(context) as s:
        world = await load_world(s, county, resolver=resolver, locator=locator)
    planner = MonthPlanner(Simulation(world), seed=job.seed, horizon=job.now, mix=job.mix)
    n = job.per_division_month
    own = writes is None
    writes = writes or Writes(db, job, on_month)

    def plan(label: str, ids: list[tuple[uuid.UUID, int]]) -> tuple[list[Plan], Rows]:
        period = Period.parse(label)
        planned = planner.plan_month(label, period.start, period.end, n, ids)
        return [p for p, _ in planned], rows_of([b for _, b in planned])

    try:
        for label in job.periods:
            if Period.parse(label).start >= job.now:
                on_month(county, label, 0, 0)
                continue
            if job.real:
                plans, rows = plan(label, [(uuid.uuid4(), 0) for _ in range(n)])  # intake numbers them
                await replay(db, county, plans, resolver=resolver, locator=locator)
                on_month(county, label, n, len(rows[1]))
                continue
            async with db.transaction(context) as s:
                ids = [(uuid.uuid4(), number) for number in await case_numbers(s, n)]
            _, rows = await asyncio.to_thread(plan, label, ids)
            await writes.start(county, label, n, rows)
        if own:
            await writes.wait()
    except BaseException:
        await writes.settle()
        raise


async def generate_divisions(
    db: Database, counties: AsyncIterable[Tenant], job: Job, on_month: MonthDone
) -> None:
    """Divisions one after another in this process, pipelined: each month (the next division's
    first one too) is planned while the previous one is written."""
    writes = Writes(db, job, on_month)
    try:
        async for county in counties:
            await generate_division(db, county, job, on_month, writes=writes)
        await writes.wait()
    except BaseException:
        await writes.settle()
        raise


async def _each(counties: list[Tenant]) -> AsyncIterator[Tenant]:
    for county in counties:
        yield county


async def generate_history(
    db: Database,
    scope: TenantContext,
    periods: list[Period],
    per_division_month: int,
    *,
    acting_user: str,
    seed: str = DEFAULT_SEED,
    now: datetime | None = None,
    real: bool = False,
    mix: Mix = USUAL,
    jobs: int = 1,
    on_month: MonthDone = lambda *_: None,
    on_start: Callable[[int], None] = lambda _: None,
) -> HistoryReport:
    """Cases for every live division below ``scope`` in ``periods``; nothing after ``now``.
    ``jobs`` > 1 generates that many divisions at once in worker processes (bulk path only).

    Refused (409, naming them) if any of those division-months were generated before."""
    started = time.monotonic()
    job = Job(
        tuple(p.label for p in periods),
        per_division_month,
        acting_user,
        seed,
        now or datetime.now(periods[-1].start.tzinfo),
        real,
        mix,
    )
    counties = await live_counties(db, scope)
    taken = {c.code: sorted(set(job.periods) & await _generated(db, c)) for c in counties}
    if clash := {code: months for code, months in taken.items() if months}:
        named = "; ".join(f"{code}: {', '.join(months)}" for code, months in sorted(clash.items()))
        raise Conflict(f"demo history already generated for {named}", generated=clash)
    on_start(len(counties) * len(periods))
    report = HistoryReport(divisions=len(counties), months=list(job.periods))

    def done(county: Tenant, month: str, cases: int, events: int) -> None:
        report.cases += cases
        report.events += events
        on_month(county, month, cases, events)

    if jobs > 1 and not real and len(counties) > 1:
        from citylead.history.workers import in_processes

        await in_processes(db, counties, job, jobs, done)
    else:
        await generate_divisions(db, _each(counties), job, done)
    report.seconds = time.monotonic() - started
    return report


async def seed_demo_history(
    db: Database,
    *,
    months: int = 6,
    per_division_month: int = 40,
    scope: TenantContext | None = None,
    acting_user: str = "system:demo",
    now: datetime | None = None,
) -> HistoryReport | None:
    """A small history for a fresh demo (``citylead up``): ``months`` months up to the current one
    for every live division of the demo province; None if any was generated before."""
    from citylead.demo import DEMO_PROVINCE

    scope = scope or TenantContext(f"/{DEMO_PROVINCE[:2]}/")
    now = now or datetime.now(SH)
    periods = months_ending(f"{now:%Y-%m}", months)
    try:
        return await generate_history(
            db, scope, periods, per_division_month, acting_user=acting_user, now=now
        )
    except Conflict:
        return None
