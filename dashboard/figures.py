"""Coverage figures (覆盖情况图表): pure functions from coverage data to plotly figures.

No database and no Dash here, so every figure is unit-tested on its data. The map is a ``geo``
choropleth drawn from the registry's boundaries (no tile server: it works offline), one trace per
status so that the legend carries the Chinese labels.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import plotly.graph_objects as go

from citylead.coverage import Rollup, TenantCoverage, VelocityMonth
from tenants.models import TenantStatus

__all__ = [
    "STATUS_COLOURS",
    "STATUS_ORDER",
    "GeoRef",
    "city_rows",
    "feature_collection",
    "level_bar",
    "status_map",
    "velocity_line",
]

STATUS_ORDER = (  # legend order
    TenantStatus.LIVE,
    TenantStatus.ONBOARDING,
    TenantStatus.REGISTERED,
    TenantStatus.SUSPENDED,
)
STATUS_COLOURS = {
    TenantStatus.LIVE: "#2e7d32",  # 已上线: green
    TenantStatus.ONBOARDING: "#f9a825",  # 接入中: amber
    TenantStatus.REGISTERED: "#bdbdbd",  # 在册: grey
    TenantStatus.SUSPENDED: "#c62828",  # 已停用: red
}
Geometry = Mapping[str, Any]


def _pct(share: float | None) -> float | None:
    return None if share is None else round(share * 100, 1)


@dataclass(frozen=True)
class GeoRef:
    """Boundaries the browser fetches itself: ``url`` answers a GeoJSON FeatureCollection holding
    (at least) the features of ``codes``, each with the division's code as its ``id``."""

    url: str
    codes: frozenset[str]


def feature_collection(
    divisions: Iterable[tuple[str, str]], boundaries: Mapping[str, Geometry]
) -> dict[str, Any]:
    """(code, name) of divisions with a boundary → a GeoJSON FeatureCollection (``id``: the code)."""
    return {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "id": code, "properties": {"name": name}, "geometry": boundaries[code]}
            for code, name in divisions
            if code in boundaries
        ],
    }


def status_map(
    divisions: Sequence[TenantCoverage], boundaries: Mapping[str, Geometry] | GeoRef
) -> dict[str, Any]:
    """Province (or city) map of the divisions coloured by status (分区上线状态图), as the figure's
    plotly JSON (``go.Figure(status_map(…))`` gives the object back).

    ``boundaries`` is either a :class:`GeoRef` (the page's way: every trace names the same URL,
    which plotly.js fetches once and the browser caches, so the answer carries only locations and
    colours) or a mapping of division code → GeoJSON geometry, put inline: each status trace then
    carries only its own divisions' features, added after plotly has built the figure, because
    ``go.Figure`` deep-copies a trace's data on every call. Divisions without a boundary are left
    off the map (they still appear in the table)."""
    known = boundaries.codes if isinstance(boundaries, GeoRef) else boundaries
    drawn = [d for d in divisions if d.code in known]
    fig = go.Figure()
    groups = []
    for status in STATUS_ORDER:
        group = [d for d in drawn if d.status is status]
        if not group:
            continue
        groups.append(group)
        colour = STATUS_COLOURS[status]
        fig.add_trace(
            go.Choropleth(
                featureidkey="id",
                locations=[d.code for d in group],
                z=[1] * len(group),
                text=[d.name for d in group],
                colorscale=[[0, colour], [1, colour]],
                showscale=False,
                showlegend=True,
                name=status.label,
                marker={"line": {"color": "#ffffff", "width": 0.5}},
                hovertemplate=f"%{{text}}（%{{location}}）<br>{status.label}<extra></extra>",
            )
        )
    # no base map: the registry's boundaries are the map. plotly.js still loads its base topojson
    # (world_110m) for geojson traces: the page points it at the dashboard's local, empty copy.
    fig.update_geos(
        fitbounds="locations", visible=False, projection_type="mercator", scope="world", resolution=110
    )
    fig.update_layout(margin={"l": 0, "r": 0, "t": 30, "b": 0}, legend_title_text="状态")
    out: dict[str, Any] = fig.to_plotly_json()
    for trace, group in zip(out["data"], groups, strict=True):
        if isinstance(boundaries, GeoRef):
            trace["geojson"] = boundaries.url
        else:  # this trace's divisions only
            trace["geojson"] = feature_collection(((d.code, d.name) for d in group), boundaries)
    return out


def level_bar(by_level: Sequence[Rollup]) -> go.Figure:
    """Live share by administrative level, in percent (分级上线率): 地级市, 市辖区, 县级市, 县."""
    values = [_pct(r.live_share) for r in by_level]
    fig = go.Figure(
        go.Bar(
            x=[r.name for r in by_level],
            y=[0.0 if v is None else v for v in values],
            text=["—" if v is None else f"{v:.1f} %" for v in values],
            customdata=[[r.live, r.total] for r in by_level],
            hovertemplate="%{x}: %{customdata[0]}/%{customdata[1]}<extra></extra>",
            marker_color=STATUS_COLOURS[TenantStatus.LIVE],
        )
    )
    fig.update_layout(title_text="分级上线率", yaxis={"range": [0, 100], "ticksuffix": " %"})
    return fig


def velocity_line(series: Sequence[VelocityMonth]) -> go.Figure:
    """Cumulative live divisions per month (覆盖速度), with the month's newcomers on hover."""
    fig = go.Figure(
        go.Scatter(
            x=[m.month for m in series],
            y=[m.cumulative for m in series],
            customdata=[m.went_live for m in series],
            mode="lines+markers",
            name="累计上线",
            hovertemplate="%{x}: 累计 %{y}，当月 +%{customdata}<extra></extra>",
            line_color=STATUS_COLOURS[TenantStatus.LIVE],
        )
    )
    fig.update_layout(
        title_text="覆盖速度（累计上线）", xaxis={"type": "category"}, yaxis={"rangemode": "tozero"}
    )
    return fig


def city_rows(by_city: Sequence[Rollup]) -> list[dict[str, Any]]:
    """One table row per city (分市统计), percentages rounded to 0.1 (None when undefined)."""
    return [
        {
            "code": r.code,
            "name": r.name,
            "total": r.total,
            "live": r.live,
            "onboarding": r.onboarding,
            "registered": r.registered,
            "suspended": r.suspended,
            "live_pct": _pct(r.live_share),
            "grid_pct": _pct(r.grid_share),
            "cases_30d": r.cases_30d,
            "supervisors_30d": r.supervisors_30d,
        }
        for r in by_city
    ]
