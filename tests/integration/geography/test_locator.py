"""The locator: point → grid, community and street; the county of a point for a city; staleness.

泰州市姜堰区 321204 holds the demo geography; 泰州市 321200 is the city, 宿迁市 321300 another.
Everything runs as the application role with row-level security on.
"""

from __future__ import annotations

import pytest
import shapely
from shapely.geometry import shape as to_shape
from sqlalchemy import select

from citylead.geography.demo import demo_geography
from citylead.geography.importer import do_import_geography
from citylead.geography.index import Locator
from citylead.geography.models import Grid
from tenants.errors import InvalidInput
from tenants.models import Tenant
from tests.integration.geography.conftest import Acting, Importer
from tests.integration.geography.support import Frame

COUNTY, CITY, OTHER_CITY, OTHER_COUNTY = "321204", "321200", "321300", "321302"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def imported() -> dict[str, bool]:
    return {}


@pytest.fixture
async def demo(import_geography: Importer, counties: dict[str, Tenant], imported: dict[str, bool]) -> None:
    """姜堰区 with the demo geography (imported once per module, before the first test that needs it)."""
    if not imported:
        await import_geography(COUNTY, demo_geography(counties[COUNTY]))
        imported["done"] = True


async def _grid(acting: Acting, code: str) -> Grid:
    async with acting(COUNTY) as s:
        grid = await s.scalar(select(Grid).where(Grid.code == code))
    assert grid is not None
    return grid


@pytest.mark.usefixtures("demo")
async def test_a_point_in_a_grid_gives_grid_community_and_street(
    acting: Acting, counties: dict[str, Tenant]
) -> None:
    grid = await _grid(acting, f"{COUNTY}002003005")
    locator = Locator()
    async with acting(COUNTY) as s:
        place = await locator.place(s, counties[COUNTY], grid.centroid_lon, grid.centroid_lat)
    assert place.grid_code == grid.code
    assert place.community_code == f"{COUNTY}002003"
    assert place.street_code == f"{COUNTY}002"
    assert place.street_name is not None and place.street_name.endswith("街道")
    assert place.community_name is not None and place.community_name.endswith("社区")


@pytest.mark.usefixtures("demo")
async def test_a_shared_edge_goes_to_the_smaller_code(acting: Acting, counties: dict[str, Tenant]) -> None:
    a, b = await _grid(acting, f"{COUNTY}001001001"), await _grid(acting, f"{COUNTY}001001002")
    edge = shapely.intersection(to_shape(a.geometry), to_shape(b.geometry))
    lon, lat = shapely.get_coordinates(edge)[0]  # a corner both grids have, exactly
    async with acting(COUNTY) as s:
        place = await Locator().place(s, counties[COUNTY], float(lon), float(lat))
    assert place.grid_code == a.code


@pytest.mark.usefixtures("demo")
async def test_inside_the_county_but_in_no_grid(acting: Acting, counties: dict[str, Tenant]) -> None:
    frame = Frame(counties[COUNTY])
    async with acting(COUNTY) as s:
        shapes = [to_shape(g) for g in await s.scalars(select(Grid.geometry))]
        gap = shapely.difference(frame.county, shapely.union_all(shapes)).buffer(-0.002)
        point = gap.representative_point()
        place = await Locator().place(s, counties[COUNTY], point.x, point.y)
    assert (place.grid_code, place.community_code, place.street_code) == (None, None, None)
    assert (place.street_name, place.community_name) == (None, None)


@pytest.mark.usefixtures("demo")
async def test_outside_the_county_is_a_422_naming_location(
    acting: Acting, counties: dict[str, Tenant]
) -> None:
    county = counties[COUNTY]
    frame = Frame(county)
    lon, lat = frame.lonlat(*frame.outside(2_000))
    async with acting(COUNTY) as s:
        with pytest.raises(InvalidInput) as exc:
            await Locator().place(s, county, lon, lat)
    [problem] = exc.value.errors
    assert (problem.field, problem.rule) == (
        "location",
        f"outside the county boundary of {county.name} (321204)",
    )
    assert problem.value == [lon, lat]
    assert exc.value.status == 422


@pytest.mark.parametrize(("lon", "lat"), [(181.0, 32.0), (120.0, -91.0), (float("nan"), 32.0)])
async def test_longitude_and_latitude_ranges(
    acting: Acting, counties: dict[str, Tenant], lon: float, lat: float
) -> None:
    async with acting(COUNTY) as s:
        with pytest.raises(InvalidInput) as exc:
            await Locator().place(s, counties[COUNTY], lon, lat)
    assert [p.field for p in exc.value.errors] == ["location"]


