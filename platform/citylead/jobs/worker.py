"""The worker runtime (后台进程): dramatiq worker threads, the outbox relay and the scheduler.

``citylead up`` runs one :class:`InProcessWorker` beside uvicorn; ``citylead worker`` runs the same
in the foreground (production: one or more worker pods, RabbitMQ). Everything runs in threads:
dramatiq's worker threads hand jobs to one event loop thread (the ``JobLoop`` middleware), and a
``citylead-jobs`` thread runs the relay and the scheduler on a loop of its own, so nothing blocks
the web server's event loop. :meth:`InProcessWorker.stop` returns within a few seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading

import dramatiq

from citylead.db import Database
from citylead.jobs.broker import declare, make_broker
from citylead.jobs.catalog import build_registry
from citylead.jobs.registry import JobContext, Registry
from citylead.jobs.relay import Relay
from citylead.jobs.schedule import LOCK_NAME, Scheduler
from citylead.settings import Settings

__all__ = ["InProcessWorker"]

log = logging.getLogger(__name__)


class InProcessWorker:
    """Runs jobs, relays the outbox and schedules periodic jobs until :meth:`stop`.

    ``database_url``: where the PostgreSQL broker keeps its queue (the application role's URL: it
    has the grants); ``app_database_url``: what jobs, the relay and the scheduler connect as.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        database_url: str,
        app_database_url: str,
        registry: Registry | None = None,
        lock_name: str = LOCK_NAME,
    ) -> None:
        self.settings = settings
        self.database_url = database_url
        self.app_database_url = app_database_url
        self.registry = registry if registry is not None else build_registry(settings)
        self.lock_name = lock_name
        self.broker: dramatiq.Broker | None = None
        self.relay: Relay | None = None
        self.scheduler: Scheduler | None = None
        self._worker: dramatiq.Worker | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None

    def start(self) -> None:
        jobs = self.settings.jobs
        broker = self.broker = make_broker(self.settings, database_url=self.database_url)
        try:
            context = JobContext(
                Database(self.app_database_url, pool_size=jobs.worker_threads), settings=self.settings
            )
            declare(broker, self.registry, context=context)
            broker.emit_after("process_boot")  # what dramatiq's CLI does: starts the time limits
            self._worker = dramatiq.Worker(broker, worker_threads=jobs.worker_threads, worker_timeout=250)
            self._worker.start()
            ready = threading.Event()
            self._thread = threading.Thread(
                target=self._run_loop, args=(ready,), name="citylead-jobs", daemon=True
            )
            self._thread.start()
            ready.wait(5)
        except BaseException:
            self.stop()
            raise
        log.info(
            "jobs: %s broker, %d worker threads, %d jobs, relay every %.1f s",
            jobs.broker,
            jobs.worker_threads,
            len(self.registry),
            jobs.relay_interval_seconds,
        )

    def _run_loop(self, ready: threading.Event) -> None:
        asyncio.run(self._main(ready))

    async def _main(self, ready: threading.Event) -> None:
        assert self.broker is not None
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        ready.set()
        db = Database(self.app_database_url, pool_size=2)
        self.relay = Relay(
            db,
            self.broker,
            interval=self.settings.jobs.relay_interval_seconds,
            listen_url=self.app_database_url,
        )
        self.scheduler = Scheduler(
            self.broker, self.registry.periodic, lock_url=self.app_database_url, lock_name=self.lock_name
        )
        try:
            await asyncio.gather(self.relay.run(self._stop), self.scheduler.run(self._stop))
        finally:
            await db.dispose()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop sending first, then the workers (a job still running after ``timeout`` seconds is
        abandoned: its message is redelivered later), then close the broker."""
        if self._thread is not None:
            if self._loop is not None and self._stop is not None:
                with contextlib.suppress(RuntimeError):  # the loop has already ended
                    self._loop.call_soon_threadsafe(self._stop.set)
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("the outbox relay did not stop within %.0f s", timeout)
            self._thread = None
        if self._worker is not None:
            self._worker.stop(timeout=int(timeout * 1000))
            self._worker = None
        if self.broker is not None:
            self.broker.close()
            self.broker = None
