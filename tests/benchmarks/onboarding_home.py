"""The onboarding benchmarks' world: a fresh ``CITYLEAD_HOME`` (embedded PostgreSQL, no
``CITYLEAD_DATABASE_URL``) seeded by ``citylead up``, the ``citylead`` command as a subprocess, and
the owner's view of the jobs (接入任务) afterwards, read on the same embedded server."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import resource
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import asyncpg
import httpx

from citylead.db.embedded import start_embedded
from citylead.db.roles import DatabaseUrls, bootstrap, to_asyncpg

APP_ROLE, OWNER_ROLE, DATABASE = "citylead_app", "citylead_owner", "citylead"
LIVE_LINE = re.compile(r"\) is live — ([0-9.]+) s")
MANIFEST_LINE = re.compile(r"(\d+) of (\d+) onboarded in ([0-9.]+) s")


@dataclass(frozen=True)
class Run:
    """One finished ``citylead`` command: exit status, output, and when it ran (wall clock)."""

    args: tuple[str, ...]
    returncode: int
    output: str
    started: float  # time.time() just before the process was started
    seconds: float  # process start → exit
    cpu_seconds: float  # the command's own user + system CPU (not the PostgreSQL server's)
    machine_busy: float  # busy CPU seconds of the whole machine meanwhile (2 cores: ≤ 2 × seconds)

    def live_seconds(self) -> float | None:
        """The command's own "… is live — N s" figure (submit → job finished, as it saw it)."""
        found = LIVE_LINE.search(self.output)
        return float(found.group(1)) if found else None

    def manifest_seconds(self) -> tuple[int, int, float] | None:
        """The manifest command's "ok of n onboarded in N s"."""
        found = MANIFEST_LINE.search(self.output)
        return (int(found.group(1)), int(found.group(2)), float(found.group(3))) if found else None


@dataclass(frozen=True)
class Step:
    position: int
    name: str
    state: str
    duration_ms: int | None
    started_at: datetime | None
    finished_at: datetime | None


@dataclass
class Job:
    """A tenant's latest onboarding job as the owner reads it after the command."""

    code: str
    name: str
    path: str
    level: str
    status: str  # the tenant's status now
    kind: str
    template: str
    state: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    steps: list[Step] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        """Created → finished: the job's own time."""
        assert self.finished_at is not None
        return (self.finished_at - self.created_at).total_seconds()

    @property
    def step_seconds(self) -> float:
        """The sum of the steps' recorded durations (their work in their transactions; steps that
        run beside each other both count)."""
        return sum(st.duration_ms or 0 for st in self.steps) / 1000

    @property
    def idle_seconds(self) -> float:
        """Job time with no step running: waiting in the outbox, the relay, the broker, a claim."""
        busy, end = 0.0, None
        for a, b in sorted(
            (st.started_at, st.finished_at) for st in self.steps if st.started_at and st.finished_at
        ):
            if end is None or a > end:
                busy, end = busy + (b - a).total_seconds(), b
            elif b > end:
                busy, end = busy + (b - end).total_seconds(), b
        return self.seconds - busy

    @property
    def slowest(self) -> Step:
        return max(self.steps, key=lambda st: st.duration_ms or 0)


