"""Routing (派遣建议): which one unit a case should go to, and why, in words a dispatcher can check.

部件先属主后属地、事件先属地后属主, 属地兜底, 唯一责任主体 (domain.md §4). The disposal manual gives each
class a ``responsible`` rule:

- ``owner_first``: the identified inventory object (the given id, else the nearest object of the
  class within ``NEAREST_RADIUS_M``) → its maintainer (养护单位), else its owner (权属单位) → else the
  street/town's territorial unit → else nobody;
- ``territory_first``: the street/town's territorial unit → else the identified object's
  maintainer/owner → else nobody;
- ``sector:<type>``: an active sector unit of that type in the county (preferring one whose
  ``classes`` match the class) → else in the nearest tenant above → else the territory → else nobody.

:func:`decide` is the pure decision over already-fetched candidates; :func:`suggest` fetches them.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from citylead.units.models import Component, Unit, UnitKind
from citylead.units.service import lineage_ids
from tenants.errors import FieldProblem, InvalidInput
from tenants.models import Tenant

__all__ = [
    "EARTH_RADIUS_M",
    "NEAREST_RADIUS_M",
    "Candidates",
    "ObjectRef",
    "Suggestion",
    "UnitRef",
    "decide",
    "distance_m",
    "nearest",
    "suggest",
]

NEAREST_RADIUS_M = 30.0  # a report within 30 m of an object of its class is about that object
EARTH_RADIUS_M = 6_371_008.8  # mean Earth radius (IUGG)


@dataclass(frozen=True)
class Suggestion:
    unit_tenant_id: uuid.UUID | None
    unit_code: str | None
    unit_name: str | None
    basis: str  # "maintainer" | "owner" | "territory" | "sector" | "none"
    reason: str  # Chinese, complete
    component_id: str | None  # the inventory object used, if any


@dataclass(frozen=True)
class UnitRef:
    tenant_id: uuid.UUID
    code: str
    name: str
    classes: tuple[str, ...] = ()

    @classmethod
    def of(cls, unit: Unit) -> UnitRef:
        return cls(unit.tenant_id, unit.code, unit.name, tuple(unit.classes or ()))


@dataclass(frozen=True)
class ObjectRef:
    object_id: str
    name: str
    maintainer: UnitRef | None  # None: not recorded, or the unit is inactive
    owner: UnitRef | None


@dataclass(frozen=True)
class Candidates:
    """What the decision may choose from, fetched for one case."""

    component: ObjectRef | None = None
    territory: UnitRef | None = None  # the active territorial unit of the street/town
    sectors: tuple[UnitRef, ...] = ()  # active sector units of the type, in the county
    upper_sectors: tuple[UnitRef, ...] = ()  # the same in the nearest tenant above that has one
    place: str | None = None  # "网格 320411001001001 属 湖塘镇", "湖塘镇", or None if unknown


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Equirectangular distance in metres: within 0.1% of haversine at city scale."""
    x = math.radians(lon2 - lon1) * math.cos(math.radians((lat1 + lat2) / 2))
    y = math.radians(lat2 - lat1)
    return EARTH_RADIUS_M * math.hypot(x, y)


def nearest(
    points: Sequence[tuple[str, float, float]], lon: float, lat: float, radius_m: float = NEAREST_RADIUS_M
) -> str | None:
    """The id of the nearest point (id, lon, lat) within ``radius_m``; ties go to the smaller id."""
    best = min(((distance_m(lon, lat, x, y), pid) for pid, x, y in points), default=None)
    return best[1] if best and best[0] <= radius_m else None


def _rank(unit: UnitRef, key: str) -> tuple[int, str]:
    """Sort key: the longest class prefix matching ``kind:code`` first, then units with no classes
    (general), then units whose classes do not match; code breaks ties."""
    matched = [len(p) for p in unit.classes if key.startswith(p)]
    if matched:
        return (-max(matched), unit.code)
    return (0 if not unit.classes else 1, unit.code)


def _of_object(obj: ObjectRef, principle: str) -> Suggestion | None:
    for basis, unit, label in (("maintainer", obj.maintainer, "养护单位"), ("owner", obj.owner, "权属单位")):
        if unit is not None:
            reason = f"{principle}：{obj.name} {obj.object_id} 的{label}为 {unit.name}"
            return Suggestion(unit.tenant_id, unit.code, unit.name, basis, reason, obj.object_id)
    return None


def _territory(c: Candidates, principle: str, component_id: str | None) -> Suggestion | None:
    if c.territory is None:
        return None
    t = c.territory
    reason = f"{principle}：{c.place or '案发街镇'}，派 {t.name}"
    return Suggestion(t.tenant_id, t.code, t.name, "territory", reason, component_id)


def _none(facts: list[str], component_id: str | None) -> Suggestion:
    reason = "无法确定责任单位：" + "，".join(facts) + "，请上报市指挥中心"
    return Suggestion(None, None, None, "none", reason, component_id)


