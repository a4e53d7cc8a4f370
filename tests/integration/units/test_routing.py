"""Routing: the pure decision (no database), then ``suggest`` against real rows as the app role.

淮安市 320800 and 淮阴区 320804 (the county of the cases), 清江浦区 320812 (its sibling).
"""

from __future__ import annotations

import math
import uuid

import pytest

from citylead.units.inventory import do_import_components
from citylead.units.routing import (
    NEAREST_RADIUS_M,
    Candidates,
    ObjectRef,
    Suggestion,
    UnitRef,
    decide,
    distance_m,
    nearest,
    suggest,
)
from tenants.errors import InvalidInput
from tenants.models import Tenant
from tenants.standards.paths import Kind
from tenants.standards.resolver import Resolver
from tenants.standards.views import Manual
from tests.integration.units.conftest import Acting, create_unit

# --- the decision, pure -------------------------------------------------------------------------

COUNTY_ID, CITY_ID = uuid.uuid4(), uuid.uuid4()
DRAINAGE = UnitRef(CITY_ID, "PSGL", "常州市排水管理处")
MUNICIPAL = UnitRef(COUNTY_ID, "SZSS", "新北区市政设施管理处")
TOWN = UnitRef(COUNTY_ID, "320411100", "湖塘镇人民政府")
PLACE = "网格 320411100001001 属 湖塘镇"
COVER = ObjectRef("32041101002000001", "污水井盖", maintainer=DRAINAGE, owner=MUNICIPAL)


def test_a_component_goes_to_its_maintainer_first() -> None:
    s = decide("component", "01002", "owner_first", Candidates(COVER, TOWN, place=PLACE))
    assert (s.unit_code, s.unit_tenant_id, s.basis, s.component_id) == (
        "PSGL",
        CITY_ID,
        "maintainer",
        COVER.object_id,
    )
    assert s.reason == "部件先属主：污水井盖 32041101002000001 的养护单位为 常州市排水管理处"


def test_without_a_maintainer_the_owner() -> None:
    cover = ObjectRef(COVER.object_id, "污水井盖", maintainer=None, owner=MUNICIPAL)
    s = decide("component", "01002", "owner_first", Candidates(cover, TOWN, place=PLACE))
    assert (s.unit_code, s.basis) == ("SZSS", "owner")
    assert s.reason == "部件先属主：污水井盖 32041101002000001 的权属单位为 新北区市政设施管理处"


def test_owner_unknown_goes_to_the_territory() -> None:
    cover = ObjectRef(COVER.object_id, "不明井盖", maintainer=None, owner=None)
    s = decide("component", "01023", "owner_first", Candidates(cover, TOWN, place=PLACE))
    assert (s.unit_code, s.basis, s.component_id) == ("320411100", "territory", COVER.object_id)
    assert s.reason == (
        "部件先属主：不明井盖 32041101002000001 未登记在用的养护或权属单位；属地兜底："
        "网格 320411100001001 属 湖塘镇，派 湖塘镇人民政府"
    )


def test_no_object_nearby_goes_to_the_territory() -> None:
    s = decide("component", "01002", "owner_first", Candidates(None, TOWN, place=PLACE))
    assert (s.unit_code, s.basis, s.component_id) == ("320411100", "territory", None)
    assert s.reason.startswith("部件先属主：30 米内无同类部件的普查记录；属地兜底")


def test_no_owner_and_no_territory_is_none() -> None:
    s = decide("component", "01002", "owner_first", Candidates(None, None, place=None))
    assert (s.unit_code, s.unit_tenant_id, s.unit_name, s.basis) == (None, None, None, "none")
    assert s.reason == (
        "无法确定责任单位：30 米内无同类部件的普查记录，案件位置未落入任何街镇，请上报市指挥中心"
    )


def test_a_matter_goes_to_the_territory_first_even_with_an_owner_at_hand() -> None:
    s = decide("matter", "06010", "territory_first", Candidates(COVER, TOWN, place=PLACE))
    assert (s.unit_code, s.basis) == ("320411100", "territory")
    assert s.reason == "事件先属地：网格 320411100001001 属 湖塘镇，派 湖塘镇人民政府"


def test_a_matter_without_territory_goes_to_the_owner_then_none() -> None:
    s = decide("matter", "01002", "territory_first", Candidates(COVER, None, place="案件位于 街镇 320411199"))
    assert (s.unit_code, s.basis) == ("PSGL", "maintainer")
    assert s.reason.startswith("事件先属地后属主：案件位于 街镇 320411199 无在用的属地单位；属主：")
    none = decide("matter", "06010", "territory_first", Candidates(None, None))
    assert none.basis == "none"
    assert none.reason.endswith("请上报市指挥中心")