def _machine_busy() -> float:
    """Busy CPU seconds of the whole machine so far, all cores (``/proc/stat``)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:8]]
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


class Home:
    """A temporary ``CITYLEAD_HOME``: everything runs against its embedded PostgreSQL."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CITYLEAD_")}
        env.update(CITYLEAD_HOME=str(self.path), COLUMNS="160")  # COLUMNS: rich's table width
        return env

    def citylead(self, *args: str, timeout: float = 1800) -> Run:
        """Run ``python -m citylead ARGS`` to completion, as an operator would from a shell."""
        usage, busy = resource.getrusage(resource.RUSAGE_CHILDREN), _machine_busy()
        started, t0 = time.time(), time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "citylead", *args],
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            check=False,
        )
        seconds = time.perf_counter() - t0
        done = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = done.ru_utime + done.ru_stime - usage.ru_utime - usage.ru_stime
        output = proc.stdout + proc.stderr
        return Run(args, proc.returncode, output, started, seconds, cpu, _machine_busy() - busy)

    def seed(self, timeout: float = 300, *, history_months: int | None = None) -> float:
        """``citylead up`` on a free port until ``/ready`` answers, then Ctrl-C: the demo province
        is seeded (as on a first ``make up``; with ``history_months`` of demo history instead of
        the default) and the embedded server stopped. Seconds taken."""
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        log = self.path.parent / f"up-{port}.log"
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "citylead", "up", "--port", str(port)],
            env=self.env()
            | ({} if history_months is None else {"CITYLEAD_DEMO_HISTORY_MONTHS": str(history_months)}),
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        try:
            while time.perf_counter() - t0 < timeout:
                if proc.poll() is not None:
                    raise RuntimeError(f"citylead up exited with {proc.returncode}:\n{log.read_text()}")
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(f"http://127.0.0.1:{port}/ready", timeout=2).status_code == 200:
                        break
                time.sleep(0.3)
            else:
                raise RuntimeError(f"citylead up not ready after {timeout} s:\n{log.read_text()}")
            return time.perf_counter() - t0
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
                try:
                    proc.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()

    @contextlib.contextmanager
    def database(self) -> Iterator[DatabaseUrls]:
        """The home's embedded server, started in this process (and stopped after: a ``citylead``
        command run meanwhile would attach to it instead of starting its own)."""
        before = os.environ.get("XDG_RUNTIME_DIR")
        server = start_embedded(self.path)
        try:
            yield asyncio.run(
                bootstrap(server.admin_url, owner_role=OWNER_ROLE, app_role=APP_ROLE, database=DATABASE)
            )
        finally:
            server.stop()
            if before is None:
                os.environ.pop("XDG_RUNTIME_DIR", None)


@contextlib.asynccontextmanager
async def owner_connection(urls: DatabaseUrls) -> AsyncIterator[asyncpg.Connection]:
    """Plain asyncpg as the owner role (the embedded login is a superuser: SET ROLE)."""
    conn = await asyncpg.connect(to_asyncpg(urls.owner))
    try:
        if urls.owner_role:
            await conn.execute(f'SET ROLE "{urls.owner_role}"')
        yield conn
    finally:
        await conn.close()


async def read_jobs(conn: asyncpg.Connection, codes: Iterable[str]) -> dict[str, Job]:
    """The latest onboarding job of each tenant code that has one, with its steps."""
    rows = await conn.fetch(
        """
        SELECT DISTINCT ON (t.code) t.code, t.name, t.path, t.level, t.status, j.tenant_id, j.id, j.kind,
               j.template, j.state, j.created_at, j.started_at, j.finished_at
        FROM provisioning_jobs j JOIN tenants t ON t.id = j.tenant_id
        WHERE t.code = ANY($1::text[])
        ORDER BY t.code, j.created_at DESC
        """,
        list(codes),
    )
    jobs: dict[str, Job] = {}
    for r in rows:
        steps = await conn.fetch(
            "SELECT position, name, state, duration_ms, started_at, finished_at FROM provisioning_steps "
            "WHERE tenant_id = $1 AND job_id = $2 ORDER BY position",
            r["tenant_id"],
            r["id"],
        )
        jobs[r["code"]] = Job(
            r["code"], r["name"], r["path"], r["level"], r["status"], r["kind"], r["template"], r["state"],
            r["created_at"], r["started_at"], r["finished_at"], [Step(**dict(s)) for s in steps],
        )  # fmt: skip
    return jobs


async def province_status(conn: asyncpg.Connection, province: str) -> dict[str, tuple[str, str, str]]:
    """Every tenant of the province: code → (level, status, parent code)."""
    rows = await conn.fetch(
        "SELECT t.code, t.level, t.status, p.code AS parent FROM tenants t "
        "LEFT JOIN tenants p ON p.id = t.parent_id WHERE t.path ^@ $1 ORDER BY t.code",
        f"/{province[:2]}/",
    )
    return {r["code"]: (r["level"], r["status"], r["parent"] or "") for r in rows}
