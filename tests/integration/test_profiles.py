"""The profile action under real concurrency: two first-time saves race; one wins, one gets 409."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from citylead.db import Database
from tenants.context import TenantContext
from tenants.errors import Conflict
from tenants.models import Tenant
from tenants.profiles import do_update_profile


async def test_concurrent_first_saves_give_one_conflict(
    app_db: Database, owner_db: Database, registry: dict[str, Tenant]
) -> None:
    tenant = registry["320205"]  # 锡山区: no profile yet
    ctx = TenantContext(tenant.path)
    async with owner_db.transaction(None) as s:
        await s.execute(text("DELETE FROM tenant_profiles WHERE tenant_id = :t"), {"t": tenant.id})

    async def save(name: str, gate: asyncio.Event | None = None) -> None:
        async with app_db.transaction(ctx) as s:
            await do_update_profile(s, tenant, {"contact_name": name}, expected_version=0, acting_user=name)
            if gate is not None:
                await gate.wait()  # hold the uncommitted insert while the other save runs

    gate = asyncio.Event()
    first = asyncio.create_task(save("甲", gate))
    await asyncio.sleep(0.2)
    second = asyncio.create_task(save("乙"))  # blocks on the first's uncommitted row
    await asyncio.sleep(0.2)
    gate.set()
    await first
    with pytest.raises(Conflict):
        await second
    async with owner_db.transaction(None) as s:
        rows = (
            await s.execute(
                text("SELECT contact_name, version FROM tenant_profiles WHERE tenant_id = :t"),
                {"t": tenant.id},
            )
        ).all()
    assert [tuple(r) for r in rows] == [("甲", 1)]
