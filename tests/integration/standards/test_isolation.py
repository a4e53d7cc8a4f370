"""Isolation of standards layers, as the application role with row-level security on.

合肥市 (340100) and its districts 瑶海区 (340102) and 庐阳区 (340103); 芜湖市 (340200) is the other
city. Each attempt is made twice: straight at the database in the attacker's own tenant context,
and through the API with the attacker's token.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select, text, update
from sqlalchemy.exc import DBAPIError

from tenants.models import Tenant
from tenants.standards.models import StandardDraft, StandardVersion
from tenants.standards.paths import Kind
from tests.integration.standards.conftest import Publish
from tests.support import Mint, bearer

CITY, COUNTY, SIBLING, OTHER_CITY = "340100", "340102", "340103", "340200"
ROAD = "manual/matter/06012/limit/normal"

pytestmark = pytest.mark.usefixtures("baseline")


@pytest.fixture(scope="module")
def layers_published() -> dict[str, bool]:
    return {}


@pytest.fixture
async def layers(publish: Publish, acting: Callable[[str], Any], layers_published: dict[str, bool]) -> None:
    """The city and the county have published manual layers; the county also has a pending draft."""
    if layers_published:
        return
    await publish(CITY, Kind.MANUAL, {ROAD: "3wh"}, policies={"manual/matter/06012/limit": "tighten_only"})
    await publish(COUNTY, Kind.MANUAL, {ROAD: "2wh"})
    async with acting(COUNTY) as s:
        await s.execute(
            update(StandardDraft)
            .where(StandardDraft.kind == "manual")
            .values(content={"values": {ROAD: "1wh"}, "removed": [], "policies": {}, "exemptions": {}})
        )
    layers_published["done"] = True


def _id(registry: dict[str, Tenant], code: str) -> Any:
    return registry[code].id


@pytest.mark.usefixtures("layers")
@pytest.mark.parametrize("reader", [SIBLING, OTHER_CITY])
async def test_others_cannot_read_a_countys_draft_or_versions(
    acting: Callable[[str], Any], registry: dict[str, Tenant], reader: str
) -> None:
    async with acting(reader) as s:
        drafts = await s.scalars(
            select(StandardDraft).where(StandardDraft.tenant_id == _id(registry, COUNTY))
        )
        versions = await s.scalars(
            select(StandardVersion).where(StandardVersion.tenant_id == _id(registry, COUNTY))
        )
        assert list(drafts) == []
        assert list(versions) == []


@pytest.mark.usefixtures("layers")
async def test_a_county_reads_its_citys_versions_but_not_its_draft(
    acting: Callable[[str], Any], registry: dict[str, Tenant]
) -> None:
    async with acting(COUNTY) as s:
        versions = list(
            await s.scalars(select(StandardVersion).where(StandardVersion.tenant_id == _id(registry, CITY)))
        )
        drafts = list(
            await s.scalars(select(StandardDraft).where(StandardDraft.tenant_id == _id(registry, CITY)))
        )
    assert [v.number for v in versions] == [1]
    assert drafts == []


@pytest.mark.usefixtures("layers")
async def test_the_other_city_cannot_read_the_citys_layer(
    acting: Callable[[str], Any], registry: dict[str, Tenant]
) -> None:
    async with acting(OTHER_CITY) as s:
        rows = await s.scalars(
            select(StandardVersion).where(StandardVersion.tenant_id == _id(registry, CITY))
        )
        assert list(rows) == []


@pytest.mark.usefixtures("layers")
@pytest.mark.parametrize(
    ("actor", "owner"),
    [(COUNTY, CITY), (CITY, COUNTY), (SIBLING, COUNTY), (OTHER_CITY, CITY)],
    ids=["county-writes-city", "city-writes-county", "sibling-writes-county", "other-city-writes-city"],
)
async def test_no_tenant_writes_anothers_layer(
    acting: Callable[[str], Any], registry: dict[str, Tenant], actor: str, owner: str
) -> None:
    async with acting(actor) as s:
        changed = await s.execute(
            update(StandardDraft)
            .where(StandardDraft.tenant_id == _id(registry, owner))
            .values(content={"values": {ROAD: "9wd"}})
        )
        assert changed.rowcount == 0  # type: ignore[attr-defined]
    version = StandardVersion(
        tenant_id=_id(registry, owner), kind="manual", number=99, content={}, published_by="x"
    )
    with pytest.raises(DBAPIError, match="row-level security"):
        await _insert(acting, actor, version)
    draft = StandardDraft(tenant_id=_id(registry, owner), kind="calendar", content={}, updated_by="x")
    with pytest.raises(DBAPIError, match="row-level security"):
        await _insert(acting, actor, draft)


async def _insert(acting: Callable[[str], Any], actor: str, row: object) -> None:
    async with acting(actor) as s:
        s.add(row)
        await s.flush()


@pytest.mark.usefixtures("layers")
async def test_published_versions_are_immutable_even_for_their_owner(acting: Callable[[str], Any]) -> None:
    for statement in ("UPDATE standard_versions SET content = '{}'", "DELETE FROM standard_versions"):
        with pytest.raises(DBAPIError, match="permission denied"):
            await _execute(acting, COUNTY, statement)


async def _execute(acting: Callable[[str], Any], actor: str, statement: str) -> None:
    async with acting(actor) as s:
        await s.execute(text(statement))


@pytest.mark.usefixtures("layers")
async def test_api_refuses_other_tenants(client: AsyncTestClient[Litestar], mint: Mint) -> None:
    def u(code: str, tail: str = "") -> str:
        return f"/api/v1/tenants/{code}/standards/manual{tail}"

    county = bearer(mint("county_admin", "/34/3401/340102"))
    sibling = bearer(mint("county_admin", "/34/3401/340103"))
    city = bearer(mint("city_admin", "/34/3401"))
    other = bearer(mint("city_admin", "/34/3402"))
    # A sibling or the other city: the same 404 as a tenant that does not exist.
    assert (await client.get(u(COUNTY, "/draft"), headers=sibling)).status_code == 404
    assert (await client.get(u(COUNTY), headers=sibling)).status_code == 404
    assert (await client.get(u(CITY), headers=other)).status_code == 404
    assert (
        await client.patch(u(COUNTY, "/draft"), json={"set": {ROAD: "1wh"}}, headers=sibling)
    ).status_code == 404
    # A county reads its city's effective standards, but neither its draft nor writes its layer.
    assert (await client.get(u(CITY), headers=county)).status_code == 200
    assert (await client.get(u(CITY, "/draft"), headers=county)).status_code == 404
    assert (
        await client.patch(u(CITY, "/draft"), json={"set": {ROAD: "1wh"}}, headers=county)
    ).status_code == 404
    assert (await client.post(u(CITY, "/publish"), json={}, headers=county)).status_code == 404
    # The city reads the county's draft (to help), but never writes or publishes the county's layer.
    assert (await client.get(u(COUNTY, "/draft"), headers=city)).json()["values"] == {ROAD: "1wh"}
    r = await client.patch(u(COUNTY, "/draft"), json={"set": {ROAD: "1wh"}}, headers=city)
    assert r.status_code == 403
    assert "340102" in r.json()["detail"]
    assert (await client.post(u(COUNTY, "/publish"), json={}, headers=city)).status_code == 403
    assert (await client.post(u(COUNTY, "/preview"), headers=city)).status_code == 403
    # Operating staff read standards but do not edit them.
    staff = bearer(mint("dispatcher", "/34/3401/340102"))
    assert (await client.get(u(COUNTY), headers=staff)).status_code == 200
    assert (
        await client.patch(u(COUNTY, "/draft"), json={"set": {ROAD: "1wh"}}, headers=staff)
    ).status_code == 403
