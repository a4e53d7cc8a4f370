"""The case benchmarks' world: a database of their own with the demo seeded, ``citylead api`` as a
subprocess, demo sign-in, points that make new cases, and CPU time read from ``/proc``."""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import random
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import shapely
from shapely.geometry import shape
from sqlalchemy import select
from sqlalchemy.engine import make_url

from citylead.db import Database
from citylead.db.migrate import upgrade
from citylead.db.roles import DatabaseUrls, bootstrap, to_asyncpg
from citylead.demo import HOTLINE_CLIENT, HOTLINE_SECRET, seed_demo
from citylead.geography.models import Grid
from tenants.models import Tenant

PILOT_COUNTIES = ("320402", "320404", "320411", "320412", "320413", "320481")  # 常州市's divisions
TOKEN = "/idp/realms/citylead/protocol/openid-connect/token"
APP_ROLE, OWNER_ROLE = "citylead_app", "citylead_owner"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def admin_url() -> str:
    return os.environ.get("CITYLEAD_TEST_DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/postgres"


@dataclass(frozen=True)
class BenchDatabase:
    name: str
    admin: str  # a superuser URL to this database: what `citylead api` is given
    urls: DatabaseUrls


async def create_seeded() -> BenchDatabase:
    """A fresh database, migrated, with the demo province seeded as `citylead up` seeds it."""
    name = f"citylead_bench_{uuid.uuid4().hex[:8]}"
    urls = await bootstrap(admin_url(), owner_role=OWNER_ROLE, app_role=APP_ROLE, database=name)
    await asyncio.to_thread(upgrade, urls, app_role=APP_ROLE)
    owner = Database(urls.owner, role=urls.owner_role, pool_size=1)
    try:
        await seed_demo(owner, provisioner_secret="bench-provisioner")
    finally:
        await owner.dispose()
    admin = make_url(admin_url()).set(database=name).render_as_string(hide_password=False)
    return BenchDatabase(name, admin, urls)


async def drop(db: BenchDatabase) -> None:
    conn = await asyncpg.connect(to_asyncpg(admin_url()))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{db.name}" WITH (FORCE)')
    finally:
        await conn.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ApiServer:
    """``citylead api --workers N`` on a free port, as the Helm chart runs it."""

    def __init__(self, db: BenchDatabase, home: Path, workers: int, pool_size: int | None = None) -> None:
        self.port, self.workers, self.pool_size = free_port(), workers, pool_size
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = home / f"api-{workers}w-{self.port}.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("CITYLEAD_")}
        env.update(CITYLEAD_HOME=str(home), CITYLEAD_DATABASE_URL=db.admin, CITYLEAD_LOG_LEVEL="warning")
        if pool_size is not None:  # the engine's pool: pool_size + as many overflow connections
            env["CITYLEAD_DB_POOL_SIZE"] = str(pool_size)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "citylead", "api", "--port", str(self.port), "--workers", str(workers)],
            env=env,
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"citylead api exited with {self.proc.returncode}:\n{self.output()}")
            with contextlib.suppress(httpx.HTTPError):
                ready = httpx.get(f"{self.base}/ready", timeout=2).status_code == 200
                if ready and len(self.worker_pids()) >= self.workers:
                    return
            time.sleep(0.3)
        raise RuntimeError(f"citylead api not ready after {timeout} s:\n{self.output()}")

    def output(self) -> str:
        return self.log.read_text("utf-8", errors="replace")

    def pids(self) -> list[int]:
        """The server's processes: the supervisor and its workers (one process with 1 worker)."""
        return [self.proc.pid, *descendants(self.proc.pid)]

    def worker_pids(self) -> list[int]:
        children = [p for p in descendants(self.proc.pid) if "spawn_main" in _cmdline(p)]
        return children or [self.proc.pid]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def token(self, **form: str) -> str:
        r = httpx.post(f"{self.base}{TOKEN}", data=form, timeout=30)
        r.raise_for_status()
        return str(r.json()["access_token"])

    def hotline_token(self) -> str:
        return self.token(
            grant_type="client_credentials", client_id=HOTLINE_CLIENT, client_secret=HOTLINE_SECRET
        )

    def user_token(self, username: str) -> str:
        return self.token(
            grant_type="password", client_id="citylead", username=username, password="citylead-demo"
        )


# -- points that make new cases ----------------------------------------------------------------


async def grid_points(db: BenchDatabase, counties: Iterable[str], *, spacing_m: float = 60.0) -> list[Point]:
    """Points of one lattice (``spacing_m`` apart, more than the 50 m duplicate radius) that lie
    inside a demo grid of ``counties`` at least 15 m from its edge; shuffled, so consecutive
    points fall in different grids and counties."""
    owner = Database(db.urls.owner, role=db.urls.owner_role, pool_size=1)
    try:
        async with owner.transaction(None) as s:
            rows = (
                await s.execute(
                    select(Tenant.code, Grid.code, Grid.geometry)
                    .join(Tenant, Tenant.id == Grid.tenant_id)
                    .where(Tenant.code.in_(list(counties)))
                    .order_by(Grid.code)
                )
            ).all()
    finally:
        await owner.dispose()
    lat0 = 31.8
    dlat = spacing_m / 111_320
    dlon = dlat / math.cos(math.radians(lat0))
    margin = 15 / 111_320
    seen: set[tuple[int, int]] = set()
    points: list[Point] = []
    for county, grid, geometry in rows:
        inner = shape(geometry).buffer(-margin)
        if inner.is_empty:
            continue
        minx, miny, maxx, maxy = inner.bounds
        for i in range(math.ceil(minx / dlon), math.floor(maxx / dlon) + 1):
            for j in range(math.ceil(miny / dlat), math.floor(maxy / dlat) + 1):
                if (i, j) not in seen and shapely.contains_xy(inner, i * dlon, j * dlat):
                    seen.add((i, j))
                    points.append(Point(county, grid, round(i * dlon, 7), round(j * dlat, 7)))
    random.Random(20261122).shuffle(points)
    return points


@dataclass(frozen=True)
class Point:
    county: str
    grid: str
    lon: float
    lat: float


# -- CPU time from /proc ---------------------------------------------------------------------------


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def descendants(root: int) -> list[int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = [], [root]
    while frontier:
        kids = [p for p, pp in parents.items() if pp in frontier]
        found += kids
        frontier = kids
    return found


def cpu_seconds(pids: Iterable[int]) -> float:
    """User + system CPU seconds of ``pids`` so far (processes that ended are skipped)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / CLK_TCK


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, all cores."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    total = sum(fields[:8])
    return (total - idle) / CLK_TCK, total / CLK_TCK
