"""Generating several divisions at once (并行生成): ``jobs`` worker processes, each with its own
connection and event loop, taking divisions from a shared queue one after another (pipelined: a
worker plans its next month, of the same division or the next, while the database takes the
previous one); the parent collects each division-month as it commits."""

from __future__ import annotations

import asyncio
import multiprocessing
import queue
from collections.abc import AsyncIterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from sqlalchemy import select

from citylead.db import Database
from citylead.history.generate import Job, MonthDone, generate_divisions
from tenants.context import TenantContext
from tenants.models import Tenant

__all__ = ["in_processes"]


def _worker(url: str, todo: Any, job: Job, done: Any) -> None:
    """In a worker: generate the divisions taken from ``todo`` (paths), reporting each month on
    ``done``; stops when ``todo`` is empty."""

    async def taken(db: Database) -> AsyncIterator[Tenant]:
        while True:
            try:
                path = todo.get_nowait()
            except queue.Empty:
                return
            async with db.transaction(TenantContext(path)) as s:
                county = await s.scalar(select(Tenant).where(Tenant.path == path))
            assert county is not None
            yield county

    async def go() -> None:
        db = Database(url, pool_size=1)
        try:
            await generate_divisions(
                db, taken(db), job, lambda c, month, cases, events: done.put((c.path, month, cases, events))
            )
        finally:
            await db.dispose()

    asyncio.run(go())


async def in_processes(
    db: Database, counties: list[Tenant], job: Job, jobs: int, on_month: MonthDone
) -> None:
    """Generate ``counties`` in ``jobs`` processes; a worker's error is raised here once the others
    have finished (each division-month already committed stays)."""
    url = db.engine.url.render_as_string(hide_password=False)
    by_path = {c.path: c for c in counties}
    context = multiprocessing.get_context("spawn")  # a forked child would share the parent's loop
    workers = min(jobs, len(counties))
    with context.Manager() as manager, ProcessPoolExecutor(workers, mp_context=context) as pool:
        todo, done = manager.Queue(), manager.Queue()
        for c in counties:
            todo.put(c.path)
        futures: list[Future[None]] = [pool.submit(_worker, url, todo, job, done) for _ in range(workers)]
        while True:
            try:
                path, month, cases, events = await asyncio.to_thread(done.get, True, 0.5)
            except queue.Empty:
                if all(f.done() for f in futures):
                    break
                continue
            on_month(by_path[path], month, cases, events)
        for f in futures:
            f.result()
