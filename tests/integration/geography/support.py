"""Helpers for geography tests: small collections and squares measured in metres."""

from __future__ import annotations

import copy
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry

from citylead.geography._geo import Projection, county_shape, to_geojson
from tenants.models import Tenant

Collection = dict[str, Any]


def feature(
    layer: str, code: Any, name: str | None = None, geometry: Any = None, **props: Any
) -> dict[str, Any]:
    properties = {"layer": layer, "code": code, **props}
    if name is not None:
        properties["name"] = name
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def collection(*features: dict[str, Any]) -> Collection:
    return {"type": "FeatureCollection", "features": list(features)}


class Frame:
    """Squares and points placed in metres from a county's representative point."""

    def __init__(self, county: Tenant) -> None:
        assert county.boundary is not None
        self.county = county_shape(county.boundary)
        centre = self.county.representative_point()
        self.proj = Projection(centre.x, centre.y)
        self.metres = self.proj.to_metres(self.county)

    def square(self, x: float, y: float, size: float = 400.0) -> dict[str, Any]:
        """A GeoJSON square with its south-west corner ``(x, y)`` metres from the centre."""
        return self.geojson(shapely.box(x, y, x + size, y + size))

    def geojson(self, metres: BaseGeometry) -> dict[str, Any]:
        return to_geojson(self.proj.to_lonlat(metres))

    def lonlat(self, x: float, y: float) -> tuple[float, float]:
        point = self.proj.to_lonlat(shapely.Point(x, y))
        return point.x, point.y

    def vertex(self) -> shapely.Point:
        """The first vertex of the county boundary, in metres."""
        return shapely.Point(shapely.get_coordinates(self.metres.boundary)[0])

    def outside(self, metres: float = 2_000) -> tuple[float, float]:
        """A point (in metres) about ``metres`` beyond the boundary, off its first vertex."""
        ring = self.metres.buffer(metres).exterior
        point = ring.interpolate(ring.project(self.vertex()))
        assert not self.metres.buffer(metres / 2).contains(point)
        return point.x, point.y


def small(county: Tenant, frame: Frame, *grids: tuple[str, dict[str, Any]]) -> Collection:
    """One street (001), one community (001001) and the given grids (code, geometry)."""
    street, community = f"{county.code}001", f"{county.code}001001"
    return collection(
        feature("street", street, "测试街道"),
        feature("community", community, "测试社区", street_code=street),
        *(feature("grid", code, None, geometry) for code, geometry in grids),
    )


def copied(doc: Collection) -> Collection:
    return copy.deepcopy(doc)