def decide(kind: str, code: str, responsible: str, c: Candidates) -> Suggestion:
    """The one responsible unit for a case of class ``kind:code`` under the manual's rule."""
    obj = c.component
    obj_id = obj.object_id if obj else None
    no_territory = f"{c.place} 无在用的属地单位" if c.place else "案件位置未落入任何街镇"
    if obj is None:
        no_owner = f"{NEAREST_RADIUS_M:g} 米内无同类部件的普查记录"
    else:
        no_owner = f"{obj.name} {obj.object_id} 未登记在用的养护或权属单位"
    if responsible == "owner_first":
        if obj is not None and (found := _of_object(obj, "部件先属主")):
            return found
        return _territory(c, f"部件先属主：{no_owner}；属地兜底", obj_id) or _none(
            [no_owner, no_territory], obj_id
        )
    if responsible == "territory_first":
        if found := _territory(c, "事件先属地", obj_id):
            return found
        if obj is not None and (found := _of_object(obj, f"事件先属地后属主：{no_territory}；属主")):
            return found
        return _none([no_territory, no_owner], obj_id)
    if responsible.startswith("sector:"):
        sector = responsible.removeprefix("sector:")
        key = f"{kind}:{code}"
        if c.sectors:
            u = min(c.sectors, key=lambda u: _rank(u, key))
            reason = f"手册指定专业部门：{sector}，派 {u.name}"
            return Suggestion(u.tenant_id, u.code, u.name, "sector", reason, obj_id)
        if c.upper_sectors:
            u = min(c.upper_sectors, key=lambda u: _rank(u, key))
            reason = f"手册指定专业部门：{sector}，本级无在用的该类部门，派上级 {u.name}"
            return Suggestion(u.tenant_id, u.code, u.name, "sector", reason, obj_id)
        no_sector = f"本级和上级均无在用的{sector}部门"
        principle = f"手册指定专业部门：{sector}，但{no_sector}；属地兜底"
        return _territory(c, principle, obj_id) or _none([no_sector, no_territory], obj_id)
    raise InvalidInput(
        "unknown routing rule",
        errors=[
            FieldProblem(
                "responsible", 'must be "owner_first", "territory_first" or "sector:<type>"', responsible
            )
        ],
    )


async def _unit_ref(session: AsyncSession, tenant_id: uuid.UUID | None, code: str | None) -> UnitRef | None:
    if tenant_id is None or code is None:
        return None
    unit = await session.scalar(
        select(Unit).where(Unit.tenant_id == tenant_id, Unit.code == code, Unit.active.is_(True))
    )
    return UnitRef.of(unit) if unit else None


async def _object(
    session: AsyncSession, county: Tenant, code: str, lon: float, lat: float, component_id: str | None
) -> ObjectRef | None:
    base = code.split("-", 1)[0]  # a local sub-item is an object of its class
    if component_id is not None:
        row = await session.scalar(
            select(Component).where(Component.tenant_id == county.id, Component.object_id == component_id)
        )
        if row is None or row.class_code != base:
            rule = f"must be an object of class {base} in the inventory of {county.name} ({county.code})"
            raise InvalidInput("unknown component", errors=[FieldProblem("component_id", rule, component_id)])
    else:
        dlat = math.degrees(NEAREST_RADIUS_M / EARTH_RADIUS_M)
        dlon = dlat / max(math.cos(math.radians(lat)), 0.01)
        near = {
            r.object_id: r
            for r in await session.scalars(
                select(Component).where(
                    Component.tenant_id == county.id,
                    Component.class_code == base,
                    Component.lon.between(lon - dlon, lon + dlon),
                    Component.lat.between(lat - dlat, lat + dlat),
                    Component.state != "removed",
                )
            )
        }
        found = nearest([(r.object_id, r.lon, r.lat) for r in near.values()], lon, lat)
        if found is None:
            return None
        row = near[found]
    return ObjectRef(
        row.object_id,
        row.name,
        await _unit_ref(session, row.maintainer_tenant_id, row.maintainer_unit),
        await _unit_ref(session, row.owner_tenant_id, row.owner_unit),
    )


async def _active(session: AsyncSession, *where: ColumnElement[bool]) -> list[UnitRef]:
    rows = await session.scalars(select(Unit).where(Unit.active.is_(True), *where).order_by(Unit.code))
    return [UnitRef.of(u) for u in rows]


async def suggest(
    session: AsyncSession,
    county: Tenant,
    *,
    kind: str,
    code: str,
    responsible: str,
    street_code: str | None,
    lon: float,
    lat: float,
    component_id: str | None = None,
    grid_code: str | None = None,
    street_name: str | None = None,
) -> Suggestion:
    """The suggested unit for a case of ``kind:code`` at (lon, lat) in ``county``. ``grid_code`` and
    ``street_name`` (from the geography index's Place) only make the reason read better."""
    obj = None
    if component_id is not None or responsible in ("owner_first", "territory_first"):
        obj = await _object(session, county, code, lon, lat, component_id)
    territory = None
    if street_code:
        found = await _active(
            session,
            Unit.tenant_id == county.id,
            Unit.kind == UnitKind.TERRITORIAL.value,
            Unit.street_code == street_code,
        )
        territory = found[0] if found else None
    sectors: list[UnitRef] = []
    upper: list[UnitRef] = []
    if responsible.startswith("sector:"):
        sector = responsible.removeprefix("sector:")
        lineage = await lineage_ids(session, county)  # the county first, then the tenants above
        for tid in lineage:
            found = await _active(
                session, Unit.tenant_id == tid, Unit.kind == UnitKind.SECTOR.value, Unit.sector == sector
            )
            if found:
                sectors, upper = (found, []) if tid == county.id else ([], found)
                break
    return decide(
        kind,
        code,
        responsible,
        Candidates(obj, territory, tuple(sectors), tuple(upper), _place(street_code, grid_code, street_name)),
    )


def _place(street_code: str | None, grid_code: str | None, street_name: str | None) -> str | None:
    """``网格 320411001001001 属 湖塘镇``, ``案件位于 湖塘镇``, or None where the street is unknown."""
    if not street_code:
        return None
    street = street_name or f"街镇 {street_code}"
    return f"网格 {grid_code} 属 {street}" if grid_code else f"案件位于 {street}"
