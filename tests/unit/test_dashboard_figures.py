"""Dashboard figures: assert on the figure data (values, colours, labels), not on pixels."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import plotly.graph_objects as go

from citylead.coverage import TenantCoverage, rollup, rollup_by_city, rollup_by_level, velocity
from dashboard.figures import STATUS_COLOURS, GeoRef, city_rows, level_bar, status_map, velocity_line
from tenants.models import TenantLevel, TenantStatus

D, C, CITY = TenantLevel.MUNICIPAL_DISTRICT, TenantLevel.COUNTY, TenantLevel.PREFECTURE_CITY
LIVE, ONB, REG, SUS = (
    TenantStatus.LIVE,
    TenantStatus.ONBOARDING,
    TenantStatus.REGISTERED,
    TenantStatus.SUSPENDED,
)


def row(
    code: str,
    level: TenantLevel,
    status: TenantStatus,
    *,
    city: str = "990100",
    live_since: datetime | None = None,
    grid_m2: int = 0,
    cases: int = 0,
) -> TenantCoverage:
    return TenantCoverage(
        code=code,
        name=f"n{code}",
        level=level,
        status=status,
        live_since=live_since,
        area_km2=Decimal(100),
        city_code=code if level is CITY else city,
        city_name=f"n{code}" if level is CITY else f"n{city}",
        grid_m2=Decimal(grid_m2),
        cases_30d=cases,
    )


def square(x: float) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [[[x, 30], [x + 1, 30], [x + 1, 31], [x, 31], [x, 30]]]}


DIVISIONS = [
    row("990101", D, LIVE),
    row("990102", D, LIVE),
    row("990121", C, ONB),
    row("990122", C, REG),
    row("990123", C, SUS),
    row("990124", C, LIVE),  # no boundary: left off the map
]
BOUNDARIES = {d.code: square(i) for i, d in enumerate(DIVISIONS) if d.code != "990124"}


def test_map_has_one_trace_per_status_with_its_colour_and_label() -> None:
    fig = go.Figure(status_map(DIVISIONS, BOUNDARIES))
    traces = {t.name: t for t in fig.data}
    assert list(traces) == ["已上线", "接入中", "在册", "已停用"]
    assert list(traces["已上线"].locations) == ["990101", "990102"]
    assert list(traces["接入中"].locations) == ["990121"]
    assert list(traces["在册"].locations) == ["990122"]
    assert list(traces["已停用"].locations) == ["990123"]
    for status in (LIVE, ONB, REG, SUS):
        trace = traces[status.label]
        colour = STATUS_COLOURS[status]
        assert [tuple(c) for c in trace.colorscale] == [(0, colour), (1, colour)]
        assert trace.showscale is False
        assert trace.type == "choropleth"  # a geo trace: no tile server
    assert list(traces["已上线"].text) == ["n990101", "n990102"]


def test_map_geojson_features_and_geo_fit_bounds_without_base_map() -> None:
    fig = go.Figure(status_map(DIVISIONS, BOUNDARIES))
    ids = {t.name: [f["id"] for f in t.geojson["features"]] for t in fig.data}  # each trace its own
    assert ids == {
        "已上线": ["990101", "990102"],
        "接入中": ["990121"],
        "在册": ["990122"],
        "已停用": ["990123"],
    }
    assert fig.data[0].geojson["features"][0]["geometry"] == square(0)
    assert fig.data[2].geojson["features"][0]["geometry"] == square(3)
    assert fig.data[0].featureidkey == "id"
    assert fig.layout.geo.fitbounds == "locations"
    assert fig.layout.geo.visible is False
    assert (fig.layout.geo.scope, fig.layout.geo.resolution) == ("world", 110)  # world_110m.json
    assert "mapbox" not in fig.to_plotly_json()["layout"]
    assert "map" not in fig.to_plotly_json()["layout"]


def test_map_by_url_names_one_geojson_for_every_trace_and_draws_only_known_divisions() -> None:
    url = "/dashboard/boundaries/990000.geojson?v=1"
    out = status_map(DIVISIONS, GeoRef(url, frozenset(BOUNDARIES)))
    assert [t["geojson"] for t in out["data"]] == [url] * 4
    assert [list(t["locations"]) for t in out["data"]] == [
        ["990101", "990102"],
        ["990121"],
        ["990122"],
        ["990123"],
    ]
    assert "990124" not in str(out)  # no boundary: not on the map
    assert len(json.dumps(out)) < len(json.dumps(status_map(DIVISIONS, BOUNDARIES)))
    go.Figure(out)  # still a valid figure


def test_map_leaves_out_absent_statuses() -> None:
    fig = go.Figure(status_map([row("990101", D, LIVE)], {"990101": square(0)}))
    assert [t.name for t in fig.data] == ["已上线"]
    assert go.Figure(status_map([], {})).data == ()


def test_level_bar_shows_live_share_in_percent() -> None:
    city = row("990100", CITY, LIVE)
    fig = level_bar(rollup_by_level(DIVISIONS, [city]))
    (bar,) = fig.data
    assert list(bar.x) == ["地级市", "市辖区", "县"]
    assert list(bar.y) == [100.0, 100.0, 25.0]  # 县: 1 of 4 live
    assert list(bar.text) == ["100.0 %", "100.0 %", "25.0 %"]
    assert [list(c) for c in bar.customdata] == [[1, 1], [2, 2], [1, 4]]
    assert bar.marker.color == STATUS_COLOURS[LIVE]


def test_level_bar_with_an_empty_group_shows_a_dash() -> None:
    empty = rollup("county", "县", [])
    (bar,) = level_bar([empty]).data
    assert list(bar.y) == [0.0]
    assert list(bar.text) == ["—"]


def test_velocity_line_is_cumulative() -> None:
    jan, mar = datetime(2026, 1, 10, tzinfo=UTC), datetime(2026, 3, 5, tzinfo=UTC)
    series = velocity([jan, jan, mar, None], now=datetime(2026, 3, 31, tzinfo=UTC), months=3)
    fig = velocity_line(series)
    assert fig.layout.xaxis.type == "category"  # months are labels, not dates
    (line,) = fig.data
    assert list(line.x) == ["2026-01", "2026-02", "2026-03"]
    assert list(line.y) == [2, 2, 3]
    assert list(line.customdata) == [2, 0, 1]
    assert line.mode == "lines+markers"


def test_city_rows() -> None:
    divisions = [
        row("990101", D, LIVE, grid_m2=50_000_000, cases=7),
        row("990121", C, REG),
        row("990201", D, ONB, city="990200"),
    ]
    rows = city_rows(rollup_by_city(divisions))
    assert rows == [
        {
            "code": "990100",
            "name": "n990100",
            "total": 2,
            "live": 1,
            "onboarding": 0,
            "registered": 1,
            "suspended": 0,
            "live_pct": 50.0,
            "grid_pct": 25.0,  # 50 km² of 200 km²
            "cases_30d": 7,
            "supervisors_30d": 0,
        },
        {
            "code": "990200",
            "name": "n990200",
            "total": 1,
            "live": 0,
            "onboarding": 1,
            "registered": 0,
            "suspended": 0,
            "live_pct": 0.0,
            "grid_pct": 0.0,
            "cases_30d": 0,
            "supervisors_30d": 0,
        },
    ]
