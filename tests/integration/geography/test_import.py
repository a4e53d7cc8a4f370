"""Importing a county's geography: everything checked, every problem listed, nothing half-written.

宿迁市: 宿城区 321302 takes valid imports and re-imports; 宿豫区 321311 holds one valid import
that every invalid attempt must leave untouched.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from citylead.geography.demo import demo_geography
from citylead.geography.importer import ImportReport, do_import_geography
from citylead.geography.models import Community, Geography, Grid, Street
from tenants.audit import AuditEvent
from tenants.errors import InvalidInput
from tenants.models import Tenant
from tests.integration.geography.conftest import Acting, Importer
from tests.integration.geography.support import Frame, collection, copied, feature, small

VALID, GUARDED = "321302", "321311"


async def _state(acting: Acting, code: str) -> tuple[int | None, int, int, int]:
    async with acting(code) as s:
        version = await s.scalar(select(Geography.version))
        counts = [await s.scalar(select(func.count()).select_from(m)) for m in (Street, Community, Grid)]
    return version, *(int(c or 0) for c in counts)  # type: ignore[return-value]


@pytest.fixture(scope="module")
def guarded_state() -> dict[str, object]:
    return {}


@pytest.fixture
async def guarded(
    import_geography: Importer, acting: Acting, counties: dict[str, Tenant], guarded_state: dict[str, object]
) -> tuple[int | None, int, int, int]:
    """宿豫区 with one valid import; returns its state (version, streets, communities, grids)."""
    if not guarded_state:
        await import_geography(GUARDED, demo_geography(counties[GUARDED]))
        guarded_state["state"] = await _state(acting, GUARDED)
    return guarded_state["state"]  # type: ignore[return-value]


async def test_a_valid_import_writes_streets_communities_grids_and_one_audit_event(
    import_geography: Importer, acting: Acting, counties: dict[str, Tenant]
) -> None:
    doc = demo_geography(counties[VALID])
    n_grids = sum(1 for f in doc["features"] if f["properties"]["layer"] == "grid")
    report = await import_geography(VALID, doc)
    assert (report.streets, report.communities, report.grids) == (4, 12, n_grids)
    version, streets, communities, grids = await _state(acting, VALID)
    assert (streets, communities, grids) == (4, 12, n_grids)
    assert version == report.version
    async with acting(VALID) as s:
        first = await s.scalar(select(Grid).order_by(Grid.code).limit(1))
        kinds = set(await s.scalars(select(Street.kind)))
        audit = list(
            await s.scalars(
                select(AuditEvent).where(
                    AuditEvent.action == "geography.imported",
                    AuditEvent.data["version"].as_integer() == version,
                )
            )
        )
    assert first is not None and first.code == f"{VALID}001001001"
    # A full 420 m demo cell: 176,400 m² in an equal-area projection (within 0.5%).
    assert abs(first.area_m2 - Decimal(176_400)) < 900
    assert kinds == {"street"}
    ring = first.geometry["coordinates"][0]
    lons, lats = [p[0] for p in ring], [p[1] for p in ring]
    assert min(lons) < first.centroid_lon < max(lons) and min(lats) < first.centroid_lat < max(lats)
    assert [a.subject for a in audit] == [f"tenant:{VALID}"]
    assert audit[0].data["grids"] == n_grids


async def test_a_reimport_replaces_the_geography_and_bumps_the_version(
    import_geography: Importer, acting: Acting, counties: dict[str, Tenant]
) -> None:
    before = await import_geography(VALID, demo_geography(counties[VALID]))
    doc = demo_geography(counties[VALID])
    last_street = f"{VALID}004"
    doc["features"] = [
        f
        for f in doc["features"]
        if f["properties"]["code"] != last_street and f["properties"].get("street_code") != last_street
    ]
    doc["features"][0]["properties"]["name"] = "改名街道"
    kept_grids = sum(1 for f in doc["features"] if f["properties"]["layer"] == "grid")
    report = await import_geography(VALID, doc)
    assert report.version == before.version + 1
    assert report.removed == {"grids": before.grids - kept_grids, "communities": 3, "streets": 1}
    async with acting(VALID) as s:
        streets = dict((await s.execute(select(Street.code, Street.name).order_by(Street.code))).all())
        grids = await s.scalar(select(func.count()).select_from(Grid))
        version = await s.scalar(select(Geography.version))
    assert list(streets) == [f"{VALID}001", f"{VALID}002", f"{VALID}003"]
    assert streets[f"{VALID}001"] == "改名街道"
    assert grids == kept_grids
    assert version == report.version


def _fields(exc: pytest.ExceptionInfo[InvalidInput]) -> list[tuple[str, str]]:
    return [(p.field, p.rule) for p in exc.value.errors]


async def test_every_problem_is_listed_at_once_and_nothing_is_applied(
    guarded: tuple[int | None, int, int, int],
    import_geography: Importer,
    acting: Acting,
    counties: dict[str, Tenant],
) -> None:
    county = counties[GUARDED]
    frame = Frame(county)
    st, cm = f"{GUARDED}001", f"{GUARDED}001001"
    bow_tie = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}
    bow_tie["coordinates"] = [
        [list(frame.lonlat(x, y)) for x, y in ((0, 0), (300, 300), (300, 0), (0, 300), (0, 0))]
    ]
    doc = collection(
        feature("street", st, "第一街道"),  # 0 fine
        feature("street", st, "重复街道"),  # 1 duplicate code
        feature("street", "321312001", "别县街道"),  # 2 another county's code
        feature("street", f"{GUARDED}450", "无类街道"),  # 3 not a street/town/township number
        feature("community", cm, "第一社区", street_code=st),  # 4 fine
        feature("community", f"{GUARDED}009001", "孤儿社区"),  # 5 parent street missing
        feature("community", f"{GUARDED}001002"),  # 6 no name
        feature("grid", f"{cm}001", None, frame.square(0, 1000)),  # 7 fine
        feature("grid", f"{cm}002", None, frame.square(0, 1200)),  # 8 overlaps 7 by half
        feature("grid", f"{GUARDED}001009001", None, frame.square(1000, 1000)),  # 9 community missing
        feature("grid", "321312001001001", None, frame.square(2000, 1000)),  # 10 wrong county
        feature("grid", f"{cm}003", None, bow_tie),  # 11 bow-tie
        feature("grid", f"{cm}004", None, frame.square(*frame.outside(3_000))),  # 12 outside
        feature("grid", f"{cm}00a", None, {"type": "Point", "coordinates": [119, 33]}),  # 13 two problems
        feature("lake", "x", "湖"),  # 14 unknown layer
    )
    with pytest.raises(InvalidInput) as exc:
        await import_geography(GUARDED, doc)
    problems = _fields(exc)
    fields = [f for f, _ in problems]
    assert fields == [
        "features/1/properties/code",
        "features/2/properties/code",
        "features/3/properties/code",
        "features/5/properties/street_code",
        "features/6/properties/name",
        "features/7/geometry",
        "features/8/geometry",
        "features/9/properties/community_code",
        "features/10/properties/code",
        "features/11/geometry",
        "features/12/geometry",
        "features/13/properties/code",
        "features/13/geometry",
        "features/14/properties/layer",
    ]
    rules = dict(problems)
    assert rules["features/1/properties/code"] == "duplicate street code: also features/0"
    assert rules["features/2/properties/code"] == "a street/town code must start with the county code 321311"
    assert rules["features/3/properties/code"].startswith("the last 3 digits must be 001–099")
    assert rules["features/5/properties/street_code"] == "no street feature has this code"
    assert rules["features/8/geometry"].startswith(f"overlaps grid {cm}001 (features/7) by ")
    [overlap] = [p.value for p in exc.value.errors if p.field == "features/8/geometry"]
    assert overlap == pytest.approx(80_000, rel=0.002)
    assert rules["features/9/properties/community_code"] == "no community feature has this code"
    assert (
        rules["features/10/properties/code"]
        == "a GB/T 30428.1 grid code must start with the county code 321311"
    )
    assert rules["features/11/geometry"].startswith("must be a valid polygon: Self-intersection")
    assert rules["features/12/geometry"].startswith(
        f"lies outside the county boundary of {county.name} (321311) by more than 50 m"
    )
    assert rules["features/13/geometry"] == "must be a GeoJSON Polygon or MultiPolygon"
    assert str(exc.value.detail).startswith("14 problem(s) in the geography of")
    assert await _state(acting, GUARDED) == guarded


async def test_overlap_tolerance_slivers_pass_real_overlaps_do_not(
    guarded: tuple[int | None, int, int, int],
    import_geography: Importer,
    acting: Acting,
    counties: dict[str, Tenant],
) -> None:
    county, frame = counties[GUARDED], Frame(counties[GUARDED])
    cm = f"{GUARDED}001001"
    # 400 m squares: a 0.2 m strip along a 400 m edge is 80 m² (tolerated); 5 m is 2,000 m².
    sliver = small(county, frame, (f"{cm}001", frame.square(0, 0)), (f"{cm}002", frame.square(399.8, 0)))
    overlap = small(county, frame, (f"{cm}001", frame.square(0, 0)), (f"{cm}002", frame.square(395, 0)))
    with pytest.raises(InvalidInput) as exc:
        await import_geography(GUARDED, overlap)
    assert [f for f, _ in _fields(exc)] == ["features/2/geometry", "features/3/geometry"]
    assert re.fullmatch(
        rf"overlaps grid {cm}002 \(features/3\) by 1,99\d m², more than 100 m² and 1% of the smaller grid",
        exc.value.errors[0].rule,
    )
    assert exc.value.errors[0].value == pytest.approx(2000, rel=0.01)
    assert await _state(acting, GUARDED) == guarded
    # The sliver is accepted; checked in a transaction that is then rolled back.
    assert (await _dry_run(acting, county, sliver)).grids == 2
    assert await _state(acting, GUARDED) == guarded


class _Rollback(Exception):
    def __init__(self, report: ImportReport) -> None:
        self.report = report


async def _dry_run(acting: Acting, county: Tenant, doc: object) -> ImportReport:
    """Import in a transaction that is then rolled back, so the guarded county stays as it was."""
    try:
        async with acting(county.code) as s:
            raise _Rollback(await do_import_geography(s, county, doc, acting_user="test"))
    except _Rollback as done:
        return done.report


async def test_the_boundary_tolerance_is_50_metres(
    guarded: tuple[int | None, int, int, int], acting: Acting, counties: dict[str, Tenant]
) -> None:
    county, frame = counties[GUARDED], Frame(counties[GUARDED])
    corner = frame.vertex().buffer(300, cap_style="square")
    cm = f"{GUARDED}001001"
    beyond_30 = small(
        county, frame, (f"{cm}001", frame.geojson(frame.metres.buffer(30).intersection(corner)))
    )
    beyond_200 = small(
        county, frame, (f"{cm}001", frame.geojson(frame.metres.buffer(200).intersection(corner)))
    )
    assert (await _dry_run(acting, county, beyond_30)).grids == 1
    with pytest.raises(InvalidInput) as exc:
        async with acting(GUARDED) as s:
            await do_import_geography(s, county, beyond_200, acting_user="test")
    [problem] = exc.value.errors
    assert problem.field == "features/2/geometry"
    assert "by more than 50 m" in problem.rule


async def test_gbt_47678_codes_need_their_street_and_community(
    guarded: tuple[int | None, int, int, int], acting: Acting, counties: dict[str, Tenant]
) -> None:
    county, frame = counties[GUARDED], Frame(counties[GUARDED])
    st, cm = f"{GUARDED}101", f"{GUARDED}101001"
    base = [feature("street", st, "某某镇", kind="town"), feature("community", cm, "某某村", street_code=st)]
    missing = collection(*base, feature("grid", "K7Q2M9X4B1C8D3E", None, frame.square(0, 0)))
    with pytest.raises(InvalidInput) as exc:
        async with acting(GUARDED) as s:
            await do_import_geography(s, county, missing, acting_user="test")
    assert _fields(exc) == [
        ("features/2/properties/street_code", "required for a GB/T 47678 grid code"),
        ("features/2/properties/community_code", "required for a GB/T 47678 grid code"),
    ]
    given = copied(missing)
    given["features"][2]["properties"].update(street_code=st, community_code=cm)
    report = await _dry_run(acting, county, given)
    assert (report.streets, report.communities, report.grids) == (1, 1, 1)


@pytest.mark.parametrize(
    ("doc", "field"),
    [
        ({"type": "Feature"}, "type"),
        ([1, 2], "type"),
        ({"type": "FeatureCollection", "features": []}, "features"),
        ({"type": "FeatureCollection"}, "features"),
    ],
)
async def test_not_a_feature_collection(
    guarded: tuple[int | None, int, int, int],
    import_geography: Importer,
    acting: Acting,
    doc: object,
    field: str,
) -> None:
    with pytest.raises(InvalidInput) as exc:
        await import_geography(GUARDED, doc)
    assert [p.field for p in exc.value.errors] == [field]
    assert await _state(acting, GUARDED) == guarded


async def test_a_city_has_no_geography_of_its_own(
    import_geography: Importer, counties: dict[str, Tenant]
) -> None:
    with pytest.raises(InvalidInput) as exc:
        await import_geography("321300", demo_geography(counties[GUARDED]))
    assert [(p.field, p.value) for p in exc.value.errors] == [("code", "321300")]
