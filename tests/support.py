"""Helpers shared by tests: building Keycloak-shaped claims and bearer headers."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

import asyncpg

from citylead.db.migrate import upgrade
from citylead.db.roles import DatabaseUrls, bootstrap, to_asyncpg

if TYPE_CHECKING:
    from citylead.cases.models import Case
    from tenants.models import Tenant

PUBLIC_URL = "http://citylead.test"
ISSUER = f"{PUBLIC_URL}/idp/realms/citylead"

Mint = Callable[..., str]


def claims_for(username: str, roles: list[str], group: str, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": "citylead",
        "sub": str(uuid.uuid5(uuid.NAMESPACE_DNS, username)),
        "typ": "Bearer",
        "azp": "citylead",
        "iat": now,
        "exp": now + 300,
        "jti": uuid.uuid4().hex,
        "preferred_username": username,
        "realm_access": {"roles": roles},
        "groups": [group],
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@contextlib.contextmanager
def fresh_database(admin_url: str, prefix: str) -> Iterator[DatabaseUrls]:
    """A new database ``PREFIX_xxxxxxxx`` on the server, with both roles, migrated to head; dropped
    after (synchronous: call it where no event loop runs)."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    urls = asyncio.run(
        bootstrap(admin_url, owner_role="citylead_owner", app_role="citylead_app", database=name)
    )
    upgrade(urls, app_role="citylead_app")
    try:
        yield urls
    finally:

        async def drop() -> None:
            conn = await asyncpg.connect(to_asyncpg(admin_url))
            try:
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            finally:
                await conn.close()

        asyncio.run(drop())


def filed_case(tenant: Tenant, tag: str, at: datetime, source: str, by: str) -> Case:
    """A bare filed case of ``tenant`` (number ``<code>-<tag>``) reported at ``at`` by ``by`` from
    ``source``: for tests that count cases, written straight to the table."""
    from citylead.cases.models import Case

    return Case(
        tenant_id=tenant.id,
        number=f"{tenant.code}-{tag}",
        kind="matter",
        class_code="06001",
        class_name="暴露垃圾",
        urgency="normal",
        source=source,
        description=f"test case {tag}",
        lon=117.0,
        lat=32.0,
        state="filed",
        standards={},
        command_tenant_id=tenant.id,
        reported_by=by,
        reported_at=at,
    )