def test_sector_in_the_county_prefers_the_unit_whose_classes_match() -> None:
    general = UnitRef(COUNTY_ID, "A-general", "执法一中队")
    other = UnitRef(COUNTY_ID, "B-roads", "执法二中队", ("matter:09",))
    build = UnitRef(COUNTY_ID, "C-build", "执法三中队", ("matter:08",))
    exact = UnitRef(COUNTY_ID, "D-exact", "违建专班", ("matter:08", "matter:08001"))
    c = Candidates(None, TOWN, sectors=(general, other, build, exact))
    s = decide("matter", "08001", "sector:城管执法", c)
    assert (s.unit_code, s.basis) == ("D-exact", "sector")
    assert s.reason == "手册指定专业部门：城管执法，派 违建专班"
    assert decide("matter", "08002", "sector:城管执法", c).unit_code == "C-build"
    assert decide("matter", "06001", "sector:城管执法", c).unit_code == "A-general"  # no match: general first


def test_sector_only_at_the_city() -> None:
    s = decide("matter", "01002", "sector:排水", Candidates(None, TOWN, upper_sectors=(DRAINAGE,)))
    assert (s.unit_code, s.unit_tenant_id, s.basis) == ("PSGL", CITY_ID, "sector")
    assert s.reason == "手册指定专业部门：排水，本级无在用的该类部门，派上级 常州市排水管理处"


def test_sector_nowhere_falls_back_to_the_territory_then_none() -> None:
    s = decide("matter", "04002", "sector:园林绿化", Candidates(None, TOWN, place=PLACE))
    assert (s.unit_code, s.basis) == ("320411100", "territory")
    assert s.reason.startswith("手册指定专业部门：园林绿化，但本级和上级均无在用的园林绿化部门；属地兜底")
    assert decide("matter", "04002", "sector:园林绿化", Candidates()).basis == "none"


def test_an_unknown_rule_names_the_field() -> None:
    with pytest.raises(InvalidInput) as caught:
        decide("matter", "06010", "whoever", Candidates())
    assert caught.value.errors[0].field == "responsible"


def test_distance_and_the_nearest_object_within_the_radius() -> None:
    lat = 31.8
    one_metre_lon = 1 / (111_195 * math.cos(math.radians(lat)))
    assert distance_m(119.9, lat, 119.9 + 10 * one_metre_lon, lat) == pytest.approx(10, rel=1e-3)
    assert distance_m(119.9, lat, 119.9, lat + 30 / 111_195) == pytest.approx(30, rel=1e-3)
    points = [("far", 119.9 + 31 * one_metre_lon, lat), ("near", 119.9 - 12 * one_metre_lon, lat)]
    assert nearest(points, 119.9, lat) == "near"
    assert nearest(points[:1], 119.9, lat) is None  # 31 m > NEAREST_RADIUS_M
    assert NEAREST_RADIUS_M == 30


# --- suggest, against real rows -----------------------------------------------------------------

CITY, COUNTY, SIBLING = "320800", "320804", "320812"
STREET = "320804100"
LON, LAT = 119.0300, 33.6000
M_LON = 1 / (111_195 * math.cos(math.radians(LAT)))  # one metre in degrees of longitude


@pytest.fixture(scope="module")
async def rows(acting: Acting, registry: dict[str, Tenant], catalogue: None) -> None:
    await create_unit(
        acting,
        registry,
        COUNTY,
        code="rt-town",
        name="王营镇人民政府",
        kind="territorial",
        street_code=STREET,
    )
    await create_unit(
        acting, registry, COUNTY, code="rt-cgzf", name="淮阴区城管执法大队", kind="sector", sector="城管执法"
    )
    await create_unit(
        acting, registry, CITY, code="rt-psgl", name="淮安市排水管理处", kind="sector", sector="排水"
    )
    await create_unit(
        acting, registry, SIBLING, code="rt-sib", name="清江浦区排水所", kind="sector", sector="排水"
    )
    header = "object_id,class_code,lon,lat,street_code,owner_unit,maintainer_unit"
    lines = [
        f"{COUNTY}01002000001,01002,{LON:.6f},{LAT:.6f},{STREET},,rt-psgl",
        f"{COUNTY}01023000001,01023,{LON + 100 * M_LON:.7f},{LAT:.6f},{STREET},,",
    ]
    async with acting(COUNTY) as s:
        data = "\n".join([header, *lines]).encode()
        await do_import_components(s, Resolver(), registry[COUNTY], data, "text/csv", acting_user="test")


