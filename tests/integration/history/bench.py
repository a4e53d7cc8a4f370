# ruff: noqa: T201
"""Measuring the bulk path (not collected by pytest): ``python -m tests.integration.history.bench``.

A database ``citylead_history_bench_seed`` on ``CITYLEAD_TEST_DATABASE_URL``'s server holds the
seeded demo province (built once: registry, baselines, the demo's 22 live divisions with
geography, units and inventory); each run copies it to a fresh database and generates there.

- ``plan CODE N``: plan and build one month of N cases in CODE, in memory only (cProfile with
  ``--profile``): the Python cost.
- ``month CODE N [--jobs J] [--months M]``: ``generate_history`` for the M months up to 2026-10
  of CODE (or of every live division below it), written to the copy.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import resource
import time
import uuid
from datetime import datetime

import asyncpg

from citylead.assessment.rollup import Period
from citylead.db import Database
from citylead.db.migrate import upgrade
from citylead.db.roles import DatabaseUrls, bootstrap, to_asyncpg
from citylead.geography.index import Locator
from citylead.history.bulk import rows_of
from citylead.history.generate import SH, generate_history, months_ending
from citylead.history.script import MonthPlanner
from citylead.history.simulate import Simulation
from citylead.history.world import load_world
from tenants.context import TenantContext
from tenants.models import Tenant
from tenants.standards.resolver import Resolver

ADMIN = os.environ.get("CITYLEAD_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
SEEDED = "citylead_history_bench_seed"
MONTH = Period.parse("2026-10")
NOW = datetime(2026, 11, 20, tzinfo=SH)


async def _urls(name: str) -> DatabaseUrls:
    return await bootstrap(ADMIN, owner_role="citylead_owner", app_role="citylead_app", database=name)


async def _exists(name: str) -> bool:
    conn = await asyncpg.connect(to_asyncpg(ADMIN))
    try:
        return bool(await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name))
    finally:
        await conn.close()


async def _seed(urls: DatabaseUrls) -> None:
    from citylead.demo import seed_demo

    owner = Database(urls.owner, role=urls.owner_role, pool_size=2)
    try:
        await seed_demo(owner, provisioner_secret="bench")
    finally:
        await owner.dispose()


def _seeded() -> None:
    """The seeded template (built once; alembic runs its own event loop, so outside ours)."""
    if asyncio.run(_exists(SEEDED)):
        return
    urls = asyncio.run(_urls(SEEDED))
    upgrade(urls, app_role="citylead_app")
    asyncio.run(_seed(urls))


async def _copy() -> DatabaseUrls:
    name = f"citylead_history_bench_{uuid.uuid4().hex[:6]}"
    conn = await asyncpg.connect(to_asyncpg(ADMIN))
    try:
        await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{SEEDED}" OWNER citylead_owner')
    finally:
        await conn.close()
    return await _urls(name)


async def _drop(urls: DatabaseUrls) -> None:
    name = urls.app.rsplit("/", 1)[-1]
    conn = await asyncpg.connect(to_asyncpg(ADMIN))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def _tenant(db: Database, code: str) -> Tenant:
    from sqlalchemy import select

    async with db.transaction(TenantContext(f"/{code[:2]}/")) as s:
        found = await s.scalar(select(Tenant).where(Tenant.code == code))
    assert found is not None, code
    return found


async def plan(code: str, n: int, profile: bool, repeat: int) -> None:
    urls = await _copy()
    db = Database(urls.app, pool_size=1)
    try:
        county = await _tenant(db, code)
        async with db.transaction(TenantContext(county.path)) as s:
            world = await load_world(s, county, resolver=Resolver(), locator=Locator())
    finally:
        await db.dispose()
        await _drop(urls)
    for r in range(repeat):
        planner = MonthPlanner(Simulation(world), seed=f"bench{r}", horizon=NOW)
        ids = [(uuid.uuid4(), i + 1) for i in range(n)]
        profiler = cProfile.Profile() if profile else None
        started, cpu = time.perf_counter(), time.process_time()
        if profiler:
            profiler.enable()
        built = planner.plan_month(MONTH.label, MONTH.start, MONTH.end, n, ids)
        planned = time.process_time()
        rows = rows_of([b for _, b in built])
        if profiler:
            profiler.disable()
        wall, done = time.perf_counter() - started, time.process_time()
        print(
            f"{code} {n} cases, {len(rows[1])} events: {wall:.2f} s wall, cpu plan {planned - cpu:.2f} s"
            f" + rows {done - planned:.2f} s = {n / (done - cpu):.0f} cases/cpu-s;"
            f" load {os.getloadavg()[0]:.1f}"
        )
        if profiler:
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)
            pstats.Stats(profiler).sort_stats("tottime").print_stats(30)


def _cpu() -> float:
    """User + system CPU of this process and its finished workers (not the database server's)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


async def month(code: str, n: int, jobs: int, months: int) -> None:
    urls = await _copy()
    db = Database(urls.app, pool_size=2)
    try:
        scope = await _tenant(db, code)
        cpu = _cpu()
        report = await generate_history(
            db,
            TenantContext(scope.path),
            months_ending(MONTH.label, months),
            n,
            acting_user="bench",
            now=NOW,
            jobs=jobs,
        )
        cpu = _cpu() - cpu
        print(
            f"{code} jobs={jobs}: {report.divisions} divisions, {report.cases} cases, {report.events} events"
            f" in {report.seconds:.1f} s = {report.rate:.0f} cases/s; Python CPU {cpu:.1f} s"
            f" ({report.cases / cpu:.0f} cases/cpu-s); load {os.getloadavg()[0]:.1f}"
        )
    finally:
        await db.dispose()
        await _drop(urls)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["plan", "month"])
    parser.add_argument("code")
    parser.add_argument("n", type=int)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--months", type=int, default=1)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    _seeded()
    if args.what == "plan":
        asyncio.run(plan(args.code, args.n, args.profile, args.repeat))
    else:
        asyncio.run(month(args.code, args.n, args.jobs, args.months))


if __name__ == "__main__":
    main()
