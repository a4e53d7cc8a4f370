"""The demo's units and component inventory, deterministic and idempotent (existing rows are kept).

Per county: one territorial unit per street/town of its geography (街道 → 办事处, 镇/乡 → 人民政府),
four sector departments (城管执法, 园林绿化, 市政, 环卫), three to five 门前三包 shop-front units, and an
inventory of a few component classes (covers, street lights, bins, street trees) at seeded random
points around the county's grid centroids. Each county's city gets two city-level departments
(排水, 路灯) that own and maintain the city's covers and lights in every county.

Demo convenience: the demo user ``department@{county}`` acts for every unit of its county, and
``department@{city}`` for the city's units.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from citylead.db import Database
from citylead.geography.models import Grid, Street
from citylead.units.ids import credit_check_char
from citylead.units.models import Component, Unit, UnitKind
from tenants.context import TenantContext
from tenants.models import Tenant

__all__ = [
    "CITY_DEPARTMENTS",
    "COUNTY_DEPARTMENTS",
    "DEMO_CLASSES",
    "SHOPS",
    "credit_code",
    "seed_demo_units",
    "territorial_name",
]

# (code, name suffix, sector, classes)
COUNTY_DEPARTMENTS = [
    ("CGZF", "城管执法大队", "城管执法", ["matter:08", "matter:09"]),
    ("YLLH", "园林绿化管理所", "园林绿化", ["component:04", "matter:04"]),
    ("SZSS", "市政设施管理处", "市政", ["component:01", "component:02", "matter:01", "matter:02"]),
    ("HJWS", "环境卫生管理所", "环卫", ["component:03", "matter:03", "matter:06"]),
]
CITY_DEPARTMENTS = [
    ("PSGL", "排水管理处", "排水", ["component:01002", "component:01003", "matter:01002", "matter:01003"]),
    ("LDS", "供电公司路灯所", "路灯", ["component:01006", "component:01037", "matter:01037"]),
]
SHOPS = ["苏果超市", "老常州面馆", "百姓大药房", "华润万家", "永辉超市"]
# class → (weight, owner, maintainer): "city:CODE" is the city's unit, "CODE" the county's, None unknown
DEMO_CLASSES: dict[str, tuple[int, str | None, str | None]] = {
    "01002": (30, "city:PSGL", "city:PSGL"),  # 污水井盖
    "01003": (25, "city:PSGL", "SZSS"),  # 雨水井盖
    "01023": (5, None, None),  # 不明井盖: owner unknown, goes to the territory
    "01037": (30, "city:LDS", "city:LDS"),  # 路灯
    "03005": (40, "HJWS", "HJWS"),  # 垃圾箱
    "04002": (40, "YLLH", "YLLH"),  # 行道树
}
CLASS_NAMES = {
    "01002": "污水井盖",
    "01003": "雨水井盖",
    "01023": "不明井盖",
    "01037": "路灯",
    "03005": "垃圾箱",
    "04002": "行道树",
}
SPREAD_DEG = 0.0015  # objects lie within ~150 m of a grid centroid


@dataclass(frozen=True)
class _Ctx:
    county: Tenant
    city: Tenant


def credit_code(rng: random.Random, prefix: str, division: str) -> str:
    """A well-formed GB 32100 credit code: ``prefix`` (11 机关, 12 事业单位, 92 个体工商户), the
    registering division's code, 9 random characters and the check character."""
    body = prefix + division + "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(9))
    return body + credit_check_char(body)


def territorial_name(street_name: str, kind: str) -> str:
    """The territorial unit of a street/town: 街道 → …办事处, 镇/乡 → …人民政府."""
    return street_name + ("办事处" if kind == "street" else "人民政府")


def _unit(tenant: Tenant, code: str, name: str, kind: UnitKind, account: str, **extra: Any) -> dict[str, Any]:
    return {
        "tenant_id": tenant.id,
        "code": code,
        "name": name,
        "kind": kind.value,
        "sector": extra.get("sector"),
        "street_code": extra.get("street_code"),
        "classes": extra.get("classes", []),
        "accounts": [account],
        "credit_code": extra.get("credit_code"),
        "contact": extra.get("contact"),
        "active": True,
        "version": 1,
    }


def _city_units(city: Tenant) -> list[dict[str, Any]]:
    rng = random.Random(f"citylead-units-{city.code}")  # noqa: S311 - deterministic demo data
    return [
        _unit(
            city,
            code,
            city.name + suffix,
            UnitKind.SECTOR,
            f"department@{city.code}",
            sector=sector,
            classes=classes,
            credit_code=credit_code(rng, "12", city.code),
            contact=f"值班电话 8{rng.randint(1000000, 9999999)}",
        )
        for code, suffix, sector, classes in CITY_DEPARTMENTS
    ]


