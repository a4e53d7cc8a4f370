"""Brokers (消息代理) and actors, always explicit: nothing here uses dramatiq's global broker.

- ``postgres`` (default, one machine): dramatiq-postgres on the platform's own database, as the
  application role; its tables come from migration 0008 (:mod:`citylead.jobs.broker_tables`).
- ``rabbitmq`` (production): ``CITYLEAD_RABBITMQ_URL``, with publisher confirms, so a message
  counts as sent only once RabbitMQ has stored it.

:func:`declare` turns a :class:`~citylead.jobs.registry.Registry` into actors on one broker. The
actors are thin: they pass the payload to the job function with the worker's
:class:`~citylead.jobs.registry.JobContext`, which lives on the worker's one event loop.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import dramatiq
from dramatiq.asyncio import get_event_loop_thread
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from dramatiq.middleware import AsyncIO
from dramatiq_postgres import PostgresBroker  # type: ignore[import-untyped]

from citylead.db.roles import to_asyncpg
from citylead.jobs.registry import Job, JobContext, Registry
from citylead.settings import Settings
from tenants.errors import Forbidden, InvalidInput, NotFound

__all__ = ["PERMANENT", "declare", "make_broker"]

log = logging.getLogger(__name__)

# Failures that another try cannot fix: the message is dropped (logged), not retried.
PERMANENT: tuple[type[BaseException], ...] = (InvalidInput, NotFound, Forbidden, TypeError, ValueError)


def make_broker(settings: Settings, *, database_url: str) -> dramatiq.Broker:
    """The broker ``settings.jobs.broker`` names. ``database_url`` (any SQLAlchemy or libpq form) is
    where the PostgreSQL broker's queue lives; RabbitMQ ignores it."""
    jobs = settings.jobs
    if jobs.broker == "rabbitmq":
        assert jobs.rabbitmq_url is not None  # the settings validator requires it
        return RabbitmqBroker(url=jobs.rabbitmq_url.get_secret_value(), confirm_delivery=True)
    # results=False: jobs return nothing; LISTEN/NOTIFY wakes consumers, polling is the fallback.
    # A killed worker's messages are requeued once its heartbeat is older than heartbeat_ttl.
    beat = jobs.worker_heartbeat_seconds
    return PostgresBroker(  # type: ignore[no-any-return]
        url=to_asyncpg(database_url),
        results=False,
        heartbeat_interval=beat,
        heartbeat_ttl=4 * beat,
        maintenance_interval=2 * beat,
    )


class JobLoop(AsyncIO):
    """dramatiq's AsyncIO middleware (one event loop thread per worker) that also owns the jobs'
    context: its database pool is closed on that loop when the worker shuts down."""

    def __init__(self, context: JobContext | None) -> None:
        super().__init__()
        self.context = context

    def after_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        thread = get_event_loop_thread()
        if self.context is not None and thread is not None:
            try:
                thread.run_coroutine(self.context.aclose())
            except Exception:
                log.exception("closing the job context failed")
        super().after_worker_shutdown(broker, worker)  # type: ignore[no-untyped-call]


def declare(broker: dramatiq.Broker, registry: Registry, *, context: JobContext | None = None) -> None:
    """Declare every job of ``registry`` as an actor on ``broker``.

    ``context`` is what the jobs run with; a process that only sends (a relay without workers)
    may leave it out, and running a job there fails loudly.
    """
    loop = next((m for m in broker.middleware if isinstance(m, JobLoop)), None)
    if loop is None:
        loop = JobLoop(context)
        broker.add_middleware(loop)
    elif context is not None:
        loop.context = context
    for spec in registry.jobs:
        dramatiq.actor(
            broker=broker,
            actor_name=spec.name,
            queue_name=spec.queue,
            max_retries=spec.max_retries,
            time_limit=spec.time_limit_ms,
            throws=PERMANENT,
        )(_run(spec, loop))


def _run(spec: Job, loop: JobLoop) -> Callable[..., Awaitable[None]]:
    async def run(**payload: Any) -> None:
        if loop.context is None:
            raise RuntimeError(f"job {spec.name} cannot run here: declare() was given no context")
        await spec.fn(loop.context, **payload)

    run.__name__ = run.__qualname__ = spec.name.replace(".", "_")
    run.__module__ = getattr(spec.fn, "__module__", __name__)
    return run
