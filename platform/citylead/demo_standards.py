"""The demo's standards: the national baseline in Jiangsu, Changzhou's city layer, one county's.

Changzhou (常州市, the 以市带县 pilot) publishes: road-not-clean within 2 working hours instead of
the national 5, tighten-only for its counties; a local sub-class of it for main roads; the manhole
cover limits locked; its own department weights, locked. 新北区 then tightens road-not-clean to
1.5 working hours, which the city allows.
"""

from __future__ import annotations

from sqlalchemy import select

from citylead.db import Database
from tenants.context import TenantContext
from tenants.models import Tenant
from tenants.standards.paths import Kind
from tenants.standards.resolver import Resolver
from tenants.standards.seeding import publish_layer, seed_baseline

__all__ = ["CITY_LAYERS", "COUNTY_LAYERS", "DEMO_COUNTY", "seed_demo_standards"]

DEMO_CITY = "320400"
DEMO_COUNTY = "320411"
ROAD = "manual/matter/06012"  # 道路不洁
COVER = "manual/matter/01002"  # 污水井盖异常

CITY_LAYERS: dict[Kind, tuple[dict[str, object], dict[str, str], str]] = {
    Kind.CATALOG: (
        {"catalog/matter/06012-01/name": "主次干道路面不洁"},
        {},
        "常州市地方细类：主次干道路面不洁",
    ),
    Kind.MANUAL: (
        {
            f"{ROAD}/limit/normal": "2wh",
            f"{ROAD}/limit/urgent": "1wh",
            "manual/matter/06012-01/filing": "主次干道路面有明显垃圾、污渍或积尘，面积超过1平方米",
            "manual/matter/06012-01/closing": "路面清扫保洁到位，无明显垃圾、污渍",
            "manual/matter/06012-01/responsible": "sector:环卫",
            "manual/matter/06012-01/limit/normal": "1wh",
            "manual/matter/06012-01/limit/urgent": "30wmin",
            f"{COVER}/limit/normal": "12h",
        },
        {
            f"{ROAD}/limit": "tighten_only",
            f"{COVER}/limit": "locked",
            "manual/matter/06012-01": "tighten_only",
        },
        "常州市处置手册：道路不洁2工作时，井盖时限锁定",
    ),
    Kind.ASSESSMENT: (
        {
            "assessment/department/weight/volume": 10,
            "assessment/department/weight/closing_rate": 20,
            "assessment/department/weight/ontime_disposal_rate": 40,
            "assessment/department/weight/rework_rate": 30,
        },
        {"assessment/department/weight": "locked"},
        "常州市专业部门考核权重：按期处置率40",
    ),
}
COUNTY_LAYERS: dict[Kind, tuple[dict[str, object], dict[str, str], str]] = {
    Kind.MANUAL: ({f"{ROAD}/limit/normal": "1.5wh"}, {}, "新北区：道路不洁从严至1.5工作时"),
}
ACTOR = "citylead:demo"


async def seed_demo_standards(owner: Database, province_code: str) -> None:
    """Publish the baseline, then the demo city and county layers (first start only)."""
    resolver = Resolver()
    async with owner.transaction(None) as s:
        rows = await s.scalars(select(Tenant).where(Tenant.code.in_([province_code, DEMO_CITY, DEMO_COUNTY])))
        by_code = {t.code: t for t in rows}
    province = by_code[province_code]
    async with owner.transaction(TenantContext(province.path)) as s:
        await seed_baseline(s, resolver, province)
    for code, layers in ((DEMO_CITY, CITY_LAYERS), (DEMO_COUNTY, COUNTY_LAYERS)):
        tenant = by_code[code]
        async with owner.transaction(TenantContext(tenant.path)) as s:
            for kind, (values, policies, note) in layers.items():
                await publish_layer(
                    s, resolver, tenant, kind, values, policies=policies, note=note, acting_user=ACTOR
                )