def _county_units(county: Tenant, streets: list[Street], rng: random.Random) -> list[dict[str, Any]]:
    account = f"department@{county.code}"
    units = [
        _unit(
            county,
            code,
            county.name + suffix,
            UnitKind.SECTOR,
            account,
            sector=sector,
            classes=classes,
            credit_code=credit_code(rng, "11", county.code),
            contact=f"值班电话 8{rng.randint(1000000, 9999999)}",
        )
        for code, suffix, sector, classes in COUNTY_DEPARTMENTS
    ]
    for s in streets:
        units.append(
            _unit(
                county,
                s.code,
                territorial_name(s.name, s.kind),
                UnitKind.TERRITORIAL,
                account,
                street_code=s.code,
                credit_code=credit_code(rng, "11", county.code),
            )
        )
    if streets:
        for i, shop in enumerate(rng.sample(SHOPS, rng.randint(3, 5)), start=1):
            s = rng.choice(streets)
            units.append(
                _unit(
                    county,
                    f"MQ{i:02d}",
                    f"{shop}（{s.name}店）",
                    UnitKind.SHOPFRONT,
                    account,
                    street_code=s.code,
                    credit_code=credit_code(rng, "92", county.code),
                    contact=f"店长 1{rng.randint(3000000000, 9999999999)}",
                )
            )
    return units


def _components(ctx: _Ctx, grids: list[Grid], rng: random.Random) -> list[dict[str, Any]]:
    if not grids:
        return []
    classes = list(DEMO_CLASSES)
    weights = [DEMO_CLASSES[c][0] for c in classes]
    serials = dict.fromkeys(classes, 0)
    rows = []
    for n in range(rng.randint(100, 300)):
        grid = grids[n % len(grids)]
        klass = rng.choices(classes, weights)[0]
        serials[klass] += 1
        _, owner, maintainer = DEMO_CLASSES[klass]
        installed = date(2015, 1, 1) + timedelta(days=rng.randint(0, 3650))
        row: dict[str, Any] = {
            "tenant_id": ctx.county.id,
            "object_id": f"{ctx.county.code}{klass}{serials[klass]:06d}",
            "edition": "2026",
            "class_code": klass,
            "name": CLASS_NAMES[klass],
            "competent_department": None,
            "grid_code": grid.code,
            "street_code": grid.street_code,
            "community_code": grid.community_code,
            "state": rng.choices(["intact", "damaged", "lost"], [90, 8, 2])[0],
            "lon": round(grid.centroid_lon + rng.uniform(-SPREAD_DEG, SPREAD_DEG), 7),
            "lat": round(grid.centroid_lat + rng.uniform(-SPREAD_DEG, SPREAD_DEG), 7),
            "installed_on": installed,
            "changed_on": None,
            "source": "demo",
            "note": None,
        }
        for role, ref in (("owner", owner), ("maintainer", maintainer)):
            tenant = ctx.city if ref and ref.startswith("city:") else ctx.county
            row[f"{role}_unit"] = ref.removeprefix("city:") if ref else None
            row[f"{role}_tenant_id"] = tenant.id if ref else None
        rows.append(row)
    return rows


async def seed_demo_units(owner: Database, county_codes: list[str]) -> None:
    """Units and inventory for ``county_codes`` and their cities; rows that exist are left alone."""
    async with owner.transaction(None) as s:
        counties = list(await s.scalars(select(Tenant).where(Tenant.code.in_(county_codes))))
        parents = {t.parent_id for t in counties}
        cities = {t.id: t for t in await s.scalars(select(Tenant).where(Tenant.id.in_(parents)))}
    for city in sorted(cities.values(), key=lambda t: t.code):
        async with owner.transaction(TenantContext(city.path)) as s:
            await s.execute(insert(Unit).on_conflict_do_nothing(), _city_units(city))
    for county in sorted(counties, key=lambda t: t.code):
        ctx = _Ctx(county, cities[county.parent_id] if county.parent_id else county)
        rng = random.Random(f"citylead-units-{county.code}")  # noqa: S311 - deterministic demo data
        async with owner.transaction(TenantContext(county.path)) as s:
            streets = list(
                await s.scalars(select(Street).where(Street.tenant_id == county.id).order_by(Street.code))
            )
            grids = list(await s.scalars(select(Grid).where(Grid.tenant_id == county.id).order_by(Grid.code)))
            await s.execute(insert(Unit).on_conflict_do_nothing(), _county_units(county, streets, rng))
            components = _components(ctx, grids, rng)
            if components:
                await s.execute(insert(Component).on_conflict_do_nothing(), components)
