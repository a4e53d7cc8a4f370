"""The dashboard and the assessment roll-up at 5 million cases (issue 6, item 5).

The world (``dashboard_world``: 95 live divisions, 12 months of demo history, every month assessed)
is built once under ``.benchmarks/`` and kept; ``CITYLEAD_BENCH_DASHBOARD_CASES`` chooses its size
(default 5,000,000). Then, against the home's embedded PostgreSQL kept running here:

1. The world's build: each stage's time, the generator's cases per second, the tables' sizes.
2. One month's roll-up for the whole province — aim ≤ 10 s: ``citylead assess run --period
   2026-10 --tenant 320000`` three times (median), against a baseline in the same run: reading that
   month's case events once as the owner (``count(*)``, ``sum(length(data::text))``); beside it the
   command's fixed cost (the same command for a month with no cases), the read of what the roll-up
   sums (the month's ``assessment_sums``) and, before them, the first run after generation, which
   rebuilds every case's assessment facts.
3. Every dashboard callback — aim p95 ≤ 100 ms: ``citylead api`` and ``citylead dashboard`` as
   subprocesses; ``province_supervisor@320000`` and ``city_admin@320400`` sign in at the token
   endpoint and walk each page (``dashboard_flows``); each callback is then POSTed n times after a
   warm-up over one keep-alive connection (``Authorization: Bearer``), asserting 200 with JSON.
   Baselines in the same run: ``GET /health`` on the dashboard process over the same connection,
   and ``GET /api/v1/me`` on the API.

``CITYLEAD_BENCH_DASHBOARD_N`` (default 200) sets n; a callback whose warm-up takes over a second
is timed for about a minute instead (its n is reported). ``CITYLEAD_BENCH_DASHBOARD_ROLLUPS``
(default 3) sets how often the roll-up runs.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from typing import Any

import httpx
import pytest

from citylead.assessment.rollup import Period
from tests.benchmarks.conftest import Figure, measure, report
from tests.benchmarks.dashboard_callbacks import Callback
from tests.benchmarks.dashboard_flows import Step, flows
from tests.benchmarks.dashboard_profile import profile_readers
from tests.benchmarks.dashboard_report import report_callbacks, report_readers, report_rollup, report_world
from tests.benchmarks.dashboard_server import Embedded, Servers, embedded, served
from tests.benchmarks.dashboard_world import PERIODS, World, assessed_months, build_world, relation_sizes
from tests.benchmarks.onboarding_home import owner_connection

pytestmark = pytest.mark.benchmark

PROVINCE = "320000"
MONTH = PERIODS[-1]  # 2026-10: the last complete month, the dashboard's default period
EMPTY_MONTH = "2024-01"  # no cases: the command's fixed cost
ROLLUPS = int(os.environ.get("CITYLEAD_BENCH_DASHBOARD_ROLLUPS", "3"))
N = int(os.environ.get("CITYLEAD_BENCH_DASHBOARD_N", "200"))
WARMUP = 5
SLOW_BUDGET_S = 60.0
USERS = (  # who, the city chosen (None: the user is the city), the county chosen
    ("province_supervisor@320000", "320100", "320102"),
    ("city_admin@320400", None, "320411"),
)


@pytest.fixture(scope="module")
def world() -> World:
    return build_world()


@pytest.fixture(scope="module")
def database(world: World) -> Any:
    with embedded(world.home) as db:
        yield db


def test_world(world: World, database: Embedded) -> None:
    sizes = asyncio.run(relation_sizes(database.urls))
    counts = asyncio.run(_counts(database))
    assert counts["cases"] == world.stages["generate"]["cases"]
    assert counts["county_rows"] == 95 * len(assessed_months())  # every division in every month assessed
    report_world(world, sizes, counts)


async def _counts(database: Embedded) -> dict[str, int]:
    async with owner_connection(database.urls) as conn:
        return {
            "cases": await conn.fetchval("SELECT count(*) FROM cases WHERE external_id LIKE 'demo:%'"),
            "county_rows": await conn.fetchval(
                "SELECT count(*) FROM assessment_counters WHERE subject_type = 'county' AND period = ANY($1)",
                list(PERIODS),
            ),
        }


# -- 2. the roll-up --------------------------------------------------------------------------------


async def _read_seconds(database: Embedded, sql: str, *args: Any) -> tuple[float, tuple[int, int]]:
    async with owner_connection(database.urls) as conn:
        t0 = time.perf_counter()
        row = await conn.fetchrow(sql, *args)
        seconds = time.perf_counter() - t0
    assert row is not None
    return seconds, (int(row[0]), int(row[1] or 0))


MONTH_EVENTS = "SELECT count(*), sum(length(data::text)) FROM case_events WHERE at >= $1 AND at < $2"
MONTH_SUMS = """
SELECT count(*), sum(length(s::text)) FROM assessment_sums s WHERE month = $1::date
"""  # what the roll-up sums (the facts summed per county and month, migration 0015)


def test_monthly_rollup(world: World, database: Embedded) -> None:
    period = Period.parse(MONTH)
    bare = [
        asyncio.run(_read_seconds(database, MONTH_EVENTS, period.start, period.end)) for _ in range(ROLLUPS)
    ]
    selected = [asyncio.run(_read_seconds(database, MONTH_SUMS, period.start.date())) for _ in range(ROLLUPS)]
    stale = asyncio.run(_stale(database))
    first = world.home.citylead("assess", "run", "--period", MONTH, "--tenant", PROVINCE)
    empty = [
        world.home.citylead("assess", "run", "--period", EMPTY_MONTH, "--tenant", PROVINCE)
        for _ in range(ROLLUPS)
    ]
    runs = [
        world.home.citylead("assess", "run", "--period", MONTH, "--tenant", PROVINCE) for _ in range(ROLLUPS)
    ]
    for run in (first, *empty, *runs):
        assert run.returncode == 0, run.output[-3000:]
        assert "95 division(s) refreshed" in run.output, run.output[-3000:]
    assert bare[0][1][0] > 0
    report_rollup(MONTH, bare, selected, empty, runs, first=(first, stale))


async def _stale(database: Embedded) -> int:
    """Cases whose assessment facts are out of date (all of them after generation or migration
    0015): the first roll-up rebuilds them."""
    async with owner_connection(database.urls) as conn:
        return int(await conn.fetchval("SELECT count(*) FROM assessment_stale"))


# -- 3. the callbacks -------------------------------------------------------------------------------


class Caller:
    """One keep-alive connection to the dashboard as one user; the token is renewed every 10 min."""

    def __init__(self, servers: Servers, user: str, client: httpx.AsyncClient) -> None:
        self.servers, self.user, self.client = servers, user, client
        self.signed_at = 0.0

    def headers(self) -> dict[str, str]:
        if time.monotonic() - self.signed_at > 600:
            self.token = self.servers.token(self.user)
            self.signed_at = time.monotonic()
        return {"Authorization": f"Bearer {self.token}"}

    async def post(self, cb: Callback) -> dict[str, Any]:
        r = await self.client.post("/dashboard/_dash-update-component", json=cb.body, headers=self.headers())
        assert r.status_code == 200, f"{cb.name}: {r.status_code} {r.text[:500]}"
        answer = r.json()
        assert isinstance(answer, dict) and "response" in answer, f"{cb.name}: {r.text[:300]}"
        return answer


async def _time_step(caller: Caller, step: Step) -> tuple[Figure, int]:
    caller.headers()  # sign in outside the timing
    sizes: list[int] = []

    async def one() -> None:
        r = await caller.client.post(
            "/dashboard/_dash-update-component", json=step.callback.body, headers=caller.headers()
        )
        assert r.status_code == 200, f"{step.what}: {r.status_code} {r.text[:500]}"
        assert "response" in r.json(), step.what
        sizes.append(len(r.content))

    t0 = time.perf_counter()
    for _ in range(WARMUP):
        await one()
    each = (time.perf_counter() - t0) / WARMUP
    n = N if each * N <= SLOW_BUDGET_S * 4 else max(20, int(SLOW_BUDGET_S / each))
    figure = await measure(f"{step.user.split('@')[0]}: {step.what}", n, one, warmup=0)
    return figure, int(statistics.median(sizes))


async def _callbacks(servers: Servers) -> tuple[Figure, Figure, list[tuple[Figure, int]]]:
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    results: list[tuple[Figure, int]] = []
    async with (
        httpx.AsyncClient(base_url=servers.dashboard.base, timeout=120, limits=limits) as dash,
        httpx.AsyncClient(base_url=servers.api.base, timeout=60, limits=limits) as api,
    ):
        health = await measure(
            "GET /health (dashboard process, same connection)", N, lambda: _ok(dash, "/health")
        )
        token = servers.token(USERS[0][0])
        me = await measure(
            "GET /api/v1/me (API process, province supervisor)",
            N,
            lambda: _ok(api, "/api/v1/me", {"Authorization": f"Bearer {token}"}),
        )
        for user, city, county in USERS:
            caller = Caller(servers, user, dash)
            deps = (await dash.get("/dashboard/_dash-dependencies", headers=caller.headers())).json()
            steps = await flows(user, deps, caller.post, city=city, county=county, period=MONTH)
            for step in steps:
                results.append(await _time_step(caller, step))
            results.append(await _time_boundaries(caller, steps))
    return health, me, results


async def _time_boundaries(caller: Caller, steps: list[Step]) -> tuple[Figure, int]:
    """The map's boundaries, which the browser fetches by the URL the coverage answer names (once
    per browser: then from its cache)."""
    first = next(s for s in steps if s.what.startswith("coverage: map"))
    answer = await caller.post(first.callback)
    url = answer["response"]["coverage-map"]["figure"]["data"][0]["geojson"]
    sizes: list[int] = []

    async def one() -> None:
        r = await caller.client.get(url, headers=caller.headers())
        assert r.status_code == 200, f"{url}: {r.status_code} {r.text[:300]}"
        sizes.append(len(r.content))

    figure = await measure(
        f"{caller.user.split('@')[0]}: coverage: the map's boundaries (GET by URL)", N, one
    )
    return figure, int(statistics.median(sizes))


async def _ok(client: httpx.AsyncClient, path: str, headers: dict[str, str] | None = None) -> None:
    r = await client.get(path, headers=headers)
    assert r.status_code == 200, f"{path}: {r.status_code}"


def test_callbacks(world: World, database: Embedded) -> None:
    with served(world.home, database) as servers:
        health, me, results = asyncio.run(_callbacks(servers))
    report("Dashboard baselines", health, me)
    report_callbacks(health, results)
    assert len(results) > 30


# -- 4. where the slow callbacks' readers spend ---------------------------------------------------


def test_readers(database: Embedded) -> None:
    """The readers behind the province's pages, in process (no HTTP, no figure): the time, the
    statements they send and the slowest one's plan."""
    # "now" at the end of the world's last month: coverage's 30-day window is then full (real now
    # would see only its last days) and the running clocks are the ones the world left open then
    found = asyncio.run(profile_readers(database.urls.app, MONTH, now=Period.parse(MONTH).end))
    report_readers(found)
    assert all(r.profiled.statements for r in found)