@pytest.mark.usefixtures("demo")
async def test_a_city_session_places_points_in_its_county(
    acting: Acting, counties: dict[str, Tenant]
) -> None:
    grid = await _grid(acting, f"{COUNTY}003002001")
    locator = Locator()
    async with acting(CITY) as s:
        county = await locator.county_of(s, counties[CITY], grid.centroid_lon, grid.centroid_lat)
        assert county is not None and county.code == COUNTY
        place = await locator.place(s, county, grid.centroid_lon, grid.centroid_lat)
    assert place.grid_code == grid.code


async def test_county_of_within_a_scope(acting: Acting, counties: dict[str, Tenant]) -> None:
    inside = counties[COUNTY]
    frame = Frame(inside)
    here = frame.lonlat(0, 0)
    elsewhere = Frame(counties[OTHER_COUNTY]).lonlat(0, 0)
    locator = Locator()

    async def county_of(scope: str, point: tuple[float, float]) -> str | None:
        async with acting(scope) as s:
            found = await locator.county_of(s, counties[scope], *point)
        return found.code if found is not None else None

    assert await county_of("320000", here) == COUNTY
    assert await county_of(CITY, here) == COUNTY
    assert await county_of(COUNTY, here) == COUNTY
    assert await county_of(CITY, elsewhere) is None
    assert await county_of(OTHER_CITY, elsewhere) == OTHER_COUNTY
    assert await county_of(OTHER_CITY, here) is None
    assert await county_of(OTHER_COUNTY, here) is None


@pytest.mark.usefixtures("demo")
async def test_a_reimport_is_seen_at_once_here_and_within_the_recheck_interval_elsewhere(
    acting: Acting, counties: dict[str, Tenant]
) -> None:
    county = counties[COUNTY]
    grid = await _grid(acting, f"{COUNTY}004003001")
    here = Locator()
    clock = Clock()
    elsewhere = Locator(recheck_seconds=5, clock=clock)  # another process
    point = (grid.centroid_lon, grid.centroid_lat)
    async with acting(COUNTY) as s:
        assert (await here.place(s, county, *point)).grid_code == grid.code
        assert (await elsewhere.place(s, county, *point)).grid_code == grid.code
    # Re-import with one community's grids renumbered from 101.
    doc = demo_geography(county)
    for f in doc["features"]:
        code = f["properties"]["code"]
        if f["properties"]["layer"] == "grid" and code.startswith(f"{COUNTY}004003"):
            f["properties"]["code"] = f"{code[:12]}{int(code[12:]) + 100:03d}"
    async with acting(COUNTY) as s:
        await do_import_geography(s, county, doc, acting_user="test", locator=here)
        # Not committed yet: this process still answers from the committed geography.
        assert (await here.place(s, county, *point)).grid_code == grid.code
    renumbered = f"{COUNTY}004003101"
    async with acting(COUNTY) as s:
        assert (await here.place(s, county, *point)).grid_code == renumbered
        assert (await elsewhere.place(s, county, *point)).grid_code == grid.code  # stale, < 5 s
        clock.now += 5.1
        assert (await elsewhere.place(s, county, *point)).grid_code == renumbered


@pytest.mark.usefixtures("demo")
async def test_a_rolled_back_import_never_reaches_the_index(
    acting: Acting, counties: dict[str, Tenant]
) -> None:
    county = counties[COUNTY]
    locator = Locator()
    doc = demo_geography(county)
    doc["features"] = [
        f
        for f in doc["features"]
        if f["properties"]["layer"] != "grid" or f["properties"]["code"].endswith("001")
    ]
    async with acting(COUNTY) as s:
        before = await s.scalar(select(Grid).order_by(Grid.code.desc()).limit(1))
        assert before is not None and not before.code.endswith("001")
        point = (before.centroid_lon, before.centroid_lat)
        assert (await locator.place(s, county, *point)).grid_code == before.code

    with pytest.raises(_Abort):
        await _import_then_abort(acting, county, doc, locator)
    async with acting(COUNTY) as s:
        assert (await locator.place(s, county, *point)).grid_code == before.code


class _Abort(Exception):
    pass


async def _import_then_abort(acting: Acting, county: Tenant, doc: object, locator: Locator) -> None:
    async with acting(county.code) as s:
        await do_import_geography(s, county, doc, acting_user="test", locator=locator)
        raise _Abort


async def test_invalidate_forgets_the_cached_index(acting: Acting, counties: dict[str, Tenant]) -> None:
    locator = Locator(recheck_seconds=3600)
    county = counties[COUNTY]
    async with acting(COUNTY) as s:
        first = await locator.index(s, county)
        assert await locator.index(s, county) is first
        locator.invalidate(county.id)
        assert await locator.index(s, county) is not first
