"""Load levels: run ``loadgen`` as its own process against the server (or, for the baseline, the
database), account for everyone's CPU meanwhile, and print the levels as a table."""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select, text

from citylead.cases.models import Case, CaseEvent, IntakeKey
from citylead.db import Database
from citylead.db.roles import to_asyncpg
from citylead.jobs.outbox import OutboxMessage
from tests.benchmarks.cases_profile import Activity
from tests.benchmarks.cases_server import ApiServer, BenchDatabase, Point, cpu_seconds, machine_busy

ROOT = Path(__file__).resolve().parents[2]
BASELINE_CLASS = "10002"  # the baseline's rows: a class the load never files, so they join nothing


@dataclass
class Level:
    what: str
    result: dict[str, Any]  # loadgen's summary
    wall: float
    cpu: dict[str, float]  # seconds: server, postgres (this database's backends), loadgen, machine
    activity: str
    xacts: tuple[int, int]  # (committed, rolled back) in the database during the level
    workers: list[float] = field(default_factory=list)  # CPU seconds of each server worker process

    @property
    def completed(self) -> int:
        return int(self.result["completed"])

    @property
    def per_second(self) -> float:
        return float(self.result["per_second"])

    def ms_per(self, who: str) -> float:
        """CPU milliseconds of ``who`` per completed request."""
        return 1000 * self.cpu[who] / max(self.completed, 1)


@dataclass
class World:
    db: BenchDatabase
    home: Path
    classes: list[str]
    points: list[Point]  # request k files loadgen.pair(k, …) of these and the classes
    spare: list[Point]  # points outside the load, for the lifecycle and the retries
    tenants: dict[str, tuple[str, str]]  # county code → (id, path)
    next_k: int = 0
    server: ApiServer | None = None
    levels: list[Level] = field(default_factory=list)
    baselines: dict[int, Level] = field(default_factory=dict)
    template: dict[str, Any] | None = None

    def start(self, workers: int, *, pool_size: int | None = None) -> ApiServer:
        """``citylead api --workers N`` (stopping another configuration first)."""
        if self.server is not None and (self.server.workers, self.server.pool_size) == (workers, pool_size):
            return self.server
        self.stop()
        self.server = ApiServer(self.db, self.home, workers, pool_size)
        self.server.wait_ready()
        return self.server

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None

    def take(self, n: int) -> None:
        self.next_k += n

    def owner(self) -> Database:
        return Database(self.db.urls.owner, role=self.db.urls.owner_role, pool_size=1)


async def run(world: World, spec: dict[str, Any], what: str) -> Level:
    spec_file = world.home / f"spec-{uuid.uuid4().hex[:8]}.json"
    out = spec_file.with_suffix(".out.json")
    spec_file.write_text(json.dumps(spec), "utf-8")
    server_pids = world.server.pids() if world.server is not None else []
    worker_pids = world.server.worker_pids() if world.server is not None else []
    srv0, (busy0, _) = cpu_seconds(server_pids), machine_busy()
    per0 = [cpu_seconds([p]) for p in worker_pids]
    t0 = time.perf_counter()
    async with Activity(world.db.admin, world.db.name) as activity:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.benchmarks.loadgen", str(spec_file), str(out), cwd=ROOT
        )
        assert await proc.wait() == 0, "the load generator failed"
    wall = time.perf_counter() - t0
    result = json.loads(out.read_text("utf-8"))
    cpu = {
        "server": cpu_seconds(server_pids) - srv0,
        "postgres": activity.backend_cpu,
        "loadgen": result["cpu_seconds"],
        "machine": machine_busy()[0] - busy0,
    }
    workers = [cpu_seconds([p]) - c0 for p, c0 in zip(worker_pids, per0, strict=True)]
    return Level(what, result, wall, cpu, activity.summary(), activity.xacts, workers)


def http_spec(world: World, token: str, concurrency: int, seconds: float, **extra: Any) -> dict[str, Any]:
    assert world.server is not None
    return {
        "mode": "http",
        "host": "127.0.0.1",
        "port": world.server.port,
        "token": token,
        "concurrency": concurrency,
        "seconds": seconds,
        "classes": world.classes,
        "points": [[p.lon, p.lat] for p in world.points],
        "offset": world.next_k,
        "limit": len(world.points) * len(world.classes) - world.next_k,
        "key_prefix": "hotline",
        **extra,
    }


async def http_level(world: World, token: str, concurrency: int, seconds: float, **extra: Any) -> Level:
    assert world.server is not None
    spec = http_spec(world, token, concurrency, seconds, **extra)
    server = world.server
    pool = f", pool {server.pool_size}+{server.pool_size}" if server.pool_size else ""
    level = await run(world, spec, f"HTTP, {server.workers} worker{'s' * (server.workers > 1)}{pool}")
    world.take(level.result["used"])
    r = level.result
    # Every request made a new case: no replay or joined duplicate (200), no error.
    assert r["statuses"] == {"201": r["completed"]}, (r["statuses"], r["samples"])
    assert not r["exhausted"], "ran out of (point, class) pairs"
    return level


