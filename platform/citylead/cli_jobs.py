"""``citylead worker``: background jobs in the foreground, for production (one or more per cluster).

The same runtime ``citylead up`` starts beside the web server: dramatiq worker threads, the outbox
relay and the periodic scheduler. It does not migrate: ``citylead migrate`` (the Helm pre-upgrade
job) does, and a worker started against an older schema stops with that advice. ``--health-port``
serves ``/health`` (every thread alive) and ``/ready`` (database and broker reachable) for a pod's
probes.
"""

from __future__ import annotations

import asyncio
import signal
import threading
from types import FrameType
from typing import TYPE_CHECKING

import click

from citylead.cli_support import console, friendly, load_settings
from tenants.errors import ServiceUnavailable

if TYPE_CHECKING:
    from citylead.db import Database

__all__ = ["worker"]


@click.command()
@click.option("--threads", type=click.IntRange(1, 64), default=None, help="Worker threads (default 2).")
@click.option(
    "--health-port",
    type=click.IntRange(1, 65535),
    default=None,
    help="Serve /health and /ready on this port for probes (default: none).",
)
@click.option("--health-host", default="127.0.0.1", show_default=True, help="Interface of --health-port.")
@friendly
def worker(threads: int | None, health_port: int | None, health_host: str) -> None:
    """Run background jobs: dramatiq workers, the outbox relay and the periodic scheduler."""
    from citylead.db import Database
    from citylead.db.migrate import head_revision
    from citylead.jobs.worker import HealthServer, InProcessWorker
    from citylead.runtime import prepare

    settings = load_settings()
    if threads is not None:
        settings.jobs = settings.jobs.model_copy(update={"worker_threads": threads})
    runtime = prepare(settings, migrate=False)
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        stop.set()

    jobs: InProcessWorker | None = None
    health: HealthServer | None = None
    try:
        revision = asyncio.run(_revision(Database(runtime.urls.app, pool_size=1)))
        if revision != head_revision():
            raise ServiceUnavailable(
                f"the database schema is at {revision or 'nothing'}, this worker needs {head_revision()}: "
                "run `citylead migrate` first"
            )
        jobs = InProcessWorker(settings, database_url=runtime.urls.app, app_database_url=runtime.urls.app)
        jobs.start()
        if health_port is not None:
            try:
                health = HealthServer(jobs, host=health_host, port=health_port)
            except OSError as exc:
                raise click.ClickException(
                    f"cannot serve probes on {health_host}:{health_port}: {exc}"
                ) from exc
            health.start()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, on_signal)
        console.print(
            f"citylead worker: {settings.jobs.broker} broker, {settings.jobs.worker_threads} threads, "
            f"{len(jobs.registry)} jobs"
            + (f", probes on http://{health_host}:{health_port}/health" if health else "")
            + ". Ctrl-C to stop."
        )
        stop.wait()
    finally:
        with console.status("Stopping…"):
            if health is not None:
                health.stop()
            if jobs is not None:
                jobs.stop()
            runtime.stop()
    console.print("citylead worker stopped")


async def _revision(db: Database) -> str | None:
    try:
        return await db.ping()
    finally:
        await db.dispose()
