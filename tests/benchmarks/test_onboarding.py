"""Onboarding (接入) as an operator runs it: the real ``citylead onboard`` command as a subprocess
on a fresh ``CITYLEAD_HOME`` with the embedded PostgreSQL (no ``CITYLEAD_DATABASE_URL``), the demo
province seeded by a first ``citylead up`` (stopped once ``/ready`` answers). In order:

1. One county, registered → live: 南京 320100 (``onboarding`` in the demo) with template ``city``,
   then ``citylead onboard county`` for 玄武 320102, 秦淮 320104 and 建邺 320105, each with sample
   inputs of 300 grids, 40 units and 20,000 components (``citylead onboard samples``, untimed).
   Each job's time (created → finished, read by the owner after), each step's ``duration_ms``, the
   command's wall time and CPU; beside it ``citylead migrate`` (a command's fixed cost), the same
   command with ``--dry-run``, and the request's check in process. Baseline: ``COPY`` of the same
   300 grid and 20,000 component rows into unlogged scratch tables on the same server. Then where
   the two slowest steps' time goes, in process: the inventory import (its parts, and cProfile)
   and ``provision_identity`` (each HTTP call to the embedded provider).
2. Every Jiangsu city and division not yet live, from one manifest (inputs of 150 grids, 20 units,
   2,000 components each), ``citylead onboard manifest FILE --concurrency C`` on a fresh home per
   level. Baseline: the same-size division onboarded alone (three of 南京's, in the first home) ×
   divisions ÷ C, plus the 南京 city job × cities ÷ C: the time if C jobs shared the machine
   without slowing each other down.

``CITYLEAD_BENCH_MANIFEST_LEVELS`` (default ``4,2,4x2``) sets the levels of part 2: a concurrency,
or a concurrency ``x`` worker processes (``--processes``).
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest
import yaml
from sqlalchemy import select
from sqlalchemy.orm import undefer

from citylead.db import Database
from citylead.db.roles import DatabaseUrls
from provisioning.inputs import InputFile, OnboardRequest, file_from_path
from provisioning.samples import write_sample_inputs
from tenants.models import Tenant
from tests.benchmarks.onboarding_floor import (
    Profiled,
    check_seconds,
    component_records,
    copy_floor,
    grid_records,
    profile_inventory,
)
from tests.benchmarks.onboarding_home import Home, Job, Run, owner_connection, province_status, read_jobs
from tests.benchmarks.onboarding_identity import identity_times
from tests.benchmarks.onboarding_report import (
    Level,
    median,
    report_identity,
    report_manifest,
    report_one_county,
    report_profile,
)

pytestmark = pytest.mark.benchmark

PROVINCE, NANJING = "320000", "320100"
DISTRICTS = ("320102", "320104", "320105")  # 玄武区, 秦淮区, 建邺区: the full-size county
SOLO = ("320106", "320111", "320113")  # 鼓楼区, 浦口区, 栖霞区: a manifest-size division alone
IDENTITY = ("320115", "320116", "320117")  # 江宁区, 六合区, 溧水区: identity provisioning alone
FULL = {"grids": 300, "units": 40, "components": 20_000}
SMALL = {"grids": 150, "units": 20, "components": 2_000}
TEMPLATES = {"municipal_district": "district", "county_city": "county-city", "county": "county"}
LEVELS = tuple(
    (int(c), int(p or 1))
    for c, _, p in (
        x.partition("x") for x in os.environ.get("CITYLEAD_BENCH_MANIFEST_LEVELS", "4,2,4x2").split(",")
    )
)
COPIES = 3  # COPY floor repetitions per district


@dataclass
class Nanjing:
    home: Home
    seed_seconds: float
    city: Run
    inputs: Path

    def files(self, code: str) -> dict[str, InputFile]:
        d = self.inputs / code
        names = {"grids": "grids.geojson", "units": "units.csv", "components": "components.csv"}
        return {k: file_from_path(k, d / v) for k, v in names.items()}

    def county(self, code: str, *extra: str) -> Run:
        d = self.inputs / code
        return self.home.citylead(
            "onboard", "county", code, "--city", NANJING, "--template", "district",
            "--grids", str(d / "grids.geojson"), "--units", str(d / "units.csv"),
            "--components", str(d / "components.csv"), "--admin", f"admin@{code}.example.cn", *extra,
        )  # fmt: skip


@pytest.fixture(scope="module")
def nanjing(tmp_path_factory: pytest.TempPathFactory) -> Nanjing:
    for noisy in ("pgserver", "httpx"):  # embedded starts and /ready polls: not figures
        logging.getLogger(noisy).setLevel(logging.WARNING)
    base = tmp_path_factory.mktemp("onboarding")
    home = Home(base / "home")
    seeded = home.seed()
    for codes, size in ((DISTRICTS, FULL), (SOLO, SMALL)):
        for code in codes:
            counts = [a for k, v in size.items() for a in (f"--{k}", str(v))]
            made = home.citylead("onboard", "samples", code, "--out", str(base / "inputs" / code), *counts)
            assert made.returncode == 0, made.output[-3000:]
    city = home.citylead("onboard", "city", NANJING, "--template", "city")
    assert city.returncode == 0, city.output[-3000:]
    return Nanjing(home, seeded, city, base / "inputs")


# -- 1. one county -------------------------------------------------------------------------------


def test_one_county_registered_to_live(nanjing: Nanjing) -> None:
    requests = [
        OnboardRequest("county", code, NANJING, "district", f"admin@{code}.example.cn", nanjing.files(code))
        for code in DISTRICTS
    ]
    with nanjing.home.database() as urls:  # before the commands, while the districts are registered
        checks = asyncio.run(check_seconds(urls.app, requests))
    runs, migrates, dry = {}, {}, {}
    for code in DISTRICTS:  # the fixed cost of a command, the check alone, then the real thing
        migrates[code] = nanjing.home.citylead("migrate")
        dry[code] = nanjing.county(code, "--dry-run")
        runs[code] = nanjing.county(code)
        for run in (migrates[code], dry[code], runs[code]):
            assert run.returncode == 0, run.output[-3000:]
    first = DISTRICTS[0]
    data = (nanjing.inputs / first / "components.csv").read_bytes()

    async def after(urls: DatabaseUrls) -> tuple[dict[str, Job], dict[str, list[float]], Profiled]:
        async with owner_connection(urls) as conn:
            jobs = await read_jobs(conn, [NANJING, *DISTRICTS])
            rows = await conn.fetch(
                "SELECT code, id, path FROM tenants WHERE code = ANY($1)", list(DISTRICTS)
            )
            ids = {r["code"]: (r["id"], r["path"]) for r in rows}
            floors: dict[str, list[float]] = {}
            for code in DISTRICTS:
                tid = ids[code][0]
                assert await _count(conn, "components", tid) == 20_000
                assert await _count(conn, "grids", tid) == 300
                components = component_records(nanjing.inputs / code / "components.csv", tid)
                grids = grid_records(nanjing.inputs / code / "grids.geojson", tid)
                assert (len(components), len(grids)) == (20_000, 300)
                floors[code] = [await copy_floor(conn, components, grids) for _ in range(COPIES)]
        return jobs, floors, await profile_inventory(urls.app, ids[first][1], first, data)

    with nanjing.home.database() as urls:
        jobs, floors, profiled = asyncio.run(after(urls))
        identity = identity_times(nanjing.home.path, urls, jobs[NANJING].path, list(IDENTITY))
    for code in (NANJING, *DISTRICTS):
        assert (jobs[code].state, jobs[code].status) == ("succeeded", "live"), code
    report_one_county(
        list(DISTRICTS), runs, jobs, floors, COPIES, [*migrates.values()], [*dry.values()], checks
    )
    city = jobs[NANJING]
    print(
        f"\nUntimed set-up: `citylead up` to `/ready` with the demo seed {nanjing.seed_seconds:.1f} s. First "
        f"the city, 南京 {NANJING} (template `city`): job {city.seconds:.2f} s, command "
        f"{nanjing.city.seconds:.2f} s, slowest step {city.slowest.name} {city.slowest.duration_ms} ms."
    )
    report_profile(first, profiled)
    report_identity(identity, list(IDENTITY))


async def _count(conn: asyncpg.Connection, table: str, tenant_id: object) -> int:
    return int(await conn.fetchval(f"SELECT count(*) FROM {table} WHERE tenant_id = $1", tenant_id))


# -- 2. the province from one manifest ---------------------------------------------------------


@dataclass
class Plan:
    cities: dict[str, list[str]]  # not-live city → its not-live divisions
    orphans: list[tuple[str, str]]  # (division, its live city)
    levels: dict[str, str]

    @property
    def divisions(self) -> list[str]:
        return [d for ds in self.cities.values() for d in ds] + [d for d, _ in self.orphans]


async def _plan(urls: DatabaseUrls) -> tuple[Plan, dict[str, Tenant]]:
    """What is not live yet in the province, and those tenants with their boundaries."""
    async with owner_connection(urls) as conn:
        status = await province_status(conn, PROVINCE)
    not_live = [c for c, (level, st, _) in status.items() if st != "live" and level != "province"]
    db = Database(urls.owner, role=urls.owner_role, pool_size=1)
    try:
        async with db.transaction(None) as s:
            found = await s.scalars(
                select(Tenant).options(undefer(Tenant.boundary)).where(Tenant.code.in_(not_live))
            )
            tenants = {t.code: t for t in found}
    finally:
        await db.dispose()
    cities: dict[str, list[str]] = {c: [] for c in not_live if status[c][0] == "prefecture_city"}
    orphans = []
    for code in not_live:
        level, _, parent = status[code]
        if level in TEMPLATES:
            if parent in cities:
                cities[parent].append(code)
            else:
                orphans.append((code, parent))
    return Plan(cities, orphans, {c: status[c][0] for c in not_live}), tenants


def _manifest(plan: Plan, inputs: Path, concurrency: int) -> Path:
    def county(code: str) -> dict[str, str]:
        d = inputs / code
        return {"code": code, "template": TEMPLATES[plan.levels[code]], "grids": str(d / "grids.geojson"),
                "units": str(d / "units.csv"), "components": str(d / "components.csv"),
                "admin": f"admin@{code}.example.cn"}  # fmt: skip

    cities = [
        {"code": c, "template": "city", "admin": f"admin@{c}.example.cn", "counties": [county(d) for d in ds]}
        for c, ds in plan.cities.items()
    ]  # fmt: skip
    doc = {
        "province": PROVINCE,
        "concurrency": concurrency,
        "cities": cities,
        "counties": [{**county(d), "city": city} for d, city in plan.orphans],
    }
    path = inputs / "jiangsu.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), "utf-8")
    return path


async def _outcome(urls: DatabaseUrls, codes: list[str]) -> tuple[dict[str, Job], dict[str, str]]:
    """The jobs of ``codes``, and every province tenant's status."""
    async with owner_connection(urls) as conn:
        jobs = await read_jobs(conn, codes)
        status = await province_status(conn, PROVINCE)
    return jobs, {c: st for c, (_, st, _) in status.items()}