async def _template(world: World) -> dict[str, Any]:
    """The rows the latest hotline filing wrote, as the baseline's template."""
    owner = world.owner()
    try:
        async with owner.transaction(None) as s:
            key = await s.scalar(
                select(IntakeKey)
                .where(IntakeKey.key.startswith("hotline-"))
                .order_by(IntakeKey.created_at.desc())
                .limit(1)
            )
            assert key is not None, "no hotline filing yet"
            case = await s.scalar(select(Case).where(Case.tenant_id == key.tenant_id, Case.id == key.case_id))
            ev = await s.scalar(select(CaseEvent).where(CaseEvent.case_id == key.case_id))
            outbox = await s.scalar(
                select(OutboxMessage).where(OutboxMessage.payload["case_id"].astext == str(key.case_id))
            )
            assert case is not None and ev is not None and outbox is not None
    finally:
        await owner.dispose()
    payload = {k: v for k, v in outbox.payload.items() if k not in ("tenant_id", "tenant_path", "case_id")}
    return {
        "day": case.number.split("-")[1],
        "class_code": BASELINE_CLASS,
        "class_name": case.class_name,
        "grid_code": case.grid_code,
        "street_code": case.street_code,
        "community_code": case.community_code,
        "reporter": json.dumps(case.reporter, ensure_ascii=False),
        "standards": json.dumps(case.standards, ensure_ascii=False),
        "limits": json.dumps(case.limits, ensure_ascii=False),
        "suggestion": json.dumps(case.suggestion, ensure_ascii=False),
        "actor": case.reported_by,
        "reason": ev.reason,
        "event_data": json.dumps(ev.data, ensure_ascii=False),
        "request_hash": key.request_hash,
        "payload": payload,
    }


async def sql_level(world: World, concurrency: int, seconds: float, *, notify: bool = True) -> Level:
    """The baseline: the four rows of a filing per transaction with bare asyncpg, app role and
    tenant context. ``notify=False``: with the outbox's NOTIFY trigger disabled meanwhile."""
    if world.template is None:
        world.template = await _template(world)
    spec = {
        "mode": "sql",
        "dsn": to_asyncpg(world.db.urls.app),
        "concurrency": concurrency,
        "seconds": seconds,
        "template": world.template,
        "tenants": world.tenants,
        "points": [[p.county, p.lon, p.lat] for p in world.points],
        "offset": 0,
        "limit": 10**9,
        "key_prefix": f"sql-{uuid.uuid4().hex[:8]}",
    }
    what = "bare asyncpg, 4 INSERTs per transaction" + ("" if notify else ", outbox NOTIFY trigger off")
    owner = world.owner()
    try:
        if not notify:
            async with owner.transaction(None) as s:
                await s.execute(text("ALTER TABLE outbox DISABLE TRIGGER outbox_notify"))
        level = await run(world, spec, what)
    finally:
        if not notify:
            async with owner.transaction(None) as s:
                await s.execute(text("ALTER TABLE outbox ENABLE TRIGGER outbox_notify"))
        await owner.dispose()
    assert level.result["statuses"] == {"201": level.completed}, level.result["samples"]
    return level


def print_levels(title: str, seconds: float, levels: list[Level], baselines: dict[int, Level]) -> None:
    print(
        f"\n### {title}\n\n{seconds:.0f} s per level. Ratio: requests/s to the baseline's transactions/s at "
        "the same concurrency. CPU: % of one core over the level (the machine has 2: 200 %) for the "
        "server (with 2 workers: each, in brackets) / this database's PostgreSQL backends (sampled) / "
        "the load generator / the whole machine; and "
        "CPU ms per request for the server and PostgreSQL. Connections: average over samples every "
        "0.2 s.\n\n"
        "| what | conc. | completed | per s | p50 ms | p99 ms | errors | ratio to baseline | "
        "txns per request (commit + rollback) | CPU % srv / pg / gen / all | CPU ms per request srv / pg | "
        "connections |\n|---|---|---|---|---|---|---|---|---|---|---|---|"
    )
    for lv in levels:
        r = lv.result
        errors = lv.completed - r["statuses"].get("201", 0)
        base = baselines.get(r["concurrency"])
        if r["mode"] == "sql" and lv is base:
            ratio = f"1.00× (baseline: {4 * lv.per_second:,.0f} rows/s)"
        elif base is not None:
            ratio = f"{lv.per_second / base.per_second:.3f}×"
        else:
            ratio = "-"
        commits, rollbacks = (x / max(lv.completed, 1) for x in lv.xacts)
        share = " / ".join(
            f"{100 * lv.cpu[k] / lv.wall:.0f}" for k in ("server", "postgres", "loadgen", "machine")
        )
        if len(lv.workers) > 1:  # how the connections fell on the workers
            share += " (" + " + ".join(f"{100 * w / lv.wall:.0f}" for w in lv.workers) + ")"
        print(
            f"| {lv.what} | {r['concurrency']} | {lv.completed} | {lv.per_second:.1f} | {r['p50_ms']:.1f} | "
            f"{r['p99_ms']:.1f} | {errors} | {ratio} | {commits:.2f} + {rollbacks:.2f} | {share} | "
            f"{lv.ms_per('server'):.2f} / {lv.ms_per('postgres'):.2f} | {lv.activity} |"
        )
