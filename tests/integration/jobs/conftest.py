"""Jobs fixtures: the REAL brokers (PostgreSQL on the test database, RabbitMQ on 127.0.0.1:5672),
probe jobs that record their runs, and a helper to wait for something to happen.

Queues get a per-session name: RabbitMQ is shared by everyone on the machine, so tests never
touch ``default`` there. The outbox is shared by the whole test session: tests assert on their own
rows only, never on counts of every row.
"""

from __future__ import annotations

import asyncio
import dataclasses
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import dramatiq
import pytest
from dramatiq.middleware import Middleware
from sqlalchemy import text

from citylead.db import Database
from citylead.db.roles import DatabaseUrls
from citylead.jobs import notifications
from citylead.jobs.broker import make_broker
from citylead.jobs.registry import Job, JobContext, Registry, job
from citylead.settings import JobsSettings, Settings

RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672/"
QUEUE = f"citylead_test_{uuid.uuid4().hex[:8]}"
BROKERS = ["postgres", "rabbitmq"]


def rabbitmq_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5672), timeout=1):
            return True
    except OSError:
        return False


def jobs_settings(kind: str, **jobs: Any) -> Settings:
    settings = Settings()
    settings.jobs = JobsSettings(
        broker=kind,  # type: ignore[arg-type]
        rabbitmq_url=RABBITMQ_URL if kind == "rabbitmq" else None,  # type: ignore[arg-type]
        **jobs,
    )
    return settings


def on_test_queue(j: Job) -> Job:
    return dataclasses.replace(j, queue=QUEUE)


class Sent(Middleware):
    """Records the id of every message the broker actually sent (after the broker accepted it)."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.lock = threading.Lock()

    def after_enqueue(self, broker: dramatiq.Broker, message: dramatiq.Message[Any], delay: Any) -> None:
        with self.lock:
            self.ids.append(message.message_id)


class Probe:
    """Jobs whose runs are recorded (payload and the moment of the run)."""

    def __init__(self) -> None:
        self.runs: list[tuple[float, dict[str, Any]]] = []
        self.lock = threading.Lock()

    def job(self, name: str) -> Job:
        async def record(ctx: JobContext, **payload: Any) -> None:
            with self.lock:
                self.runs.append((time.perf_counter(), payload))

        return job(name, queue=QUEUE, max_retries=0)(record)

    def payloads(self) -> list[dict[str, Any]]:
        with self.lock:
            return [p for _, p in self.runs]


async def eventually(check: Callable[[], Awaitable[bool] | bool], within: float = 10.0) -> None:
    """Wait until ``check()`` is true; fail after ``within`` seconds."""
    deadline = time.monotonic() + within
    while True:
        result = check()
        if isinstance(result, Awaitable):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            pytest.fail(f"not true within {within} s")
        await asyncio.sleep(0.02)


@pytest.fixture(params=BROKERS)
def broker_kind(request: pytest.FixtureRequest) -> str:
    kind: str = request.param
    if kind == "rabbitmq" and not rabbitmq_reachable():
        pytest.skip("RabbitMQ is not reachable on 127.0.0.1:5672 (start it, or CI provides it)")
    return kind


@pytest.fixture
async def clean_queue(owner_db: Database) -> None:
    """The PostgreSQL broker's queue is empty when a test starts."""
    async with owner_db.transaction(None) as s:
        await s.execute(text("DELETE FROM dramatiq.queue"))


@pytest.fixture
def broker(
    broker_kind: str, database_urls: DatabaseUrls, clean_queue: None
) -> Iterator[tuple[dramatiq.Broker, Sent]]:
    """A real broker of ``broker_kind`` (connecting as the application role) and what it sent."""
    b = make_broker(jobs_settings(broker_kind), database_url=database_urls.app)
    sent = Sent()
    b.add_middleware(sent)
    yield b, sent
    if broker_kind == "rabbitmq":
        for q in (QUEUE, f"{QUEUE}.DQ", f"{QUEUE}.XQ"):
            b.channel.queue_delete(q)
    b.close()


@pytest.fixture
def probe() -> Probe:
    return Probe()


@pytest.fixture
def registry_with(probe: Probe) -> Callable[..., Registry]:
    """A registry of the notification job and probe jobs, all on the test queue."""

    def build(*probe_names: str) -> Registry:
        return Registry([on_test_queue(notifications.send), *(probe.job(n) for n in probe_names)])

    return build


@pytest.fixture
async def job_context(database_urls: DatabaseUrls) -> AsyncIterator[JobContext]:
    """A context for running job functions directly on the test loop."""
    ctx = JobContext(Database(database_urls.app, pool_size=2))
    yield ctx
    await ctx.aclose()
