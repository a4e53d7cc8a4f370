"""What the server does while it is loaded: py-spy samples of a worker, and PostgreSQL's view
(``pg_stat_activity`` sampled: what each connection of the database is doing or waiting for)."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from citylead.db.roles import to_asyncpg
from tests.benchmarks.cases_server import cpu_seconds

WAITS = """
SELECT pid, state, coalesce(wait_event_type || ':' || wait_event, 'running') AS wait
FROM pg_stat_activity
WHERE datname = $1 AND pid <> pg_backend_pid() AND backend_type = 'client backend'
"""
XACTS = "SELECT xact_commit, xact_rollback FROM pg_stat_database WHERE datname = $1"


class Activity:
    """Samples the database's connections every ``interval`` s while a level runs: what each is
    doing or waiting for, and the CPU time of their backends (from ``/proc``)."""

    def __init__(self, admin_url: str, database: str, interval: float = 0.2) -> None:
        self.url, self.database, self.interval = to_asyncpg(admin_url), database, interval
        self.samples = 0
        self.seen: Counter[tuple[str, str]] = Counter()
        self.xacts = (0, 0)  # (committed, rolled back) during the level
        self._first: dict[int, float] = {}
        self._last: dict[int, float] = {}
        self._task: asyncio.Task[None] | None = None
        self._conn: asyncpg.Connection | None = None

    async def __aenter__(self) -> Activity:
        self._conn = await asyncpg.connect(self.url)
        self._x0 = tuple(await self._conn.fetchrow(XACTS, self.database))
        for row in await self._conn.fetch(WAITS, self.database):
            self._first[row["pid"]] = cpu_seconds([row["pid"]])
        self._task = asyncio.create_task(self._run())
        return self

    async def _run(self) -> None:
        assert self._conn is not None
        while True:
            rows = await self._conn.fetch(WAITS, self.database)
            self.samples += 1
            self.seen.update((r["state"] or "?", r["wait"]) for r in rows)
            for r in rows:
                self._first.setdefault(r["pid"], 0.0)  # a backend started during the level
                self._last[r["pid"]] = cpu_seconds([r["pid"]])
            await asyncio.sleep(self.interval)

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None and self._conn is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        for pid in self._last:
            if (now := cpu_seconds([pid])) > 0:
                self._last[pid] = now
        x1 = tuple(await self._conn.fetchrow(XACTS, self.database))
        self.xacts = (x1[0] - self._x0[0], x1[1] - self._x0[1])
        await self._conn.close()

    @property
    def backend_cpu(self) -> float:
        """CPU seconds the database's backends used during the level (sampled: ±0.2 s per backend
        that ended during it)."""
        return sum(self._last.get(pid, first) - first for pid, first in self._first.items())

    def summary(self) -> str:
        """Average connections by state (and, for active ones, what they wait on)."""
        if not self.samples:
            return "-"
        by_state: Counter[str] = Counter()
        for (state, wait), n in self.seen.items():
            label = f"active/{wait}" if state == "active" else state
            by_state[label] += n
        total = sum(by_state.values()) / self.samples
        parts = [f"{n / self.samples:.1f} {label}" for label, n in by_state.most_common(4)]
        return f"{total:.0f}: " + ", ".join(parts)


def py_spy() -> str | None:
    found = Path(sys.executable).parent / "py-spy"
    return str(found) if found.exists() else shutil.which("py-spy")


async def record(pid: int, seconds: int, out: Path) -> Path:
    """py-spy ``record`` of ``pid`` for ``seconds`` at 100 Hz, non-blocking, as collapsed stacks
    (Python frames only: with ``--native`` the frames SQLAlchemy runs in greenlets lose their
    callers, and py-spy must pause the process for every sample)."""
    exe = py_spy()
    assert exe is not None
    args = ["record", "--pid", str(pid), "--duration", str(seconds), "--rate", "100", "--nonblocking"]
    proc = await asyncio.create_subprocess_exec(
        exe,
        *args,
        "--format",
        "raw",
        "--output",
        str(out),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, err = await proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"py-spy failed: {err.decode(errors='replace')}")
    return out


IDLE = ("Condition.wait", "SimpleQueue", "_worker (concurrent")  # threads waiting for work


@dataclass
class Profile:
    samples: int  # active samples (idle threads and the idle event loop left out)
    inclusive: Counter[str]  # function name → samples with it on the stack
    own: Counter[str]  # package of the innermost frame → samples

    def share(self, name: str) -> float:
        return 100 * self.inclusive[name] / max(self.samples, 1)


def read_profile(collapsed: Path) -> Profile:
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in collapsed.read_text("utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit() or any(mark in stack for mark in IDLE):
            continue
        n = int(count)
        total += n
        frames = stack.split(";")
        inclusive.update(dict.fromkeys({f.partition(" (")[0] for f in frames}, n))
        own[_package(frames[-1])] += n
    return Profile(total, inclusive, own)


def _package(frame: str) -> str:
    """The library a frame is in: ``sqlalchemy``, ``asyncpg``, ``citylead.cases``, ``libc``…"""
    name, _, where = frame.partition(" (")
    path = where.rsplit(":", 1)[0].rstrip(")")
    if path.endswith(".so.6") or path.startswith("libc"):
        return f"libc: {name}" if name in ("write", "read", "send", "recv") else "libc"
    if path.startswith(("citylead/", "tenants/")):
        return ".".join(path.split("/")[:2]).removesuffix(".py")
    if "/" in path:
        return path.split("/", 1)[0]
    return path.removesuffix(".py").split(".")[0] or "?"
