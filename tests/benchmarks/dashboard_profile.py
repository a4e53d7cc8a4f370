"""Where a slow roll-up or reader spends its time, in process: the SQL statements it sends (each
timed, then ``EXPLAIN (ANALYZE, BUFFERS)``-ed in the same tenant context) and a cProfile of the
Python side."""

from __future__ import annotations

import cProfile
import io
import pstats
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

from citylead.db import Database
from tenants.context import TenantContext

__all__ = ["Profiled", "Statement", "explain", "profiled"]


@dataclass
class Statement:
    sql: str
    params: Any
    ms: float


@dataclass
class Profiled:
    seconds: float
    statements: list[Statement] = field(default_factory=list)
    top: str = ""  # cProfile, by cumulative time

    @property
    def sql_seconds(self) -> float:
        return sum(s.ms for s in self.statements) / 1000

    def slowest(self) -> Statement:
        return max(self.statements, key=lambda s: s.ms)


@contextmanager
def _captured(engine: Engine) -> Iterator[list[Statement]]:
    found: list[Statement] = []
    started: list[float] = []

    def before(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        started.append(time.perf_counter())

    def after(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        found.append(Statement(statement, parameters, (time.perf_counter() - started.pop()) * 1000))

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        yield found
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)


async def profiled(
    db: Database, fn: Callable[[], Awaitable[object]], *, lines: int = 25, python: bool = True
) -> Profiled:
    """Run ``fn`` once, recording every statement sent through ``db``'s engine, under cProfile if
    ``python`` (which slows the Python side 2–5×). A statement's time is until the driver
    returned its rows, before the ORM builds objects."""
    profile = cProfile.Profile()
    with _captured(db.engine.sync_engine) as statements:
        t0 = time.perf_counter()
        if python:
            profile.enable()
        try:
            await fn()
        finally:
            profile.disable()
        seconds = time.perf_counter() - t0
    out = io.StringIO()
    if python:
        pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(lines)
    return Profiled(seconds, statements, out.getvalue())


async def explain(db: Database, context: TenantContext, statement: Statement) -> str:
    """``EXPLAIN (ANALYZE, BUFFERS)`` of a captured statement in ``context`` (the app role's RLS)."""
    sql = statement.sql
    params = statement.params
    async with db.transaction(context) as s:
        conn = await s.connection()
        raw = (await conn.get_raw_connection()).driver_connection
        assert raw is not None
        args = list(params) if isinstance(params, (tuple, list)) else []
        rows = await raw.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", *args)
    return "\n".join(r[0] for r in rows)


# -- the readers behind the slow callbacks --------------------------------------------------------


@dataclass
class ReaderProfile:
    what: str
    profiled: Profiled
    plan: str  # EXPLAIN (ANALYZE, BUFFERS) of the slowest statement


async def profile_readers(app_url: str, month: str, *, now: Any, python: bool = False) -> list[ReaderProfile]:
    """Each reader call a page makes for ``province_supervisor@320000`` (the province's scope),
    once warm, in process against the same database as the app role (cProfile if ``python``)."""
    from citylead.assessment.rollup import Period
    from citylead.identity.principal import Principal, Role
    from dashboard.data import DatabaseReader
    from dashboard.pages.performance import child_type
    from dashboard.periods import months_before
    from tenants.models import TenantLevel

    principal = Principal(
        "bench", "province_supervisor@320000", frozenset({Role.PROVINCE_SUPERVISOR}), "/32/"
    )
    db = Database(app_url, pool_size=1)
    reader = DatabaseReader(db)
    period = Period.parse(month)
    since, until = period.start.date(), period.end.date()
    codes = [p.code for p in await reader.places(principal) if p.level.is_division]
    calls: list[tuple[str, Callable[[], Awaitable[object]]]] = [
        ("coverage(province)", lambda: reader.coverage(principal, now=now, city=None)),
        (f"boundaries({len(codes)} divisions)", lambda: reader.boundaries(principal, codes)),
        (
            "assessments(city)",
            lambda: reader.assessments(principal, period=month, tenant=None, subject_type="city"),
        ),
        (
            "trend(12 months × province, city)",
            lambda: reader.trend(
                principal,
                periods=months_before(month),
                tenant=None,
                subject_types=["province", child_type(TenantLevel.PROVINCE)],
            ),
        ),
        (
            "case_volume(province, month)",
            lambda: reader.case_volume(principal, since=since, until=until, tenant=None),
        ),
        ("case_clocks(province)", lambda: reader.case_clocks(principal, now=now, tenant=None)),
    ]
    out = []
    try:
        for what, call in calls:
            await call()  # warm: the resolver's cache, the plan cache
            found = await profiled(db, call, lines=12, python=python)
            plan = await explain(db, principal.context, found.slowest()) if found.statements else ""
            out.append(ReaderProfile(what, found, plan))
    finally:
        await db.dispose()
    return out
