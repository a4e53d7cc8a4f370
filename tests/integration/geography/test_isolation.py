"""Isolation of a county's geography, as the application role with row-level security on.

泰州市海陵区 321202 holds the demo geography; 高港区 321203 is its sibling, 泰州市 321200 its
city, 宿迁市 321300 another city. Reads see the subtree (the city reads its counties' grids);
writes touch only the acting tenant's own rows.
"""

from __future__ import annotations

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import DBAPIError

from citylead.geography.demo import demo_geography
from citylead.geography.models import Community, Geography, Grid, Street
from tenants.models import Tenant
from tests.integration.geography.conftest import Acting, Importer
from tests.support import Mint, bearer

COUNTY, SIBLING, CITY, OTHER_CITY = "321202", "321203", "321200", "321300"
MODELS = (Geography, Street, Community, Grid)


@pytest.fixture(scope="module")
def imported() -> dict[str, bool]:
    return {}


@pytest.fixture
async def geography(
    import_geography: Importer, counties: dict[str, Tenant], imported: dict[str, bool]
) -> None:
    if not imported:
        await import_geography(COUNTY, demo_geography(counties[COUNTY]))
        imported["done"] = True


async def _counts(acting: Acting, reader: str, county: Tenant) -> list[int]:
    async with acting(reader) as s:
        return [
            int(await s.scalar(select(func.count()).select_from(m).where(m.tenant_id == county.id)) or 0)
            for m in MODELS
        ]


@pytest.mark.usefixtures("geography")
@pytest.mark.parametrize("reader", [SIBLING, OTHER_CITY])
async def test_others_cannot_read_a_countys_geography(
    acting: Acting, counties: dict[str, Tenant], reader: str
) -> None:
    assert await _counts(acting, reader, counties[COUNTY]) == [0, 0, 0, 0]


@pytest.mark.usefixtures("geography")
@pytest.mark.parametrize("reader", [COUNTY, CITY])
async def test_the_county_and_its_city_read_it(
    acting: Acting, counties: dict[str, Tenant], reader: str
) -> None:
    geography, streets, communities, grids = await _counts(acting, reader, counties[COUNTY])
    assert (geography, streets, communities) == (1, 4, 12)
    assert grids > 80


@pytest.mark.usefixtures("geography")
@pytest.mark.parametrize("actor", [SIBLING, CITY, OTHER_CITY])
async def test_no_other_tenant_changes_or_deletes_a_countys_rows(
    acting: Acting, counties: dict[str, Tenant], actor: str
) -> None:
    county = counties[COUNTY]
    async with acting(actor) as s:
        for model in MODELS:
            changed = await s.execute(
                update(model).where(model.tenant_id == county.id).values(tenant_id=counties[actor].id)
            )
            assert changed.rowcount == 0, model.__tablename__  # type: ignore[attr-defined]
            removed = await s.execute(delete(model).where(model.tenant_id == county.id))
            assert removed.rowcount == 0, model.__tablename__  # type: ignore[attr-defined]
    assert (await _counts(acting, COUNTY, county))[:3] == [1, 4, 12]


@pytest.mark.usefixtures("geography")
@pytest.mark.parametrize("actor", [SIBLING, CITY, OTHER_CITY])
async def test_no_other_tenant_inserts_into_a_countys_geography(
    acting: Acting, counties: dict[str, Tenant], actor: str
) -> None:
    county = counties[COUNTY]
    with pytest.raises(DBAPIError, match="row-level security"):
        await _insert(
            acting, actor, Street(tenant_id=county.id, code=f"{COUNTY}099", name="x", kind="street")
        )
    with pytest.raises(DBAPIError, match="row-level security"):
        await _insert(
            acting,
            actor,
            Geography(tenant_id=county.id, version=9, imported_by="x", streets=0, communities=0, grids=0),
        )


async def _insert(acting: Acting, actor: str, row: object) -> None:
    async with acting(actor) as s:
        s.add(row)
        await s.flush()


@pytest.mark.usefixtures("geography")
async def test_api_reads_follow_the_tree(client: AsyncTestClient[Litestar], mint: Mint) -> None:
    def u(tail: str) -> str:
        return f"/api/v1/tenants/{COUNTY}/geography{tail}"

    city = bearer(mint("city_admin", "/32/3212"))
    sibling = bearer(mint("county_admin", "/32/3212/321203"))
    other = bearer(mint("city_admin", "/32/3213"))
    r = await client.get(u("/grids"), headers=city)
    assert r.status_code == 200
    assert r.json()["total"] > 80
    for headers in (sibling, other):
        for tail in ("/grids", "/streets", "/communities", ""):
            assert (await client.get(u(tail), headers=headers)).status_code == 404
        r = await client.put(u(""), json={"type": "FeatureCollection", "features": []}, headers=headers)
        assert r.status_code == 404
