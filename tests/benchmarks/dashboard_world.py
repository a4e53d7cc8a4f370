"""The dashboard benchmark's world (5 million cases): built once, kept between runs.

Two homes under ``.benchmarks/`` (git-ignored), each with a marker file recording what was built
and how long each stage took:

- ``dashboard-base/``: ``citylead up`` (the demo province, 3 cities live), then one ``citylead
  onboard manifest`` for every other Jiangsu division (test_onboarding's plan and manifest, with
  its small sample inputs): all 95 divisions live. Marker ``base.json``.
- ``dashboard-<total>/``: a copy of the base home, then ``citylead demo generate --months 12
  --cases-per-division-month N --tenant 320000 --end 2026-10`` (2025-11 … 2026-10) with N = total ÷
  (95 × 12), ``citylead migrate`` (the schema may be newer than the base's), the volume roll-up of
  the 12 months (``do_refresh_volume`` per division, what the job ``cases.refresh_stats`` runs) and
  ``citylead assess run --period M --tenant 320000`` for each of the 12 months (or the last few:
  ``CITYLEAD_BENCH_DASHBOARD_ASSESS``), then ``VACUUM (ANALYZE)`` of the big tables (what
  autovacuum does once the bulk load has settled). Marker ``world.json``.

``CITYLEAD_BENCH_DASHBOARD_CASES`` chooses the total (default 5,000,000; 200000 for a trial).
``python -m tests.benchmarks.dashboard_world`` builds it outside pytest (it takes hours at 5M).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from citylead.db import Database
from citylead.db.roles import DatabaseUrls
from provisioning.samples import write_sample_inputs
from tenants.context import TenantContext
from tests.benchmarks.onboarding_home import Home, Run, owner_connection, province_status
from tests.benchmarks.test_onboarding import PROVINCE, SMALL, _manifest, _plan

__all__ = [
    "DIVISIONS",
    "END",
    "MONTHS",
    "PERIODS",
    "World",
    "assessed_months",
    "build_world",
    "redo_rewritten",
    "relation_sizes",
    "total_cases",
]

ROOT = Path(__file__).resolve().parents[2] / ".benchmarks"
DIVISIONS, MONTHS = 95, 12
END = "2026-10"  # the last complete month when this was written; every month of the year is whole
PERIODS = tuple(f"{y}-{m:02d}" for y, m in [(2025, 11), (2025, 12)] + [(2026, m) for m in range(1, 11)])
DEFAULT_TOTAL = 5_000_000
GENERATED = re.compile(r"(\d+) division\(s\), (\d+) cases, (\d+) events in ([0-9.]+) s \((\d+) cases/s\)")
SIZED = ("cases", "case_events", "assessment_counters", "case_volume")


def total_cases() -> int:
    return int(os.environ.get("CITYLEAD_BENCH_DASHBOARD_CASES", DEFAULT_TOTAL))


def _jobs() -> str:
    return os.environ.get("CITYLEAD_BENCH_DASHBOARD_JOBS", "2")


def assessed_months() -> tuple[str, ...]:
    """The months the build assesses: the last ``CITYLEAD_BENCH_DASHBOARD_ASSESS`` (default all 12;
    a month's roll-up reads the year before it, so at a million cases and more each takes many
    minutes)."""
    return PERIODS[-int(os.environ.get("CITYLEAD_BENCH_DASHBOARD_ASSESS", MONTHS)) :]


@dataclass
class World:
    """A built world: its home and what building it took (the marker's contents)."""

    home: Home
    total: int
    stages: dict[str, Any] = field(default_factory=dict)

    @property
    def per_division_month(self) -> int:
        return max(1, round(self.total / (DIVISIONS * MONTHS)))


def _load(marker: Path) -> dict[str, Any]:
    return json.loads(marker.read_text()) if marker.exists() else {}


def _save(marker: Path, stages: dict[str, Any]) -> None:
    marker.write_text(json.dumps(stages, indent=2, ensure_ascii=False))


def _checked(run: Run) -> Run:
    if run.returncode != 0:
        raise RuntimeError(f"citylead {' '.join(run.args)} failed:\n{run.output[-5000:]}")
    return run


def _stage(run: Run) -> dict[str, Any]:
    return {"seconds": round(run.seconds, 2), "cpu_seconds": round(run.cpu_seconds, 2)}


def _base() -> tuple[Home, dict[str, Any]]:
    """The onboarded province (all 95 divisions live), built once."""
    base = ROOT / "dashboard-base"
    home, marker = Home(base / "home"), base / "base.json"
    stages = _load(marker)
    if stages.get("done"):
        return home, stages
    if base.exists():  # an interrupted build: start again
        shutil.rmtree(base)
    base.mkdir(parents=True)
    stages["seed_seconds"] = round(home.seed(history_months=0), 2)  # the world generates its own
    with home.database() as urls:
        plan, tenants = asyncio.run(_plan(urls))
    t0 = time.perf_counter()
    for code in plan.divisions:
        write_sample_inputs(tenants[code], base / "inputs" / code, **SMALL)
    stages["inputs_seconds"] = round(time.perf_counter() - t0, 2)
    manifest = _manifest(plan, base / "inputs", 2)
    run = _checked(
        home.citylead("onboard", "manifest", str(manifest), "--concurrency", "2", "--processes", "2")
    )
    stages["onboard"] = {**_stage(run), "cities": len(plan.cities), "divisions": len(plan.divisions)}
    with home.database() as urls:
        status = asyncio.run(_status(urls))
    divisions = [c for c, (level, _, _) in status.items() if level not in ("province", "prefecture_city")]
    not_live = {c: st for c, (_, st, _) in status.items() if st != "live"}
    if not_live or len(divisions) != DIVISIONS:
        raise RuntimeError(f"after the manifest: {len(divisions)} divisions, not live: {not_live}")
    stages["done"] = True
    _save(marker, stages)
    return home, stages


async def _status(urls: DatabaseUrls) -> dict[str, tuple[str, str, str]]:
    async with owner_connection(urls) as conn:
        return await province_status(conn, PROVINCE)


async def _refresh_volume(urls: DatabaseUrls) -> dict[str, Any]:
    """The volume roll-up of the 12 months for every live division (what ``cases.refresh_stats``
    runs), each division in one transaction."""
    from citylead.assessment.rollup import Period
    from citylead.assessment.runs import live_counties
    from citylead.cases.volume import do_refresh_volume

    db = Database(urls.app, pool_size=1)
    try:
        counties = await live_counties(db, TenantContext(f"/{PROVINCE[:2]}/"))
        rows = cases = 0
        for county in counties:
            async with db.transaction(TenantContext(county.path)) as s:
                for label in PERIODS:
                    report = await do_refresh_volume(
                        s, county, Period.parse(label), acting_user="system:bench"
                    )
                    rows, cases = rows + report.rows, cases + report.cases
        return {"divisions": len(counties), "rows": rows, "cases": cases}
    finally:
        await db.dispose()


async def _case_stats_rewritten(urls: DatabaseUrls) -> bool:
    """Whether migration 0014 changed in place after this home was migrated (its volume table is
    missing): then its old objects are dropped and the version set back to 0013, so that
    ``citylead migrate`` applies the current 0014. Only for this benchmark's own homes."""
    from citylead.cases.volume import CaseVolume

    async with owner_connection(urls) as conn:
        if await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", CaseVolume.__tablename__):
            return False
        async with conn.transaction():
            await conn.execute("DROP TABLE IF EXISTS case_volume_daily")
            await conn.execute("DROP INDEX IF EXISTS ix_cases_running")
            await conn.execute("UPDATE alembic_version SET version_num = '0013'")
        return True


async def _facts_rewritten(urls: DatabaseUrls) -> bool:
    """The same for migration 0015 (assessment facts), applied before ``assessment_sums`` was in it."""
    async with owner_connection(urls) as conn:
        if await conn.fetchval("SELECT version_num <> '0015' FROM alembic_version"):
            return False
        if await conn.fetchval("SELECT to_regclass('assessment_sums') IS NOT NULL"):
            return False
        async with conn.transaction():
            await conn.execute("DROP TRIGGER IF EXISTS assessment_stale_mark ON case_events")
            await conn.execute("DROP FUNCTION IF EXISTS citylead_assessment_stale_mark()")
            await conn.execute("DROP TABLE IF EXISTS assessment_stale, assessment_facts CASCADE")
            await conn.execute("UPDATE alembic_version SET version_num = '0014'")
        return True


async def redo_rewritten(urls: DatabaseUrls) -> list[str]:
    """Migrations changed in place (uncommitted work of 2026-11-22) that this home has in an older
    form: set back, so that ``citylead migrate`` applies them as they are now."""
    redone = ["0015"] if await _facts_rewritten(urls) else []
    return [*(["0014"] if await _case_stats_rewritten(urls) else []), *redone]


async def relation_sizes(urls: DatabaseUrls) -> dict[str, int]:
    """``pg_total_relation_size`` (tables with their indexes and TOAST) and the database's size."""
    async with owner_connection(urls) as conn:
        sizes = {
            t: int(await conn.fetchval("SELECT coalesce(pg_total_relation_size(to_regclass($1)), 0)", t))
            for t in SIZED
        }
        sizes["database"] = int(await conn.fetchval("SELECT pg_database_size(current_database())"))
        return sizes


def _vacuum(world: World, marker: Path) -> None:
    """``VACUUM (ANALYZE)`` of the generated tables, once: what autovacuum does to a database that
    has settled, and what lets the timer lights count ``ix_cases_running`` without the heap."""
    if "vacuum" in world.stages:
        return

    async def run(urls: DatabaseUrls) -> None:
        async with owner_connection(urls) as conn:
            for table in ("cases", "case_events", "assessment_facts"):
                await conn.execute(f"VACUUM (ANALYZE) {table}")

    t0 = time.perf_counter()
    with world.home.database() as urls:
        asyncio.run(run(urls))
    world.stages["vacuum"] = {"seconds": round(time.perf_counter() - t0, 2)}
    _save(marker, world.stages)


def _revision(home: Home) -> str:
    async def read(urls: DatabaseUrls) -> str:
        async with owner_connection(urls) as conn:
            return str(await conn.fetchval("SELECT version_num FROM alembic_version"))

    with home.database() as urls:
        return asyncio.run(read(urls))


def build_world(total: int | None = None) -> World:
    """The world of ``total`` cases, building whatever stage is missing (each stage is recorded
    in the marker as it finishes; an interrupted generation is not resumable: delete the home)."""
    world_total = total or total_cases()
    where = ROOT / f"dashboard-{world_total}"
    marker = where / "world.json"
    world = World(Home(where / "home"), world_total, _load(marker))
    stages = world.stages
    if stages.get("done"):  # kept from an earlier run: bring its schema up to this code's
        before = _revision(world.home)
        upgrade = _stage(_checked(world.home.citylead("migrate")))
        if (after := _revision(world.home)) != before:  # keep what was applied and how long it took
            stages.setdefault("upgrades", []).append({"from": before, "to": after, **upgrade})
            _save(marker, stages)
        _vacuum(world, marker)
        return world
    base_home, base_stages = _base()
    stages["base"] = base_stages
    if "copy_seconds" not in stages:
        if where.exists():
            shutil.rmtree(where)
        where.mkdir(parents=True)
        t0 = time.perf_counter()
        # cp -a keeps the owner: the embedded server runs as its own user (pgserver) when root starts it
        subprocess.run(["cp", "-a", str(base_home.path), str(world.home.path)], check=True)
        stages["copy_seconds"] = round(time.perf_counter() - t0, 2)
        _save(marker, stages)
    if "generate" not in stages:
        if stages.get("generating"):
            raise RuntimeError(
                f"an earlier generation into {where} did not finish: delete it and build again"
            )
        stages["generating"] = True
        _save(marker, stages)
        run = _checked(
            world.home.citylead(
                "demo", "generate", "--months", str(MONTHS), "--end", END, "--tenant", PROVINCE,
                "--cases-per-division-month", str(world.per_division_month), "--jobs", _jobs(),
                timeout=12 * 3600,
            )
        )  # fmt: skip
        found = GENERATED.search(run.output)
        if found is None:
            raise RuntimeError(f"no summary in the generator's output:\n{run.output[-3000:]}")
        divisions, cases, events, seconds, rate = found.groups()
        stages["generate"] = {
            **_stage(run),
            "per_division_month": world.per_division_month,
            "jobs": int(_jobs()),
            "divisions": int(divisions),
            "cases": int(cases),
            "events": int(events),
            "reported_seconds": float(seconds),
            "cases_per_second": int(rate),
        }
        _save(marker, stages)
    if "migrate" not in stages:  # a schema newer than the base's (the facts of migration 0015)
        with world.home.database() as urls:
            stages["redone"] = asyncio.run(redo_rewritten(urls))
        stages["migrate"] = _stage(_checked(world.home.citylead("migrate")))
        _save(marker, stages)
    if "volume" not in stages:
        with world.home.database() as urls:
            t0 = time.perf_counter()
            volume = asyncio.run(_refresh_volume(urls))
            stages["volume"] = {**volume, "seconds": round(time.perf_counter() - t0, 2)}
        _save(marker, stages)
    assessed = stages.setdefault("assess", {})
    for period in assessed_months():
        if period not in assessed:
            run = _checked(world.home.citylead("assess", "run", "--period", period, "--tenant", PROVINCE))
            assessed[period] = _stage(run)
            _save(marker, stages)
    _vacuum(world, marker)
    with world.home.database() as urls:
        stages["sizes"] = asyncio.run(relation_sizes(urls))
    stages["done"] = True
    _save(marker, stages)
    return world


if __name__ == "__main__":
    built = build_world(int(sys.argv[1]) if len(sys.argv) > 1 else None)
    print(json.dumps(built.stages, indent=2, ensure_ascii=False))