def test_province_from_one_manifest(nanjing: Nanjing, tmp_path_factory: pytest.TempPathFactory) -> None:
    solo_runs = [nanjing.county(code) for code in SOLO]  # a manifest-size division alone, no contention
    assert all(r.returncode == 0 for r in solo_runs), [r.output[-2000:] for r in solo_runs]
    with nanjing.home.database() as urls:
        alone, _ = asyncio.run(_outcome(urls, [NANJING, *SOLO]))
    division_alone = median(alone[c].seconds for c in SOLO)
    base = tmp_path_factory.mktemp("manifest")
    inputs, manifest, generated = base / "inputs", None, 0.0
    levels: list[Level] = []
    for concurrency, processes in LEVELS:
        home = Home(base / f"home-{concurrency}x{processes}")
        home.seed()
        with home.database() as urls:
            plan, tenants = asyncio.run(_plan(urls))
        if manifest is None:  # every level starts from the same fresh demo: one set of inputs
            t0 = time.perf_counter()
            for code in plan.divisions:
                write_sample_inputs(tenants[code], inputs / code, **SMALL)
            generated = time.perf_counter() - t0
            manifest = _manifest(plan, inputs, concurrency)
        run = home.citylead(
            "onboard",
            "manifest",
            str(manifest),
            "--concurrency",
            str(concurrency),
            "--processes",
            str(processes),
        )
        with home.database() as urls:
            jobs, status = asyncio.run(_outcome(urls, [*plan.cities, *plan.divisions]))
        assert run.returncode == 0, run.output[-5000:]
        assert {c: st for c, st in status.items() if st != "live"} == {}
        assert sorted(jobs) == sorted([*plan.cities, *plan.divisions])
        assert {j.state for j in jobs.values()} == {"succeeded"}
        levels.append(Level(concurrency, processes, run, jobs, list(plan.cities), plan.divisions))
    report_manifest(levels, division_alone, len(SOLO), alone[NANJING].seconds, generated)
