"""The job registry (任务登记): plain async functions, declared as dramatiq actors only at start-up.

A job is ``async def fn(ctx: JobContext, **payload) -> None`` marked with :func:`job`. Marking
registers nothing globally: a process builds a :class:`Registry` from the jobs it runs
(:func:`citylead.jobs.catalog.build_registry`) and :func:`citylead.jobs.broker.declare` turns each
one into an actor on an explicit broker. So no module ever touches dramatiq's default broker.

Payloads are JSON: ids and plain values. Messages from the outbox always carry ``tenant_id`` and
``tenant_path``; a job enters that tenant with ``ctx.transaction(tenant_path)``.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from inspect import iscoroutinefunction
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from tenants.context import TenantContext
from tenants.standards.resolver import Resolver

if TYPE_CHECKING:
    from citylead.db import Database
    from citylead.settings import Settings

__all__ = ["Job", "JobContext", "JobFn", "Periodic", "Registry", "job"]

_NAME = re.compile(r"^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)*$")  # "notifications.send"
_QUEUE = re.compile(r"^[a-z_][a-z0-9_-]*$")


@dataclass
class JobContext:
    """What every job may use; one per worker process, used only on the worker's event loop."""

    db: Database  # the application role: row-level security applies to jobs too
    resolver: Resolver = field(default_factory=Resolver)
    settings: Settings | None = None
    # per-process helpers a job creates once and keeps (e.g. onboarding's identity-provider server)
    extras: dict[str, Any] = field(default_factory=dict)

    def transaction(self, tenant_path: str) -> AbstractAsyncContextManager[AsyncSession]:
        """One transaction in the payload's tenant: ``async with ctx.transaction(tenant_path) as s``."""
        return self.db.transaction(TenantContext(tenant_path))

    async def aclose(self) -> None:
        for extra in self.extras.values():
            close = getattr(extra, "stop", None)
            if callable(close):
                close()
        self.extras.clear()
        await self.db.dispose()


JobFn = Callable[..., Awaitable[None]]  # async def fn(ctx: JobContext, **payload) -> None


@dataclass(frozen=True)
class Job:
    """A job function and how dramatiq runs it. Call it directly in tests: ``await job.fn(ctx, ...)``."""

    name: str
    fn: JobFn
    queue: str = "default"
    max_retries: int = 5
    time_limit_ms: int = 60_000


def job(
    name: str, *, queue: str = "default", max_retries: int = 5, time_limit_ms: int = 60_000
) -> Callable[[JobFn], Job]:
    """Mark ``async def fn(ctx, **payload)`` as job ``name`` (registers nothing by itself).

    ``max_retries`` failed runs are retried with dramatiq's exponential backoff; a run longer than
    ``time_limit_ms`` is interrupted. Jobs must be idempotent: delivery is at least once.
    """
    if not _NAME.match(name) or len(name) > 64:
        raise ValueError(f"job name {name!r}: lowercase dotted words, at most 64 characters")
    if not _QUEUE.match(queue) or len(queue) > 64:
        raise ValueError(f"queue {queue!r}: lowercase letters, digits, '_' and '-'")
    if max_retries < 0 or time_limit_ms <= 0:
        raise ValueError("max_retries must be >= 0 and time_limit_ms > 0")

    def mark(fn: JobFn) -> Job:
        if not iscoroutinefunction(fn):
            raise TypeError(f"job {name!r} must be an async function")
        return Job(name, fn, queue, max_retries, time_limit_ms)

    return mark


@dataclass(frozen=True)
class Periodic:
    """Send job ``name`` every ``seconds`` (from one scheduler of the deployment)."""

    name: str
    seconds: float


class Registry:
    """The jobs one process runs and the periodic ones it schedules; built at start-up."""

    def __init__(self, jobs: Iterable[Job] = ()) -> None:
        self._jobs: dict[str, Job] = {}
        self._periodic: dict[str, Periodic] = {}
        self.include(*jobs)

    def include(self, *jobs: Job) -> Registry:
        for j in jobs:
            if j.name in self._jobs and self._jobs[j.name] is not j:
                raise ValueError(f"two jobs named {j.name!r}")
            self._jobs[j.name] = j
        return self

    def every(self, seconds: float, name: str) -> Registry:
        """Send ``name`` (a job included here) every ``seconds``; its payload is ``scheduled_at``."""
        if name not in self._jobs:
            raise ValueError(f"periodic job {name!r} is not registered")
        if seconds <= 0:
            raise ValueError("the interval must be positive")
        self._periodic[name] = Periodic(name, float(seconds))
        return self

    def get(self, name: str) -> Job | None:
        return self._jobs.get(name)

    @property
    def jobs(self) -> list[Job]:
        return list(self._jobs.values())

    @property
    def periodic(self) -> list[Periodic]:
        return list(self._periodic.values())

    def __contains__(self, name: object) -> bool:
        return name in self._jobs

    def __len__(self) -> int:
        return len(self._jobs)
