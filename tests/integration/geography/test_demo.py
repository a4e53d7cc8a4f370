"""The demo geography of 常州市's six divisions: valid by the import's own checks, shaped as
documented, and seeded idempotently."""

from __future__ import annotations

import itertools
from collections import Counter

import pytest
from sqlalchemy import select

from citylead.db import Database
from citylead.geography.demo import demo_geography, seed_demo_geography
from citylead.geography.models import Geography, Grid
from citylead.geography.validation import check_geography
from tenants.errors import NotFound
from tenants.models import Tenant

CHANGZHOU = ["320402", "320404", "320411", "320412", "320413", "320481"]


@pytest.mark.parametrize("code", CHANGZHOU)
def test_the_demo_passes_the_import_checks(counties: dict[str, Tenant], code: str) -> None:
    county = counties[code]
    assert county.boundary is not None
    doc = demo_geography(county)
    checked = check_geography(doc, county_code=code, county_name=county.name, boundary=county.boundary)
    assert 3 <= len(checked.streets) <= 5
    per_street = Counter(c.street_code for c in checked.communities)
    assert all(2 <= n <= 4 for n in per_street.values()), per_street
    assert 80 <= len(checked.grids) <= 150
    assert all(0.08 <= g.area_m2 / 1e6 <= 0.2 for g in checked.grids)
    assert all(
        len(g.code) == 15 and g.code.isdigit() and g.code.startswith(g.community_code) for g in checked.grids
    )
    assert [s.code for s in checked.streets] == [f"{code}{i:03d}" for i in range(1, len(checked.streets) + 1)]


def test_grids_are_numbered_west_to_east_then_north_to_south(counties: dict[str, Tenant]) -> None:
    county = counties["320411"]
    assert county.boundary is not None
    checked = check_geography(
        demo_geography(county), county_code="320411", county_name=county.name, boundary=county.boundary
    )
    by_community: dict[str, list[tuple[float, float]]] = {}
    for g in sorted(checked.grids, key=lambda g: g.code):
        by_community.setdefault(g.community_code, []).append(g.centroid)
    for centroids in by_community.values():
        for (lon1, lat1), (lon2, lat2) in itertools.pairwise(centroids):
            same_row = abs(lat1 - lat2) < 0.001  # cells are 420 m (≈ 0.0038°) apart
            assert (same_row and lon2 > lon1) or (not same_row and lat2 < lat1)


def test_the_demo_is_deterministic(counties: dict[str, Tenant]) -> None:
    assert demo_geography(counties["320404"]) == demo_geography(counties["320404"])


async def test_seeding_is_idempotent(owner_db: Database) -> None:
    """(How fast: tests/benchmarks/test_geography.py.)"""
    await seed_demo_geography(owner_db, CHANGZHOU)
    async with owner_db.transaction(None) as s:
        ids = {t.id: t.code for t in await s.scalars(select(Tenant).where(Tenant.code.in_(CHANGZHOU)))}
        versions = dict((await s.execute(select(Geography.tenant_id, Geography.version))).all())
        grids = await s.scalar(select(Grid.code).where(Grid.tenant_id.in_(ids)).order_by(Grid.code).limit(1))
    assert set(ids) <= set(versions)
    assert grids is not None and grids.startswith("320402")
    await seed_demo_geography(owner_db, CHANGZHOU)
    async with owner_db.transaction(None) as s:
        after = dict((await s.execute(select(Geography.tenant_id, Geography.version))).all())
    assert {i: after[i] for i in ids} == {i: versions[i] for i in ids}


async def test_seeding_an_unknown_code_is_not_found(owner_db: Database) -> None:
    with pytest.raises(NotFound, match="329999"):
        await seed_demo_geography(owner_db, ["329999"])
