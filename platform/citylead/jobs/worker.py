"""The worker runtime (后台进程): dramatiq worker threads, the outbox relay and the scheduler.

``citylead up`` runs one :class:`InProcessWorker` beside uvicorn; ``citylead worker`` runs the same
in the foreground (production: one or more worker pods, RabbitMQ). Everything runs in threads:
dramatiq's worker threads hand jobs to one event loop thread (the ``JobLoop`` middleware), and a
``citylead-jobs`` thread runs the relay and the scheduler on a loop of its own, so nothing blocks
the web server's event loop. :meth:`InProcessWorker.stop` returns within a few seconds.

:class:`HealthServer` answers a pod's probes (``citylead worker --health-port``): ``/health`` is 200
while every thread of the worker is alive (a dead relay or worker thread means restart the pod),
``/ready`` is 200 while the database answers and the broker accepts a connection (an outage of
either is not the pod's fault, so it never fails liveness).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import dramatiq
import pika  # type: ignore[import-untyped]
import psycopg

from citylead.db import Database
from citylead.db.roles import to_asyncpg
from citylead.jobs.broker import declare, make_broker
from citylead.jobs.catalog import build_registry
from citylead.jobs.registry import JobContext, Registry
from citylead.jobs.relay import Relay
from citylead.jobs.schedule import LOCK_NAME, Scheduler
from citylead.settings import Settings

__all__ = ["HealthServer", "InProcessWorker"]

PROBE_TIMEOUT_SECONDS = 3

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

    def dead_threads(self) -> list[str]:
        """The names of the worker's threads that have died (none while it is healthy)."""
        dead = [] if self._thread is not None and self._thread.is_alive() else ["citylead-jobs"]
        if self._worker is None:
            return [*dead, "dramatiq"]
        threads = [*self._worker.consumers.values(), *self._worker.workers]
        return dead + [t.name for t in threads if not t.is_alive()]

    def checks(self) -> dict[str, str]:
        """``database`` and ``broker``: ``"ok"`` or why not (a fresh connection each, a few seconds
        at most). The PostgreSQL broker lives in the database, so its check is the database's."""
        result = {"database": _check_database(self.app_database_url)}
        jobs = self.settings.jobs
        if jobs.broker == "rabbitmq" and jobs.rabbitmq_url is not None:
            result["broker"] = _check_rabbitmq(jobs.rabbitmq_url.get_secret_value())
        else:
            result["broker"] = result["database"]
        return result

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


def _check_database(url: str) -> str:
    try:
        with psycopg.connect(to_asyncpg(url), connect_timeout=PROBE_TIMEOUT_SECONDS) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        return f"unreachable: {type(exc).__name__}"
    return "ok"


def _check_rabbitmq(url: str) -> str:
    params = pika.URLParameters(url)
    params.socket_timeout = params.blocked_connection_timeout = PROBE_TIMEOUT_SECONDS
    params.connection_attempts = 1
    try:
        pika.BlockingConnection(params).close()
    except Exception as exc:  # pika raises many unrelated types for "cannot connect"
        return f"unreachable: {type(exc).__name__}"
    return "ok"


class HealthServer:
    """``GET /health`` and ``GET /ready`` for a worker's probes, from a thread of their own."""

    def __init__(self, worker: InProcessWorker, *, host: str = "127.0.0.1", port: int = 8081) -> None:
        self.worker = worker
        self._server = ThreadingHTTPServer((host, port), _handler(worker))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="citylead-health", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(5)
            self._thread = None
        self._server.server_close()


def _handler(worker: InProcessWorker) -> type[BaseHTTPRequestHandler]:
    class Probe(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/health":
                dead = worker.dead_threads()
                self._answer(503 if dead else 200, {"status": "dead" if dead else "ok", "dead": dead})
            elif self.path == "/ready":
                checks = worker.checks()
                ready = all(v == "ok" for v in checks.values())
                self._answer(200 if ready else 503, {"status": "ready" if ready else "not ready", **checks})
            else:
                self._answer(404, {"status": "not found"})

        def _answer(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # probes every few seconds: no log
            pass

    return Probe
