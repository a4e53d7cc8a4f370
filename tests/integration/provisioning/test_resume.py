"""Resumable onboarding: a real ``citylead worker`` process on the real PostgreSQL broker is killed
(SIGKILL) in the middle of a step, a new one is started, and the job finishes with no duplicate
rows, groups or users.

Tenant used here (nobody else's): 安庆市 340800's 宿松县 340826 — onboarded with the ``county``
template, whose standards override is published by the pipeline too.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from keycloak import KeycloakAdmin
from sqlalchemy import func, select

from citylead.db import Database
from citylead.db.roles import DatabaseUrls
from citylead.units.models import Component, Unit
from provisioning.inputs import InputFile, OnboardRequest
from provisioning.models import ProvisioningStep
from provisioning.samples import sample_inputs, units_csv
from provisioning.service import get_job, onboard
from tenants.context import TenantContext
from tenants.models import Tenant
from tenants.standards.paths import Kind
from tenants.standards.resolver import Resolver
from tests.integration.idp import PROVISIONER_SECRET
from tests.integration.provisioning.test_onboarding import CITY, PROVINCE, anqing  # noqa: F401

COUNTY = "340826"


class WorkerProcess:
    """``python -m citylead worker`` against the test database, heartbeat every 0.5 s."""

    def __init__(self, urls: DatabaseUrls, home: Path) -> None:
        self.env = {
            **os.environ,
            "CITYLEAD_DATABASE_URL": urls.owner,
            "CITYLEAD_APP_DATABASE_URL": urls.app,
            "CITYLEAD_HOME": str(home),
            "CITYLEAD_BROKER": "postgres",
            "CITYLEAD_WORKER_HEARTBEAT_SECONDS": "0.5",
            "CITYLEAD_IDP_PROVISIONER_SECRET": PROVISIONER_SECRET,  # the test session's client
            "CITYLEAD_WORKER_THREADS": "2",
        }
        self.log = home / "worker.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "citylead", "worker"],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


@pytest.fixture
def worker(database_urls: DatabaseUrls) -> Iterator[WorkerProcess]:
    home = Path(tempfile.mkdtemp(prefix="citylead-worker-"))
    process = WorkerProcess(database_urls, home)
    try:
        yield process
    finally:
        process.stop()
        print(process.log.read_text("utf-8", errors="replace")[-3000:])  # noqa: T201 - shown on failure


async def _running_step(app_db: Database, county: Tenant, job_id: object, seconds: float) -> str:
    """Wait until a data step (position >= 3) is running; its name."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        async with app_db.transaction(TenantContext(county.path)) as s:
            name = await s.scalar(
                select(ProvisioningStep.name).where(
                    ProvisioningStep.job_id == job_id,
                    ProvisioningStep.state == "running",
                    ProvisioningStep.position >= 3,
                )
            )
        if name is not None:
            return str(name)
        await asyncio.sleep(0.01)
    raise AssertionError("no step started running")


async def test_a_killed_worker_resumes_without_duplicates(
    app_db: Database,
    anqing: dict[str, Tenant],  # noqa: F811
    worker: WorkerProcess,
    kc_admin: KeycloakAdmin,
) -> None:
    county = anqing[COUNTY]
    sample = sample_inputs(county, grids=120, units=20, components=12_000)
    files = {
        "grids": InputFile("grids.geojson", "application/geo+json", json.dumps(sample.grids).encode()),
        "units": InputFile("units.csv", "text/csv", units_csv(sample.units)),
        "components": InputFile("components.csv", "text/csv", sample.components_csv),
    }
    request = OnboardRequest("county", COUNTY, CITY, "county", "admin@susong.example.cn", files)
    submitted = await onboard(app_db, Resolver(), PROVINCE, request, acting_user="cli:test")

    worker.start()
    killed_in = await _running_step(app_db, county, submitted.job.id, 90)
    worker.kill()
    view = await get_job(app_db, PROVINCE, submitted.job.id)
    assert view.job.state == "running"
    interrupted = {s.name for s in view.steps if s.state == "running"}  # identity may run beside
    assert killed_in in interrupted  # left mid-step

    worker.start()  # the broker hands the dead worker's message to the new one
    deadline = time.monotonic() + 120
    while not (view := await get_job(app_db, PROVINCE, submitted.job.id)).done:
        assert time.monotonic() < deadline, view.as_dict()
        await asyncio.sleep(0.2)
    assert view.job.state == "succeeded", view.as_dict()
    assert {s.name: s.attempts for s in view.steps if s.name in interrupted} == dict.fromkeys(interrupted, 2)
    assert all(s.attempts == 1 for s in view.steps if s.name not in interrupted and s.state == "done")

    async with app_db.transaction(TenantContext(county.path)) as s:
        units = await s.scalar(select(func.count()).select_from(Unit).where(Unit.tenant_id == county.id))
        components = await s.scalar(
            select(func.count()).select_from(Component).where(Component.tenant_id == county.id)
        )
        override = (await Resolver().effective(s, county, Kind.MANUAL)).values[
            "manual/default/duplicate/radius_m"
        ]
    expected_units = len({u["code"] for u in sample.units} | {"CGZF", "HJWS"})
    assert (units, components) == (expected_units, 12_000)
    assert override[0] == 100 and override[1].code == COUNTY  # the county template's override, once
    assert override[1].version == 1
    groups = [
        g
        for g in kc_admin.get_group_children(kc_admin.get_group_by_path("/34/3408")["id"])
        if g["name"] == COUNTY
    ]
    assert len(groups) == 1
    assert len(kc_admin.get_users({"username": "admin@susong.example.cn", "exact": True})) == 1
