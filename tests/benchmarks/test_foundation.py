"""What tenant isolation and authentication cost per request, against baselines in the same run."""

from __future__ import annotations

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import text

from citylead.db import Database
from tenants.context import TenantContext
from tests.benchmarks.conftest import measure, report
from tests.support import Mint, bearer

pytestmark = pytest.mark.benchmark

N = 1000


async def test_tenant_context_cost(app_db: Database, registry: dict[str, object]) -> None:
    """A transaction that enters a context (citylead_enter: tenant, subtree, lineage) vs one that
    does not; the province context carries the largest visible set (109 ids)."""

    async def bare() -> None:
        async with app_db.transaction(None) as s:
            await s.execute(text("SELECT 1"))

    def entering(path: str):
        async def run() -> None:
            async with app_db.transaction(TenantContext(path)) as s:
                await s.execute(text("SELECT 1"))

        return run

    base = await measure("transaction, no context", N, bare)
    county = await measure("transaction, county context", N, entering("/32/3204/320411/"))
    province = await measure("transaction, province context (109 visible)", N, entering("/32/"))
    report("Tenant context per transaction", base, county, province)
    assert county.median_ms > 0


async def test_api_request_cost(client: AsyncTestClient[Litestar], mint: Mint) -> None:
    """Authenticated API calls (token validation, context, query, serialisation) vs /health."""
    county = bearer(mint("dispatcher", "/32/3204/320411"))
    province = bearer(mint("province_supervisor", "/32"))

    async def health() -> None:
        await client.get("/health")

    async def me() -> None:
        await client.get("/api/v1/me", headers=county)

    async def list_province() -> None:
        r = await client.get("/api/v1/tenants?page_size=50", headers=province)
        assert r.status_code == 200

    base = await measure("GET /health (no auth, no database)", N // 2, health)
    f_me = await measure("GET /api/v1/me (county)", N // 2, me)
    f_list = await measure("GET /api/v1/tenants, province, 50 of 109", N // 2, list_province)
    report("API requests (in-process ASGI client)", base, f_me, f_list)
    assert f_list.median_ms > 0
