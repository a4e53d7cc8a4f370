"""The periodic scheduler: with two schedulers running, a job is sent once per interval (only the
holder of the advisory lock sends); when the holder stops, the other takes over.

Sends go through the REAL PostgreSQL broker of the test database.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable

import dramatiq
import pytest

from citylead.db.roles import DatabaseUrls
from citylead.jobs.broker import declare
from citylead.jobs.registry import Registry
from citylead.jobs.schedule import Scheduler
from tests.integration.jobs.conftest import Sent, eventually

TICK = "probe.tick"
INTERVAL = 0.25


@pytest.fixture
def broker_kind() -> str:
    return "postgres"


async def test_two_schedulers_send_once_per_interval_and_the_other_takes_over(
    broker: tuple[dramatiq.Broker, Sent],
    registry_with: Callable[..., Registry],
    database_urls: DatabaseUrls,
) -> None:
    b, sent = broker
    registry = registry_with(TICK).every(INTERVAL, TICK)
    declare(b, registry)
    lock = f"test-{uuid.uuid4()}"
    schedulers = [
        Scheduler(b, registry.periodic, lock_url=database_urls.app, lock_name=lock) for _ in range(2)
    ]
    stops = [asyncio.Event(), asyncio.Event()]
    tasks = [asyncio.create_task(s.run(stop)) for s, stop in zip(schedulers, stops, strict=True)]
    try:
        await eventually(lambda: any(s.is_leader for s in schedulers), within=5)
        start = len(sent.ids)
        await asyncio.sleep(8 * INTERVAL + INTERVAL / 2)
        in_window = len(sent.ids) - start

        assert [s.is_leader for s in schedulers].count(True) == 1
        assert 7 <= in_window <= 9  # two senders would make about 16
        leader = next(i for i, s in enumerate(schedulers) if s.is_leader)
        follower = 1 - leader
        assert schedulers[follower].sent == 0

        stops[leader].set()
        await tasks[leader]
        await eventually(lambda: schedulers[follower].is_leader, within=3)
        await eventually(lambda: schedulers[follower].sent >= 2, within=3)
    finally:
        for stop in stops:
            stop.set()
        await asyncio.gather(*tasks)
    assert not any(s.is_leader for s in schedulers)


async def test_a_scheduler_with_nothing_to_schedule_returns_at_once(
    broker: tuple[dramatiq.Broker, Sent], database_urls: DatabaseUrls
) -> None:
    b, _ = broker
    scheduler = Scheduler(b, [], lock_url=database_urls.app)
    await asyncio.wait_for(scheduler.run(asyncio.Event()), timeout=1)
    assert not scheduler.is_leader
