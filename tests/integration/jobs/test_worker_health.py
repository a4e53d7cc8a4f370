"""The worker's probes (``citylead worker --health-port``) on the REAL brokers: ``/health`` follows
the worker's threads, ``/ready`` the database and the broker; and the command itself, started the
way the Helm chart starts it (the application role's URL only, no owner credentials).

No tenant data is written: the worker runs probe jobs on the session's test queue, and the command
runs on a database of its own.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.error import HTTPError
from urllib.request import urlopen

import pytest
from pydantic import SecretStr

from citylead.db.roles import DatabaseUrls, to_asyncpg
from citylead.jobs.registry import Registry
from citylead.jobs.worker import HealthServer, InProcessWorker
from tests.integration.jobs.conftest import jobs_settings
from tests.support import fresh_database

PROBE = "probe.health"
CLOSED_PORT_URL = "postgresql://citylead_app@127.0.0.1:1/nowhere"


def _get(port: int, path: str) -> tuple[int, dict[str, Any]]:
    try:
        with urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.fixture
def probed(
    broker_kind: str,
    clean_queue: None,
    database_urls: DatabaseUrls,
    registry_with: Callable[..., Registry],
) -> Iterator[tuple[InProcessWorker, HealthServer]]:
    worker = InProcessWorker(
        jobs_settings(broker_kind),
        database_url=database_urls.app,
        app_database_url=database_urls.app,
        registry=registry_with(PROBE),
        lock_name=f"test-{uuid.uuid4()}",
    )
    worker.start()
    server = HealthServer(worker, port=0)
    server.start()
    try:
        yield worker, server
    finally:
        server.stop()
        worker.stop()


def test_a_running_worker_is_alive_and_ready(probed: tuple[InProcessWorker, HealthServer]) -> None:
    _, server = probed
    assert _get(server.port, "/health") == (200, {"status": "ok", "dead": []})
    assert _get(server.port, "/ready") == (200, {"status": "ready", "database": "ok", "broker": "ok"})
    assert _get(server.port, "/metrics")[0] == 404


def test_a_dead_relay_thread_fails_liveness(probed: tuple[InProcessWorker, HealthServer]) -> None:
    worker, server = probed
    assert worker._loop is not None and worker._stop is not None and worker._thread is not None
    worker._loop.call_soon_threadsafe(worker._stop.set)  # the relay and scheduler end, as if crashed
    worker._thread.join(5)
    status, body = _get(server.port, "/health")
    assert (status, body["dead"]) == (503, ["citylead-jobs"])


def test_an_unreachable_database_fails_readiness_not_liveness(
    probed: tuple[InProcessWorker, HealthServer],
) -> None:
    worker, server = probed
    worker.app_database_url = CLOSED_PORT_URL  # what the checks connect to: PostgreSQL is gone
    status, body = _get(server.port, "/ready")
    assert status == 503
    assert body["database"].startswith("unreachable")
    assert _get(server.port, "/health")[0] == 200  # an outage elsewhere is no reason to restart


@pytest.mark.parametrize("broker_kind", ["rabbitmq"], indirect=True)  # PostgreSQL's is the database's
def test_an_unreachable_rabbitmq_fails_readiness(probed: tuple[InProcessWorker, HealthServer]) -> None:
    worker, server = probed
    jobs = worker.settings.jobs
    worker.settings.jobs = jobs.model_copy(
        update={"rabbitmq_url": SecretStr("amqp://guest:guest@127.0.0.1:1/")}
    )
    status, body = _get(server.port, "/ready")
    assert (status, body["database"]) == (503, "ok")
    assert body["broker"].startswith("unreachable")


# --- the command, as the chart runs it ---------------------------------------------------------


@pytest.fixture(scope="module")
def own_database(pg_admin_url: str) -> Iterator[DatabaseUrls]:
    """A database of this module's own, migrated: the command's relay must not claim the outbox
    rows of the session's other tests."""
    with fresh_database(pg_admin_url, "citylead_health") as urls:
        yield urls


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_citylead_worker_serves_probes_with_only_the_app_role_url(
    own_database: DatabaseUrls, tmp_path: Path
) -> None:
    """What the chart's worker pod gets: CITYLEAD_DATABASE_URL and CITYLEAD_APP_DATABASE_URL both the
    application role's (it is not the owner), and ``--health-host/--health-port``."""
    port = _free_port()
    app_url = to_asyncpg(own_database.app)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CITYLEAD_")}
    env |= {
        "CITYLEAD_DATABASE_URL": app_url,
        "CITYLEAD_APP_DATABASE_URL": app_url,
        "CITYLEAD_HOME": str(tmp_path),
        "CITYLEAD_BROKER": "postgres",
    }
    args = [
        sys.executable,
        "-m",
        "citylead",
        "worker",
        "--health-host",
        "127.0.0.1",
        "--health-port",
        str(port),
    ]
    proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                assert _get(port, "/health") == (200, {"status": "ok", "dead": []})
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    out = proc.stdout.read().decode() if proc.stdout else ""
                    pytest.fail(f"the worker did not serve its probes (exit {proc.poll()}):\n{out}")
                time.sleep(0.2)
        assert _get(port, "/ready") == (200, {"status": "ready", "database": "ok", "broker": "ok"})
    finally:
        proc.terminate()
        out = proc.communicate(timeout=30)[0].decode()
    assert proc.returncode == 0, out
    assert "citylead worker stopped" in out
