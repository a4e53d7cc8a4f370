"""The Coverage page (覆盖情况): status map, live share by level, velocity and the city table.

Ids follow ``coverage-<thing>``. The layout is static; everything scoped to the caller comes from
one callback, which reads through the injected ``CoverageReader`` as the authenticated principal.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import flask
import plotly.graph_objects as go
from dash import Dash, Input, Output, State, dcc, html

from citylead.spreadsheets import Column, Table
from dashboard._request import current_principal, run_on_server_loop
from dashboard.components import export_controls, html_table, register_export
from dashboard.data import CoverageReader, Place
from dashboard.figures import GeoRef, city_rows, feature_collection, level_bar, status_map, velocity_line

__all__ = ["TABLE_COLUMNS", "divisions_under", "layout", "register_callbacks"]

TABLE_COLUMNS = (
    Column("name", "城市"),
    Column("total", "县级区划"),
    Column("live", "已上线"),
    Column("onboarding", "接入中"),
    Column("registered", "在册"),
    Column("suspended", "已停用"),
    Column("live_pct", "上线率 %"),
    Column("grid_pct", "网格覆盖率 %"),
    Column("cases_30d", "近30天案件"),
    Column("supervisors_30d", "近30天监督员"),
)


def layout(*, topojson_url: str) -> html.Div:
    """``topojson_url``: where plotly.js finds its base topojson (local: no CDN, works offline)."""
    return html.Div(
        [
            html.H1("覆盖情况", id="coverage-title"),
            dcc.Dropdown(id="coverage-city", placeholder="全部城市", clearable=True),
            dcc.Graph(id="coverage-map", config={"topojsonURL": topojson_url}),
            html.Div(
                [
                    dcc.Graph(id="coverage-levels", style={"flex": "1", "minWidth": 0}),
                    dcc.Graph(id="coverage-velocity", style={"flex": "1", "minWidth": 0}),
                ],
                style={"display": "flex"},
            ),
            html.Table(id="coverage-cities", className="table"),
            export_controls("coverage-export"),
        ]
    )


def register_callbacks(
    app: Dash, reader: CoverageReader, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
) -> None:
    @app.callback(
        Output("coverage-title", "children"),
        Output("coverage-city", "options"),
        Output("coverage-map", "figure"),
        Output("coverage-levels", "figure"),
        Output("coverage-velocity", "figure"),
        Output("coverage-cities", "children"),
        Input("coverage-city", "value"),
    )
    def refresh(
        city: str | None,
    ) -> tuple[str, list[dict[str, str]], dict[str, Any], go.Figure, go.Figure, Any]:
        principal = current_principal()
        coverage = run_on_server_loop(reader.coverage(principal, now=clock(), city=city or None))
        codes = [d.code for d in coverage.divisions]
        stamps = run_on_server_loop(reader.boundary_stamps(principal, codes))
        url = f"{app.config.requests_pathname_prefix}boundaries/{coverage.code}.geojson?v={_version(stamps)}"
        options = [{"label": r.name, "value": r.code} for r in coverage.by_city]
        return (
            f"覆盖情况 · {coverage.name}",
            options,
            status_map(coverage.divisions, GeoRef(url, frozenset(stamps))),
            level_bar(coverage.by_level),
            velocity_line(coverage.velocity),
            html_table(TABLE_COLUMNS, city_rows(coverage.by_city)),
        )

    def export(city: str | None) -> tuple[Table, str]:
        coverage = run_on_server_loop(reader.coverage(current_principal(), now=clock(), city=city or None))
        rows = city_rows(coverage.by_city)
        return Table("覆盖情况分市统计", TABLE_COLUMNS, rows), f"覆盖情况-{coverage.code}"

    register_export(app, "coverage-export", [State("coverage-city", "value")], export)

    def boundaries(code: str) -> flask.Response:
        """The simplified boundaries of the divisions under ``code`` (the map's tenant) in the
        principal's subtree, as GeoJSON; 404 for a tenant outside it. The URL the map names carries
        a version of the rows (``?v=``), so the browser may keep the answer."""
        principal = current_principal()
        divisions = divisions_under(run_on_server_loop(reader.places(principal)), code)
        if divisions is None:
            return flask.Response("not found", status=404, mimetype="text/plain")
        found = run_on_server_loop(reader.boundaries(principal, [c for c, _ in divisions]))
        body = json.dumps(feature_collection(divisions, found), ensure_ascii=False, separators=(",", ":"))
        response = flask.Response(body, mimetype="application/geo+json")
        response.headers["Cache-Control"] = "private, max-age=31536000, immutable"
        return response

    app.server.add_url_rule("/boundaries/<code>.geojson", "coverage_boundaries", boundaries)


def divisions_under(places: Sequence[Place], code: str) -> list[tuple[str, str]] | None:
    """(code, name) of the county-level divisions at or below ``code`` among ``places`` (a tenant
    and its subtree, each with its parent's code); None when ``code`` is not among them."""
    if code not in {p.code for p in places}:
        return None
    children: dict[str | None, list[Place]] = defaultdict(list)
    for place in places:
        children[place.parent].append(place)
    out, todo = [], [p for p in places if p.code == code]
    while todo:
        place = todo.pop()
        if place.level.is_division:
            out.append((place.code, place.name))
        todo += children[place.code]
    return sorted(out)


def _version(stamps: Mapping[str, str]) -> str:
    """A short digest of the boundaries' row fingerprints: changes when any of them does."""
    text = "|".join(f"{code}={stamp}" for code, stamp in sorted(stamps.items()))
    return hashlib.sha256(text.encode()).hexdigest()[:16]
