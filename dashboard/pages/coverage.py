"""The Coverage page (覆盖情况): status map, live share by level, velocity and the city table.

Ids follow ``coverage-<thing>``. The layout is static; everything scoped to the caller comes from
one callback, which reads through the injected ``CoverageReader`` as the authenticated principal.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import plotly.graph_objects as go
from dash import Dash, Input, Output, State, dcc, html

from citylead.spreadsheets import Column, Table
from dashboard._request import current_principal, run_on_server_loop
from dashboard.components import export_controls, html_table, register_export
from dashboard.data import CoverageReader
from dashboard.figures import city_rows, level_bar, status_map, velocity_line

__all__ = ["TABLE_COLUMNS", "layout", "register_callbacks"]

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
        boundaries = run_on_server_loop(reader.boundaries(principal, codes))
        options = [{"label": r.name, "value": r.code} for r in coverage.by_city]
        return (
            f"覆盖情况 · {coverage.name}",
            options,
            status_map(coverage.divisions, boundaries),
            level_bar(coverage.by_level),
            velocity_line(coverage.velocity),
            html_table(TABLE_COLUMNS, city_rows(coverage.by_city)),
        )

    def export(city: str | None) -> tuple[Table, str]:
        coverage = run_on_server_loop(reader.coverage(current_principal(), now=clock(), city=city or None))
        rows = city_rows(coverage.by_city)
        return Table("覆盖情况分市统计", TABLE_COLUMNS, rows), f"覆盖情况-{coverage.code}"

    register_export(app, "coverage-export", [State("coverage-city", "value")], export)
