"""The job registry and ``declare``: pure unit tests on dramatiq's StubBroker (no database)."""

from __future__ import annotations

from typing import Any

import dramatiq
import pytest
from dramatiq.brokers.stub import StubBroker

from citylead.db import Database
from citylead.jobs.broker import PERMANENT, JobLoop, declare
from citylead.jobs.registry import JobContext, Registry, job

seen: list[tuple[JobContext, dict[str, Any]]] = []


@job("probe.echo", queue="echo", max_retries=3, time_limit_ms=1234)
async def echo(ctx: JobContext, **payload: Any) -> None:
    seen.append((ctx, payload))


def test_a_job_must_be_async() -> None:
    def sync(ctx: JobContext) -> None:
        pass

    with pytest.raises(TypeError, match="async"):
        job("probe.sync")(sync)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["Bad Name", "", "x" * 65, "trailing."])
def test_job_names_are_lowercase_dotted_words(name: str) -> None:
    with pytest.raises(ValueError, match="job name"):
        job(name)


def test_the_registry_refuses_two_jobs_of_one_name_and_schedules_only_registered_jobs() -> None:
    other = job("probe.echo")(echo.fn)
    registry = Registry([echo])
    with pytest.raises(ValueError, match=r"two jobs named 'probe\.echo'"):
        registry.include(other)
    with pytest.raises(ValueError, match="not registered"):
        registry.every(10, "probe.missing")
    registry.every(10, "probe.echo")
    assert [(p.name, p.seconds) for p in registry.periodic] == [("probe.echo", 10.0)]


def test_declare_makes_actors_on_the_given_broker_only() -> None:
    broker = StubBroker()
    declare(broker, Registry([echo]))
    actor = broker.get_actor("probe.echo")
    assert actor.queue_name == "echo"
    assert actor.options["max_retries"] == 3
    assert actor.options["time_limit"] == 1234
    assert actor.options["throws"] == PERMANENT
    assert sum(isinstance(m, JobLoop) for m in broker.middleware) == 1
    assert dramatiq.broker.global_broker is None  # nothing fell back to the default broker


def test_a_declared_job_runs_with_the_context_on_the_workers_loop() -> None:
    broker = StubBroker()
    context = JobContext(Database("postgresql+asyncpg://nobody@127.0.0.1:1/none"))
    declare(broker, Registry([echo]), context=context)
    worker = dramatiq.Worker(broker, worker_threads=1, worker_timeout=50)
    worker.start()
    try:
        seen.clear()
        broker.get_actor("probe.echo").send(case_id="c-1")
        broker.join("echo", fail_fast=True)
        worker.join()
    finally:
        worker.stop()
    assert seen == [(context, {"case_id": "c-1"})]


def test_a_job_declared_without_context_fails_loudly_when_run() -> None:
    broker = StubBroker()
    declare(broker, Registry([echo]))
    worker = dramatiq.Worker(broker, worker_threads=1, worker_timeout=50)
    worker.start()
    try:
        broker.get_actor("probe.echo").send_with_options(kwargs={}, max_retries=0)
        with pytest.raises(RuntimeError, match="no context"):
            broker.join("echo", fail_fast=True)
    finally:
        worker.stop()
