"""One division as history needs it (演示历史的区县快照): its pinned standards, calendar, grids, units,
inventory and posts, read once in the county's context, so that cases can be planned and built in
pure Python with the same functions intake and routing use.

:func:`load_world` reads it; :meth:`World.suggest` is routing's :func:`citylead.units.routing.decide`
over candidates taken from the snapshot, exactly as :func:`citylead.units.routing.suggest` would
fetch them.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field

from shapely.geometry import shape as to_shape
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from citylead.cases.intake import PINNED, class_of, rule_of
from citylead.geography.index import CountyIndex, Locator, Place
from citylead.geography.models import Grid
from citylead.identity.principal import Role
from citylead.units.models import Component, Unit, UnitKind
from citylead.units.routing import (
    EARTH_RADIUS_M,
    Candidates,
    ObjectRef,
    Suggestion,
    UnitRef,
    _place,
    decide,
    nearest,
)
from citylead.units.service import lineage
from tenants.errors import InvalidInput, NotFound
from tenants.models import Tenant
from tenants.standards.layers import Effective
from tenants.standards.paths import Kind
from tenants.standards.resolver import Resolver
from tenants.standards.views import ClassRule, Manual, calendar_of
from tenants.standards.worktime import WorkCalendar

__all__ = ["POSTS", "Klass", "World", "load_world"]

# How many posts of each role a division has (generated names ``supervisor01@320102``); the demo
# user ``ROLE@CODE`` is added where the demo creates one (the pilot city's divisions).
POSTS = {Role.SUPERVISOR: 8, Role.INTAKE: 3, Role.SHIFT_LEAD: 2, Role.DISPATCHER: 2}
_DEMO_OPERATIONS_CITY = "320400"  # citylead.demo.PILOT_CITY: every operating role has a demo user


@dataclass(frozen=True)
class Klass:
    """A class the county offers (部件/事件 minor class or sub-item) with its rule."""

    kind: str
    code: str
    name: str
    maps_to: str | None
    rule: ClassRule
    urgencies: tuple[str, ...]  # the manual's levels this class has a limit for


@dataclass(frozen=True)
class _Object:
    ref: ObjectRef
    class_code: str
    lon: float
    lat: float
    removed: bool


@dataclass
class World:
    """A live county-level division, read once."""

    county: Tenant
    city: Tenant | None
    docs: dict[Kind, Effective]
    calendar: WorkCalendar
    index: CountyIndex
    boxes: list[tuple[float, float, float, float]]  # each grid's bounds (lon/lat)
    classes: list[Klass]
    units: dict[tuple[uuid.UUID, str], Unit]  # active units the county may dispatch to
    tenant_codes: dict[uuid.UUID, str]
    objects: list[_Object]
    posts: dict[Role, list[str]]
    sectors: dict[str, tuple[list[UnitRef], list[UnitRef]]] = field(default_factory=dict)
    territories: dict[str, UnitRef] = field(default_factory=dict)  # street → its territorial unit

    def __post_init__(self) -> None:
        self._classes = {(k.kind, k.code): k for k in self.classes}
        self._objects: dict[str, list[_Object]] = {}
        self._by_id = {o.ref.object_id: o for o in self.objects}
        for o in self.objects:
            self._objects.setdefault(o.class_code, []).append(o)
        self._last: tuple[float, float, Place | None] | None = None

    def klass(self, kind: str, code: str) -> Klass:
        return self._classes[(kind, code)]

    def place(self, lon: float, lat: float) -> Place | None:
        """The grid at the point, None outside the county (intake would refuse it). The last answer
        is kept: the planner places a report, then the simulation places the same point again."""
        last = self._last
        if last is not None and last[0] == lon and last[1] == lat:
            return last[2]
        found = self.index.grid_at(lon, lat) if self.index.inside(lon, lat) else None
        self._last = (lon, lat, found)
        return found

    def territory(self, street_code: str | None) -> UnitRef | None:
        return self.territories.get(street_code) if street_code else None

    def _object(self, code: str, lon: float, lat: float, component_id: str | None) -> ObjectRef | None:
        """routing._object over the snapshot: the given object, else the nearest of the class."""
        base = code.split("-", 1)[0]
        if component_id is not None:
            hit = self._by_id.get(component_id)
            if hit is None or hit.class_code != base:
                raise InvalidInput(f"unknown component {component_id}")
            return hit.ref
        dlat = math.degrees(30.0 / EARTH_RADIUS_M)
        dlon = dlat / max(math.cos(math.radians(lat)), 0.01)
        near = {
            o.ref.object_id: o
            for o in self._objects.get(base, ())
            if not o.removed and lon - dlon <= o.lon <= lon + dlon and lat - dlat <= o.lat <= lat + dlat
        }
        found = nearest([(k, o.lon, o.lat) for k, o in near.items()], lon, lat)
        return near[found].ref if found else None

    def suggest(
        self, klass: Klass, place: Place, lon: float, lat: float, component_id: str | None
    ) -> Suggestion:
        """What routing.suggest answers for this report (the same decision, the same candidates)."""
        responsible = klass.rule.responsible
        obj = None
        if component_id is not None or responsible in ("owner_first", "territory_first"):
            obj = self._object(klass.code, lon, lat, component_id)
        sectors: tuple[list[UnitRef], list[UnitRef]] = ([], [])
        if responsible.startswith("sector:"):
            sectors = self.sectors.get(responsible.removeprefix("sector:"), ([], []))
        candidates = Candidates(
            obj,
            self.territory(place.street_code),
            tuple(sectors[0]),
            tuple(sectors[1]),
            _place(place.street_code, place.grid_code, place.street_name),
        )
        return decide(klass.kind, klass.code, responsible, candidates)


def _classes(docs: dict[Kind, Effective]) -> list[Klass]:
    catalog, manual = docs[Kind.CATALOG], docs[Kind.MANUAL]
    levels = Manual.of(manual).levels
    out = []
    for path in sorted(catalog.values):
        parts = path.split("/")
        if len(parts) != 4 or parts[3] != "name" or len(parts[2]) == 2:
            continue
        kind, code = parts[1], parts[2]
        try:
            name, maps_to = class_of(catalog, kind, code)
            rule = rule_of(manual, kind, code, maps_to, next(iter(levels)))
        except (InvalidInput, NotFound):
            continue
        urgencies = tuple(level for level in levels if level in rule.limits)
        if urgencies:
            out.append(Klass(kind, code, name, maps_to, rule, urgencies))
    return out


def _posts(county: Tenant, city: Tenant | None) -> dict[Role, list[str]]:
    posts = {}
    for role, n in POSTS.items():
        names = [f"{role.value}{i:02d}@{county.code}" for i in range(1, n + 1)]
        if city is not None and city.code == _DEMO_OPERATIONS_CITY:
            names.insert(0, f"{role.value}@{county.code}")
        posts[role] = names
    return posts


async def load_world(session: AsyncSession, county: Tenant, *, resolver: Resolver, locator: Locator) -> World:
    """Read ``county`` (the session is in its context) for planning and building its history."""
    docs = await resolver.pin(session, county, PINNED)
    index = await locator.index(session, county)
    tenants = await lineage(session, county)  # the county first, then the tenants above
    city = next((t for t in tenants if t.depth == 2), None)
    ids = [t.id for t in tenants]
    units = {
        (u.tenant_id, u.code): u
        for u in await session.scalars(
            select(Unit).where(Unit.tenant_id.in_(ids), Unit.active.is_(True)).order_by(Unit.code)
        )
    }
    ordered = sorted(units.values(), key=lambda u: u.code)  # routing reads units in code order
    sectors: dict[str, tuple[list[UnitRef], list[UnitRef]]] = {}
    for name in sorted({u.sector for u in ordered if u.kind == UnitKind.SECTOR.value and u.sector}):
        for tid in ids:  # routing.suggest: the county's, else the nearest tenant above with one
            found = [
                UnitRef.of(u)
                for u in ordered
                if u.tenant_id == tid and u.kind == UnitKind.SECTOR.value and u.sector == name
            ]
            if found:
                sectors[name] = (found, []) if tid == county.id else ([], found)
                break
    territories: dict[str, UnitRef] = {}
    for u in ordered:
        if u.tenant_id == county.id and u.kind == UnitKind.TERRITORIAL.value and u.street_code:
            territories.setdefault(u.street_code, UnitRef.of(u))

    def ref(tenant_id: uuid.UUID | None, code: str | None) -> UnitRef | None:
        unit = units.get((tenant_id, code)) if tenant_id and code else None
        return UnitRef.of(unit) if unit else None

    objects = [
        _Object(
            ObjectRef(
                c.object_id,
                c.name,
                ref(c.maintainer_tenant_id, c.maintainer_unit),
                ref(c.owner_tenant_id, c.owner_unit),
            ),
            c.class_code,
            c.lon,
            c.lat,
            c.state == "removed",
        )
        for c in await session.scalars(
            select(Component).where(Component.tenant_id == county.id).order_by(Component.object_id)
        )
    ]
    grids = list(await session.scalars(select(Grid).where(Grid.tenant_id == county.id).order_by(Grid.code)))
    return World(
        county=county,
        city=city,
        docs=docs,
        calendar=calendar_of(docs[Kind.CALENDAR]),
        index=index,
        boxes=[to_shape(g.geometry).bounds for g in grids],
        classes=_classes(docs),
        units=units,
        tenant_codes={t.id: t.code for t in tenants},
        objects=objects,
        posts=_posts(county, city),
        sectors=sectors,
        territories=territories,
    )
