"""Standards fixtures: the national baseline published for Jiangsu and Anhui once per session.

Each test module publishes in its own cities so that modules do not depend on one another.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from citylead.db import Database
from tenants.context import TenantContext
from tenants.models import Tenant
from tenants.standards.paths import Kind
from tenants.standards.resolver import Resolver
from tenants.standards.seeding import publish_layer, seed_baseline

Acting = Callable[[str], Any]


@pytest.fixture(scope="session")
async def baseline(owner_db: Database, registry: dict[str, Tenant]) -> dict[str, dict[Kind, int]]:
    """The national baseline as version 1 of each kind, for 320000 and 340000."""
    out = {}
    for code in ("320000", "340000"):
        province = registry[code]
        async with owner_db.transaction(TenantContext(province.path)) as s:
            out[code] = await seed_baseline(s, Resolver(), province)
    return out


@pytest.fixture
def acting(app_db: Database, registry: dict[str, Tenant]) -> Callable[[str], Any]:
    """``async with acting("320411") as s:`` — a transaction as the app role in that tenant's context."""

    @asynccontextmanager
    async def _acting(code: str) -> AsyncIterator[AsyncSession]:
        async with app_db.transaction(TenantContext(registry[code].path)) as s:
            yield s

    return _acting


Publish = Callable[..., Awaitable[int]]


@pytest.fixture
def publish(acting: Callable[[str], Any], registry: dict[str, Tenant]) -> Publish:
    """``await publish("320200", Kind.MANUAL, {...}, policies={...})`` as that tenant, via the actions."""

    async def _publish(
        code: str, kind: Kind, values: dict[str, Any], *, policies: dict[str, str] | None = None
    ) -> int:
        async with acting(code) as s:
            return await publish_layer(
                s,
                Resolver(),
                registry[code],
                kind,
                values,
                policies=policies,
                note="test",
                acting_user="test",
            )

    return _publish
