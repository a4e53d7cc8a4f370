"""Cases over HTTP against the production entry point: ``citylead api`` as a subprocess, on a
database of the module's own seeded with the demo once (dropped at the end). In order:

1. (c) One case's full lifecycle over HTTP, ``LOOPS`` times, on the fresh database: report →
   file → dispatch → dispose → send_check → check_pass → close, each by the demo user of its
   role in 新北区 320411.
2. (a) Hotline filing throughput: ``POST /api/v1/intake/hotline`` from a separate load-generator
   process (``loadgen.py``) for ``SECONDS`` per concurrency level, with 1 and then 2 workers;
   every request a new Idempotency-Key and a (point, class) that makes a new case. With 1 worker
   also a smaller connection pool, and a py-spy profile of the worker.
3. What one filing sends to PostgreSQL, and its server CPU by phase (in-process, no HTTP).
4. 10 concurrent retries with one key → one case; the latency of a replay.
5. The lifecycle again, now that the load has filled the counties.
6. The baseline: the same four rows per filing inserted with bare asyncpg at the same
   concurrency levels (and with the outbox's NOTIFY trigger off), then the ratios. It runs after
   the HTTP levels, so its ~10⁵ rows do not weigh on them.
7. The lifecycle once more in a county of ~10⁵ cases, with the plan of the case lookup; and again
   with the index that would fix that lookup (in the bench database only).

``CITYLEAD_BENCH_SECONDS`` and ``CITYLEAD_BENCH_LEVELS`` (e.g. ``1,8``) shorten a trial run;
``CITYLEAD_BENCH_PROFILE=0`` skips the py-spy recording.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import msgspec
import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import event, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from citylead.api.case_io import case_view
from citylead.cases.access import Actor
from citylead.cases.intake import Report, do_report
from citylead.cases.models import Case, Source
from citylead.units.routing import suggest
from tenants.context import TenantContext
from tenants.models import Tenant
from tenants.standards.crosswalk import read_catalog
from tenants.standards.paths import Kind
from tenants.standards.views import Manual
from tests.benchmarks import cases_profile
from tests.benchmarks.cases_flows import (
    COUNTY,
    LIFECYCLE_CLASS,
    STEPS,
    add_case_id_index,
    cases_in,
    explain_access,
    figure,
    hotline_token,
    in_process_app,
    lifecycle,
    print_figures,
)
from tests.benchmarks.cases_load import (
    BASELINE_CLASS,
    Level,
    World,
    http_level,
    http_spec,
    print_levels,
    run,
    sql_level,
)
from tests.benchmarks.cases_server import PILOT_COUNTIES, Point, create_seeded, drop, grid_points
from tests.benchmarks.conftest import Figure
from tests.benchmarks.loadgen import pair
from tests.support import PUBLIC_URL

pytestmark = pytest.mark.benchmark

SECONDS = float(os.environ.get("CITYLEAD_BENCH_SECONDS", "30"))
LEVELS = tuple(int(c) for c in os.environ.get("CITYLEAD_BENCH_LEVELS", "1,8,32,64").split(","))
PROFILE = os.environ.get("CITYLEAD_BENCH_PROFILE", "1") == "1"
LOOPS = 50
N_PHASE = 200
SMALL_POOL = 2  # the smaller pool tried with one worker: 2 connections + 2 overflow
PINNED = (Kind.CATALOG, Kind.MANUAL, Kind.CALENDAR)  # what a case pins at intake
RESERVED = 400  # points of 320411 kept out of the load (lifecycles, retries)
HOT = (  # what the profile's table follows, outermost first: (function, what it is)
    ("HTTPRoute.handle", "Litestar: the route, from the parsed request to the response"),
    ("BearerAuthentication.authenticate_request", "bearer token validation (RS256, claims)"),
    ("HotlineController.hotline", "the hotline handler"),
    ("_county_for", "1st transaction: which county (home tenant, `Locator.county_of`)"),
    ("do_report", "2nd transaction: `do_report`"),
    ("Resolver.pin", "  pinned standards (one query, folds cached)"),
    ("rule_of", "  class rule (`Manual.levels` scans ~2,200 values per call)"),
    ("Locator.place", "  grid lookup"),
    ("suggest", "  routing suggestion (units, components queries)"),
    ("add_event", "  event (its `max(seq)` query)"),
    ("case_view", "the response: now(), photos, tenant codes, history, `case_out`"),
    ("AsyncAdapt_asyncpg_connection._async_ping", "pool pre-ping (BEGIN; `;`; ROLLBACK) per checkout"),
    ("Session._execute_internal", "SQLAlchemy ORM statement execution, all"),
    ("AsyncAdapt_asyncpg_cursor._prepare_and_execute", "  of which in the asyncpg adapter"),
    ("greenlet_spawn", "SQLAlchemy's async bridge: all sync ORM/Core work runs inside it"),
)
LIFECYCLES: dict[str, dict[str, Figure]] = {}  # label → figures by step, for the closing comparison


@pytest.fixture(scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    logging.getLogger("httpx").setLevel(logging.WARNING)
    home = tmp_path_factory.mktemp("cases-bench")
    home.chmod(0o755)
    t0 = time.perf_counter()
    db = await create_seeded()
    w = None
    try:
        points = await grid_points(db, PILOT_COUNTIES)
        spare = [p for p in points if p.county == COUNTY][-RESERVED:]  # the load starts elsewhere
        kept = {(p.lon, p.lat) for p in spare}
        classes = [
            r.code
            for r in read_catalog("gbt47678_5")
            if r.kind == "matter" and r.code not in (LIFECYCLE_CLASS, BASELINE_CLASS)
        ]
        w = World(db, home, classes, [p for p in points if (p.lon, p.lat) not in kept], spare, {})
        owner = w.owner()
        async with owner.transaction(None) as s:
            rows = await s.execute(
                select(Tenant.code, Tenant.id, Tenant.path).where(Tenant.code.in_(PILOT_COUNTIES))
            )
            w.tenants = {code: (str(i), path) for code, i, path in rows}
        await owner.dispose()
        print(
            f"\nBench database {db.name}: demo seeded in {time.perf_counter() - t0:.1f} s; load: "
            f"{len(w.points):,} points 60 m apart in the grids of 常州's 6 divisions × {len(classes)} classes"
        )
        yield w
    finally:
        if w is not None:
            w.stop()
        await drop(db)


# -- (c) the lifecycle, fresh ------------------------------------------------------------------


async def _lifecycle(world: World, label: str) -> None:
    world.start(2)
    cases = await cases_in(world, COUNTY)
    figures = await lifecycle(world, LOOPS)
    LIFECYCLES[f"{label} ({cases:,} cases in {COUNTY})"] = figures
    order = ["health", "read", "report", *(a for a, _, _ in STEPS), "loop"]
    print_figures(
        f"One case's full lifecycle over HTTP, {label}: {LOOPS} loops, sequential "
        f"(`citylead api --workers 2`, 新北区 {COUNTY} with {cases:,} cases)",
        [figures[k] for k in order],
    )


async def test_lifecycle_on_a_fresh_database(world: World) -> None:
    await _lifecycle(world, "fresh database")


# -- (a) hotline filing throughput -------------------------------------------------------------


async def _warm(world: World, token: str) -> None:
    """One filing per class (each class is filable), then 3 s at 8 connections (caches warm)."""
    spec = http_spec(world, token, 8, 60, limit=len(world.classes))
    level = await run(world, spec, "warm-up")
    world.take(level.result["used"])
    assert level.result["statuses"] == {"201": len(world.classes)}, level.result["samples"]
    await http_level(world, token, 8, 3)


@pytest.mark.parametrize("workers", [1, 2])
async def test_hotline_filing_throughput(world: World, workers: int) -> None:
    server = world.start(workers)
    token = server.hotline_token()
    await _warm(world, token)
    levels = [await http_level(world, token, concurrency, SECONDS) for concurrency in LEVELS]
    if workers == 1:  # the same with fewer connections than concurrent requests
        token = world.start(1, pool_size=SMALL_POOL).hotline_token()  # the issuer names the new port
        await http_level(world, token, 8, 3)
        levels += [await http_level(world, token, c, SECONDS) for c in LEVELS if c >= 8]
    world.levels += levels
    print_levels(
        f"Hotline filings: `citylead api --workers {workers}`, load generator in its own process",
        SECONDS,
        levels,
        {},
    )
    best = max(levels, key=lambda lv: lv.per_second)
    print(
        f"\nBest: {best.per_second:.0f} filings/s at {best.result['concurrency']} connections, p99 "
        f"{best.result['p99_ms']:.0f} ms (target ≥ 500/s with p99 < 100 ms); the server used "
        f"{best.ms_per('server'):.1f} ms of CPU per filing, PostgreSQL {best.ms_per('postgres'):.1f} ms."
    )
    if PROFILE and workers == 1:
        await _profile(world, world.start(1).hotline_token())


async def _profile(world: World, token: str) -> None:
    """py-spy on the worker for 10 s of load at 32 connections (not a measured level)."""
    if cases_profile.py_spy() is None:
        print("\npy-spy is not installed (`.venv/bin/pip install py-spy`): no profile")
        return
    assert world.server is not None
    pid = world.server.worker_pids()[0]
    await http_level(world, token, 8, 3)
    load = asyncio.create_task(http_level(world, token, 32, 14))
    try:
        await asyncio.sleep(2)
        out = await cases_profile.record(pid, 10, world.home / "worker.collapsed")
    finally:
        await load
    profile = cases_profile.read_profile(out)
    print(
        f"\n### Where a worker's time goes: py-spy, 10 s at 32 connections, Python frames\n\n"
        f"{profile.samples} active samples at 100 Hz; inclusive: the share of samples with the function "
        "anywhere on the stack. asyncpg's coroutines run as their own tasks, outside their callers' "
        f"stacks, so the callers' shares are lower bounds. Stacks: {out}\n\n"
        "| function | what | inclusive % |\n|---|---|---|"
    )
    for name, what in HOT:
        print(f"| `{name}` | {what} | {profile.share(name):.1f} |")
    print("\n| own time, by library | % |\n|---|---|")
    for package, n in profile.own.most_common(12):
        print(f"| {package} | {100 * n / profile.samples:.1f} |")


# -- what a filing costs -----------------------------------------------------------------------


async def test_statements_per_filing(world: World) -> None:
    """The same app in-process on the bench database, counting what one filing sends."""
    app = in_process_app(world)
    engine = app.state.db.engine.sync_engine
    sent: list[str] = []
    event.listen(
        engine, "before_cursor_execute", lambda _c, _cur, sql, *_a: sent.append(" ".join(sql.split()))
    )
    event.listen(engine, "checkout", lambda *_a: sent.append("(checkout: pre-ping)"))
    async with AsyncTestClient(app=app, base_url=PUBLIC_URL) as client:
        token = await hotline_token(client)

        spot, code = world.spare.pop(), world.classes[0]

        async def file(key: str, where: Point) -> int:
            body = {"hotline": "12345", "kind": "matter", "code": code, "lon": where.lon, "lat": where.lat,
                    "description": "市民来电：计数"}  # fmt: skip
            headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": key}
            return (await client.post("/api/v1/intake/hotline", json=body, headers=headers)).status_code

        for _ in range(3):
            assert await file(uuid.uuid4().hex, world.spare.pop()) == 201  # caches warm
        sent.clear()
        assert await file("count-me", spot) == 201
        new = list(sent)
        sent.clear()
        assert await file("count-me", spot) == 200
        replay = list(sent)
    for title, log in (("one new hotline filing", new), ("its replay (same key, same body)", replay)):
        checkouts = sum(s.startswith("(checkout") for s in log)
        statements = len(log) - checkouts
        print(f"\n### What {title} sends: {statements} statements in {checkouts} transactions\n")
        for sql in log:
            print(f"- `{sql[:140]}`")
        # each checkout: the pre-ping (BEGIN; `;`; ROLLBACK) and the transaction's BEGIN and COMMIT
        print(
            f"\nRound trips to PostgreSQL: {statements} statements + {checkouts} × (3 pre-ping + BEGIN + "
            f"COMMIT) = {statements + 5 * checkouts}."
        )
    assert sum(s.startswith("(checkout") for s in new) == 2
    assert sum(s.startswith("INSERT INTO cases") for s in new) == 1
    assert not any(s.startswith("INSERT INTO cases") for s in replay)


async def test_filing_cpu_by_phase(world: World) -> None:
    """Where a filing's server CPU goes: each phase of the hotline handler called directly on the
    same app (in-process, no HTTP), N times in sequence; CPU of this process per call (the client
    side of asyncpg included, PostgreSQL's own CPU not)."""
    app = in_process_app(world)
    db, resolver, locator = app.state.db, app.state.resolver, app.state.locator
    async with AsyncTestClient(app=app, base_url=PUBLIC_URL) as client:
        token = await hotline_token(client)
    principal = await app.state.token_validator.principal(token)
    pairs = iter(range(world.next_k, world.next_k + 10 * N_PHASE))
    world.take(10 * N_PHASE)

    def report(k: int) -> Report:
        i, c = pair(k, len(world.points), len(world.classes))
        p, code = world.points[i], world.classes[c]
        return Report(kind="matter", code=code, lon=p.lon, lat=p.lat, description="市民来电：分段计时",
                      source=Source.HOTLINE_12345, external_id=f"phase-{k}")  # fmt: skip

    async def county_of(r: Report) -> Tenant:
        async with db.transaction(principal.context) as s:
            home = await s.scalar(select(Tenant).where(Tenant.path == principal.tenant_path))
            found = await locator.county_of(s, home, r.lon, r.lat)
        assert found is not None
        return found

    async def file(r: Report, county: Tenant, *, respond: bool) -> object:
        async with db.transaction(TenantContext(county.path)) as s:
            county = await s.get_one(Tenant, county.id)
            intake = await do_report(
                s, county, r, resolver=resolver, locator=locator, acting_user=principal.username,
                idempotency=(principal.subject or principal.username, r.external_id or ""),
            )  # fmt: skip
            assert intake.created
            if not respond:
                return intake
            out = await case_view(s, intake.case, Actor(principal.username, principal.roles, county))
        return msgspec.json.encode(out)

    counties: dict[str, Tenant] = {}  # by code, for calling do_report without the lookup
    for k in range(world.next_k, world.next_k + len(world.points)):
        where = world.points[pair(k, len(world.points), len(world.classes))[0]].county
        if where not in counties:
            counties[where] = await county_of(report(k))  # finding a county writes nothing
        if len(counties) == len(PILOT_COUNTIES):
            break
    county_any = next(iter(counties.values()))
    context = TenantContext(county_any.path)

    async def empty() -> None:
        async with db.transaction(context) as s:
            await s.execute(text("SELECT 1"))

    async def full() -> None:
        r = report(next(pairs))
        await file(r, await county_of(r), respond=True)

    async def no_response() -> None:
        k = next(pairs)
        where = world.points[pair(k, len(world.points), len(world.classes))[0]].county
        await file(report(k), counties[where], respond=False)

    here = next(p for p in world.points if p.county == county_any.code)
    async with db.transaction(context) as s:
        docs = await resolver.pin(s, county_any, PINNED)
        rule = Manual.of(docs[Kind.MANUAL]).rule("matter", world.classes[0])
        place = await locator.place(s, county_any, here.lon, here.lat)

    def in_transaction(work: Callable[[AsyncSession], Awaitable[object]]) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            async with db.transaction(context) as s:
                await s.execute(text("SELECT 1"))
                await work(s)

        return run

    async def route(s: AsyncSession) -> object:
        return await suggest(
            s, county_any, kind="matter", code=world.classes[0], responsible=rule.responsible,
            street_code=place.street_code, lon=here.lon, lat=here.lat,
        )  # fmt: skip

    validator = app.state.token_validator
    phases: list[tuple[str, Callable[[], Awaitable[object]]]] = [
        ("a transaction: pre-ping, BEGIN, `citylead_enter`, `SELECT 1`, COMMIT", empty),
        ("bearer token validation (`TokenValidator.principal`)", lambda: validator.principal(token)),
        ("1st transaction: home tenant + `Locator.county_of`", lambda: county_of(report(next(pairs)))),
        ("2nd transaction: `do_report`, commit (no response)", no_response),
        ("  a transaction + `Resolver.pin` (3 kinds, folds cached)", in_transaction(
            lambda s: resolver.pin(s, county_any, PINNED))),
        ("  a transaction + `Locator.place`", in_transaction(
            lambda s: locator.place(s, county_any, here.lon, here.lat))),
        ("  a transaction + `suggest` (routing)", in_transaction(route)),
        ("the handler's work: both transactions + `case_view` (now, photos, codes, history) + JSON", full),
    ]  # fmt: skip
    rows = [(what, N_PHASE, *await _cpu_per_call(fn, N_PHASE)) for what, fn in phases]
    rows.insert(
        5,
        (
            "  `Manual.levels`, one call (scans the manual's ~2,200 values)",
            1000,
            *_levels_cost(Manual.of(docs[Kind.MANUAL])),
        ),
    )
    db.engine.pool._pre_ping = False  # what the pre-ping costs: the same, without it
    rows.insert(1, ("  the same, pool pre-ping off", N_PHASE, *await _cpu_per_call(empty, N_PHASE)))
    rows.append(("  the same, pool pre-ping off", N_PHASE, *await _cpu_per_call(full, N_PHASE)))
    await db.dispose()
    print(
        "\n### A filing's server CPU by phase (in-process, no HTTP, sequential calls)\n\n"
        "CPU: this process's user + system time per call (asyncpg's side of the round trips included, "
        "PostgreSQL's not); wall: elapsed per call.\n\n"
        "| phase | n | CPU ms per call | wall ms per call |\n|---|---|---|---|"
    )
    for what, n, cpu, wall in rows:
        print(f"| {what} | {n} | {cpu:.2f} | {wall:.2f} |")
    by_what = {what: cpu for what, _, cpu, _ in rows}
    assert by_what[phases[-1][0]] > by_what[phases[3][0]]  # the whole handler costs more than do_report


def _levels_cost(manual: Manual, n: int = 1000) -> tuple[float, float]:
    cpu0, t0 = time.process_time(), time.perf_counter()
    for _ in range(n):
        assert manual.levels
    return 1000 * (time.process_time() - cpu0) / n, 1000 * (time.perf_counter() - t0) / n


async def _cpu_per_call(fn: Callable[[], Awaitable[object]], n: int) -> tuple[float, float]:
    for _ in range(10):
        await fn()
    gc.collect()
    cpu0, t0 = time.process_time(), time.perf_counter()
    for _ in range(n):
        await fn()
    return 1000 * (time.process_time() - cpu0) / n, 1000 * (time.perf_counter() - t0) / n


# -- retries -----------------------------------------------------------------------------------


async def test_ten_concurrent_retries_make_one_case(world: World) -> None:
    server = world.start(2)
    token = server.hotline_token()
    rounds, latencies, firsts = 20, [], []
    owner = world.owner()
    async with httpx.AsyncClient(base_url=server.base, limits=httpx.Limits(max_connections=10)) as client:
        await asyncio.gather(*(client.get("/health") for _ in range(10)))

        def body(spot: Point, key: str) -> dict[str, Any]:
            return {"hotline": "12345", "kind": "matter", "code": world.classes[1], "lon": spot.lon,
                    "lat": spot.lat, "description": "市民来电：重复提交", "ticket": key}  # fmt: skip

        async def post(key: str, payload: dict[str, Any]) -> tuple[httpx.Response, float]:
            headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": key}
            t0 = time.perf_counter()
            r = await client.post("/api/v1/intake/hotline", json=payload, headers=headers)
            return r, (time.perf_counter() - t0) * 1000

        for _ in range(rounds):
            key = f"retry-{uuid.uuid4().hex}"
            payload = body(world.spare.pop(), key)
            answers = await asyncio.gather(*(post(key, payload) for _ in range(10)))
            assert sorted(r.status_code for r, _ in answers) == [200] * 9 + [201], [
                r.text for r, _ in answers
            ]
            assert len({r.json()["id"] for r, _ in answers}) == 1
            assert {r.headers["Idempotency-Replayed"] for r, _ in answers if r.status_code == 200} == {"true"}
            latencies += [ms for _, ms in answers]
            async with owner.transaction(None) as s:
                assert (
                    await s.scalar(select(func.count()).select_from(Case).where(Case.external_id == key)) == 1
                )
            firsts.append(next(ms for r, ms in answers if r.status_code == 201))
        new, replay = [], []
        for _ in range(100):
            key = f"seq-{uuid.uuid4().hex}"
            payload = body(world.spare.pop(), key)
            r, ms = await post(key, payload)
            assert r.status_code == 201
            new.append(ms)
            r, ms = await post(key, payload)
            assert r.status_code == 200 and r.headers["Idempotency-Replayed"] == "true"
            replay.append(ms)
    await owner.dispose()
    figures = [
        figure("new filing, sequential (one connection)", new),
        figure("replay of a filed key, sequential", replay),
        figure(f"10 concurrent calls with one key: each call ({rounds} rounds)", latencies),
        figure("10 concurrent calls with one key: the one that filed", firsts),
    ]
    print_figures(
        f"Idempotency-Key retries (`citylead api --workers {server.workers}`, httpx in the test process)",
        figures,
    )
    print(f"\n{rounds} rounds of 10 concurrent calls with one key: one case each (201 once, 200 nine times).")


# -- the lifecycle again, and the baseline -----------------------------------------------------


async def test_lifecycle_after_the_load(world: World) -> None:
    await _lifecycle(world, "after the load")


async def test_baseline_bare_asyncpg(world: World) -> None:
    world.stop()  # the server's idle pools would hold connections the baseline's 64 need
    levels: list[Level] = []
    for concurrency in LEVELS:
        world.baselines[concurrency] = await sql_level(world, concurrency, SECONDS)
        levels += [world.baselines[concurrency], await sql_level(world, concurrency, SECONDS, notify=False)]
    print_levels(
        "Baseline: a filing's four rows with bare asyncpg (app role, tenant context, prepared statements)",
        SECONDS,
        levels,
        world.baselines,
    )
    print(
        "\n### Hotline filings against the baseline (same run)\n\n"
        "| concurrency | baseline txns/s (rows/s) | NOTIFY trigger off, txns/s | HTTP, 1 worker: filings/s | "
        "ratio | HTTP, 2 workers: filings/s | ratio | HTTP, 1 worker, pool 2+2 | ratio |\n"
        "|---|---|---|---|---|---|---|---|---|"
    )
    by = {(lv.what, lv.result["concurrency"]): lv for lv in world.levels}
    off = {lv.result["concurrency"]: lv for lv in levels if "NOTIFY" in lv.what}
    for c, base in world.baselines.items():
        cells = []
        for what in ("HTTP, 1 worker", "HTTP, 2 workers", f"HTTP, 1 worker, pool {SMALL_POOL}+{SMALL_POOL}"):
            lv = by.get((what, c))
            cells += [f"{lv.per_second:.1f}", f"{lv.per_second / base.per_second:.3f}×"] if lv else ["-", "-"]
        print(
            f"| {c} | {base.per_second:,.0f} ({4 * base.per_second:,.0f}) | {off[c].per_second:,.0f} | "
            + " | ".join(cells)
            + " |"
        )


async def test_lifecycle_in_a_county_of_many_cases(world: World) -> None:
    await _lifecycle(world, "after the baseline's rows")
    _print_plan(await explain_access(world))
    await add_case_id_index(world)
    await _lifecycle(world, "the same with a unique index on cases (id)")
    _print_plan(await explain_access(world), "with a unique index on `cases (id)`")
    labels = list(LIFECYCLES)
    print(
        "\n### The lifecycle as the county fills: median ms per request\n\n| step | "
        + " | ".join(labels)
        + " |\n|---|"
        + "---|" * len(labels)
    )
    for key in ["read", "report", *(a for a, _, _ in STEPS), "loop"]:
        print(f"| {key} | " + " | ".join(f"{LIFECYCLES[lb][key].median_ms:.1f}" for lb in labels) + " |")


def _print_plan(plan: list[str], how: str = "as the schema is") -> None:
    print(
        f"\n`access_case_by_id` for a shift lead of {COUNTY}, {how} (`EXPLAIN ANALYZE`, application role):\n"
    )
    print(
        "```\n"
        + "\n".join(line for line in plan if "InitPlan" not in line and "Result" not in line)
        + "\n```"
    )