async def _suggest(
    acting: Acting,
    registry: dict[str, Tenant],
    actor: str = COUNTY,
    *,
    kind: str,
    code: str,
    responsible: str,
    street_code: str | None = STREET,
    lon: float = LON,
    component_id: str | None = None,
    grid_code: str | None = None,
    street_name: str | None = None,
) -> Suggestion:
    async with acting(actor) as s:
        return await suggest(
            s,
            registry[COUNTY],
            kind=kind,
            code=code,
            responsible=responsible,
            street_code=street_code,
            lon=lon,
            lat=LAT,
            component_id=component_id,
            grid_code=grid_code,
            street_name=street_name,
        )


@pytest.mark.usefixtures("rows")
async def test_the_manual_rule_of_a_cover_routes_to_its_maintainer_at_the_city(
    acting: Acting, registry: dict[str, Tenant]
) -> None:
    async with acting(COUNTY) as s:
        manual = await Resolver().effective(s, registry[COUNTY], Kind.MANUAL)
    rule = Manual.of(manual).rule("component", "01002").responsible
    assert rule == "owner_first"
    s = await _suggest(
        acting, registry, kind="component", code="01002", responsible=rule, lon=LON + 12 * M_LON
    )
    assert (s.unit_code, s.unit_tenant_id, s.basis) == ("rt-psgl", registry[CITY].id, "maintainer")
    assert s.component_id == f"{COUNTY}01002000001"
    assert s.reason == f"部件先属主：污水井盖 {COUNTY}01002000001 的养护单位为 淮安市排水管理处"


@pytest.mark.usefixtures("rows")
async def test_beyond_thirty_metres_the_territory_handles_it(
    acting: Acting, registry: dict[str, Tenant]
) -> None:
    s = await _suggest(
        acting, registry, kind="component", code="01002", responsible="owner_first", lon=LON - 40 * M_LON
    )
    assert (s.unit_code, s.basis, s.component_id) == ("rt-town", "territory", None)


@pytest.mark.usefixtures("rows")
async def test_an_object_without_owner_goes_to_the_territory(
    acting: Acting, registry: dict[str, Tenant]
) -> None:
    s = await _suggest(
        acting,
        registry,
        kind="component",
        code="01023",
        responsible="owner_first",
        component_id=f"{COUNTY}01023000001",
        grid_code="320804100001001",
        street_name="王营镇",
    )
    assert (s.unit_code, s.basis, s.component_id) == ("rt-town", "territory", f"{COUNTY}01023000001")
    assert s.reason.endswith("属地兜底：网格 320804100001001 属 王营镇，派 王营镇人民政府")


@pytest.mark.usefixtures("rows")
@pytest.mark.parametrize(
    "component_id",
    [f"{COUNTY}01023000001", f"{COUNTY}01002000099", f"{SIBLING}01002000001"],
    ids=["other-class", "missing", "other-county"],
)
async def test_a_named_component_must_be_in_the_inventory_and_of_the_class(
    acting: Acting, registry: dict[str, Tenant], component_id: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        await _suggest(
            acting,
            registry,
            kind="component",
            code="01002",
            responsible="owner_first",
            component_id=component_id,
        )
    assert [p.field for p in caught.value.errors] == ["component_id"]


@pytest.mark.usefixtures("rows")
async def test_a_matter_goes_to_the_town(acting: Acting, registry: dict[str, Tenant]) -> None:
    s = await _suggest(
        acting, registry, kind="matter", code="06010", responsible="territory_first", street_name="王营镇"
    )
    assert (s.unit_code, s.basis) == ("rt-town", "territory")
    assert s.reason == "事件先属地：案件位于 王营镇，派 王营镇人民政府"
    nowhere = await _suggest(
        acting, registry, kind="matter", code="06010", responsible="territory_first", street_code=None
    )
    assert nowhere.basis == "none"


@pytest.mark.usefixtures("rows")
async def test_sector_units_in_the_county_then_the_city_never_a_sibling(
    acting: Acting, registry: dict[str, Tenant]
) -> None:
    s = await _suggest(acting, registry, kind="matter", code="08001", responsible="sector:城管执法")
    assert (s.unit_code, s.unit_tenant_id) == ("rt-cgzf", registry[COUNTY].id)
    drain = await _suggest(acting, registry, kind="matter", code="01002", responsible="sector:排水")
    assert (drain.unit_code, drain.unit_tenant_id) == ("rt-psgl", registry[CITY].id)


@pytest.mark.usefixtures("rows")
async def test_the_city_command_centre_gets_the_same_suggestion(
    acting: Acting, registry: dict[str, Tenant]
) -> None:
    s = await _suggest(
        acting, registry, actor=CITY, kind="component", code="01002", responsible="owner_first"
    )
    assert (s.unit_code, s.basis) == ("rt-psgl", "maintainer")
