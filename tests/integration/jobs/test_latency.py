"""Enqueue → run latency through the whole path (commit, NOTIFY, relay, broker, worker thread, job)
for each REAL broker: the median of 50 messages sent one after another. ``make bench`` runs it;
the numbers are quoted in docs/jobs.md.
"""

from __future__ import annotations

import statistics
import time
import uuid
from collections.abc import Callable

import pytest

from citylead.db import Database
from citylead.db.roles import DatabaseUrls
from citylead.jobs.outbox import enqueue
from citylead.jobs.registry import Registry
from citylead.jobs.worker import InProcessWorker
from tenants.context import TenantContext
from tenants.models import Tenant
from tests.integration.jobs.conftest import QUEUE, Probe, eventually, jobs_settings

pytestmark = pytest.mark.benchmark

N = 50
PROBE = "probe.latency"


async def test_enqueue_to_run_latency(
    broker_kind: str,
    clean_queue: None,
    database_urls: DatabaseUrls,
    app_db: Database,
    registry: dict[str, Tenant],
    probe: Probe,
    registry_with: Callable[..., Registry],
) -> None:
    tenant = registry["340200"]
    worker = InProcessWorker(
        jobs_settings(broker_kind),
        database_url=database_urls.app,
        app_database_url=database_urls.app,
        registry=registry_with(PROBE),
        lock_name=f"bench-{uuid.uuid4()}",
    )
    worker.start()
    latencies = []
    try:
        for i in range(N):
            async with app_db.transaction(TenantContext(tenant.path)) as s:
                enqueue(s, tenant, PROBE, queue=QUEUE, n=i)
            committed = time.perf_counter()
            await eventually(lambda i=i: len(probe.runs) == i + 1, within=10)
            latencies.append(probe.runs[-1][0] - committed)
    finally:
        worker.stop()
    ms = sorted(x * 1000 for x in latencies)
    median, p95 = statistics.median(ms), ms[int(0.95 * (N - 1))]
    print(f"\n{broker_kind}: enqueue→run median {median:.1f} ms, p95 {p95:.1f} ms, max {ms[-1]:.1f} ms")  # noqa: T201
    assert median < 500  # far below the 0.5 s polling interval: the NOTIFY wake-up works
