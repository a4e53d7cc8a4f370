"""Flows the case benchmarks time: one case's lifecycle over HTTP, what reaching a case by id costs
the database, the app built in-process; and the tables they print."""

from __future__ import annotations

import statistics
import time
import uuid
from typing import Any

import httpx
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select, text
from sqlalchemy.dialects import postgresql

from citylead.api.app import create_app
from citylead.cases.access import Actor, in_reach
from citylead.cases.models import Case
from citylead.db import Database
from citylead.demo import HOTLINE_CLIENT, HOTLINE_SECRET
from citylead.identity.keys import SigningKeys
from citylead.identity.principal import Role
from citylead.settings import Settings
from tenants.context import TenantContext
from tenants.models import Tenant
from tests.benchmarks.cases_load import World
from tests.benchmarks.cases_server import TOKEN
from tests.benchmarks.conftest import Figure
from tests.support import PUBLIC_URL

COUNTY = "320411"  # 新北区: the lifecycle's and the retries' county
LIFECYCLE_CLASS = "06012"  # 道路不洁
STEPS = (
    ("file", "shift_lead", {}),
    ("dispatch", "dispatcher", {}),
    ("dispose", "department", {"feedback": "已清扫干净"}),
    ("send_check", "intake", {}),
    ("check_pass", "supervisor", {}),
    ("close", "shift_lead", {}),
)
WARM_LOOPS = 5


def figure(what: str, samples: list[float]) -> Figure:
    ordered = sorted(samples)
    return Figure(
        what, len(ordered), statistics.median(ordered), ordered[max(0, int(len(ordered) * 0.95) - 1)]
    )


def print_figures(title: str, figures: list[Figure]) -> None:
    print(f"\n### {title}\n\n| what | n | median ms | p95 ms | ratio to baseline |\n|---|---|---|---|---|")
    print(figures[0].row())
    for f in figures[1:]:
        print(f.row(figures[0]))


async def cases_in(world: World, code: str) -> int:
    owner = world.owner()
    try:
        async with owner.transaction(None) as s:
            n = await s.scalar(
                select(func.count())
                .select_from(Case)
                .join(Tenant, Tenant.id == Case.tenant_id)
                .where(Tenant.code == code)
            )
    finally:
        await owner.dispose()
    return int(n or 0)


async def lifecycle(world: World, loops: int) -> dict[str, Figure]:
    """``loops`` cases, one after the other, from report to close, each step by its role's demo user
    of 320411 (password sign-in); then a read and a ``/health`` as baselines. Figures by step."""
    server = world.server
    assert server is not None
    roles = {"supervisor", "shift_lead", "dispatcher", "department", "intake"}
    tokens = {role: server.user_token(f"{role}@{COUNTY}") for role in roles}
    samples: dict[str, list[float]] = {"health": [], "read": [], "report": [], **{a: [] for a, _, _ in STEPS}}
    loop_ms: list[float] = []

    def auth(role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {tokens[role]}"}

    async with httpx.AsyncClient(base_url=server.base) as client:

        async def timed(what: str, method: str, url: str, **kw: Any) -> httpx.Response:
            t0 = time.perf_counter()
            r = await client.request(method, url, **kw)
            samples[what].append((time.perf_counter() - t0) * 1000)
            return r

        for n in range(WARM_LOOPS + loops):
            spot = world.spare.pop()
            t0 = time.perf_counter()
            body = {"kind": "matter", "code": LIFECYCLE_CLASS, "lon": spot.lon, "lat": spot.lat,
                    "description": "路面有大片垃圾（压测）"}  # fmt: skip
            r = await timed("report", "POST", "/api/v1/cases", json=body, headers=auth("supervisor"))
            assert r.status_code == 201, r.text
            case = r.json()
            assert case["state"] == "accepted"
            for action, role, payload in STEPS:
                url = f"/api/v1/cases/{case['id']}/actions/{action}"
                r = await timed(action, "POST", url, json=payload, headers=auth(role))
                assert r.status_code == 200, (action, r.text)
                case = r.json()
            loop_ms.append((time.perf_counter() - t0) * 1000)
            assert case["state"] == "closed"
            assert [e["action"] for e in case["history"]] == ["report", *(a for a, _, _ in STEPS)]
            r = await timed("read", "GET", f"/api/v1/cases/{case['id']}", headers=auth("shift_lead"))
            assert r.status_code == 200
            await timed("health", "GET", "/health")
            if n < WARM_LOOPS:  # the first loops warm caches and connections: not counted
                for v in samples.values():
                    v.clear()
                loop_ms.clear()
    assert len(loop_ms) == loops
    figures = {
        "health": figure("GET /health (no auth, no database)", samples["health"]),
        "read": figure("GET /api/v1/cases/{id} (shift_lead; the case with its history)", samples["read"]),
        "report": figure("report (POST /api/v1/cases, supervisor)", samples["report"]),
    }
    figures.update({a: figure(f"{a} ({role})", samples[a]) for a, role, _ in STEPS})
    figures["loop"] = figure("whole loop: report → … → close (7 requests)", loop_ms)
    return figures


async def explain_access(world: World) -> list[str]:
    """``EXPLAIN ANALYZE`` of ``access_case_by_id``'s query for a shift lead of 320411, as the
    application role in its context."""
    app_db = Database(world.db.urls.app, pool_size=1)
    try:
        async with app_db.transaction(TenantContext(world.tenants[COUNTY][1])) as s:
            county = await s.scalar(select(Tenant).where(Tenant.code == COUNTY))
            assert county is not None
            case_id = await s.scalar(select(Case.id).where(Case.tenant_id == county.id).limit(1))
            actor = Actor(f"shift_lead@{COUNTY}", frozenset({Role.SHIFT_LEAD}), county)
            query = select(Case).where(Case.id == (case_id or uuid.uuid4()), in_reach(actor))
            sql = str(query.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
            plan = [r[0] for r in await s.execute(text(f"EXPLAIN (ANALYZE, COSTS OFF) {sql}"))]
    finally:
        await app_db.dispose()
    return [str(line) for line in plan]


async def add_case_id_index(world: World) -> None:
    """What the suggested fix would add: a unique index on ``cases (id)``, in the bench database
    only (the schema is the migrations')."""
    owner = world.owner()
    try:
        async with owner.transaction(None) as s:
            await s.execute(text("CREATE UNIQUE INDEX bench_cases_id ON cases (id)"))
            await s.execute(text("ANALYZE cases"))
    finally:
        await owner.dispose()


def in_process_app(world: World) -> Litestar:
    """The app ``citylead api`` serves, built in this process on the bench database."""
    settings = Settings()
    settings.server = settings.server.model_copy(update={"public_url": PUBLIC_URL})
    settings.identity = settings.identity.model_copy(update={"identity": "embedded"})
    return create_app(settings, app_database_url=world.db.urls.app, keys=SigningKeys.generate())


async def hotline_token(client: AsyncTestClient[Litestar]) -> str:
    form = {"grant_type": "client_credentials", "client_id": HOTLINE_CLIENT, "client_secret": HOTLINE_SECRET}
    r = await client.post(TOKEN, data=form)
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])
