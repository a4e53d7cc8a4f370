"""The Cases page (案件情况): volume by class and by grid for a period, today's timer lights by
county and the overdue list, for the principal's tenant or a city or county below it.

Ids follow ``cases-<thing>``. Volumes read the monthly roll-up; lights and the overdue list read
the cases whose clock runs, refreshed every minute (``cases-clock``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import plotly.graph_objects as go
from dash import Dash, Input, Output, State, dcc, html
from dash.exceptions import PreventUpdate

from citylead.cases.stats import LIGHT_LABELS
from citylead.spreadsheets import Column, Table
from dashboard import figures_cases as fc
from dashboard._request import current_principal, run_on_server_loop
from dashboard.components import export_controls, html_table, register_export
from dashboard.data import CasesReader
from dashboard.periods import label, period_days, recent_months
from tenants.errors import CityleadError
from tenants.models import TenantLevel

__all__ = [
    "CLASS_COLUMNS",
    "LIGHT_COLUMNS",
    "OVERDUE_COLUMNS",
    "layout",
    "period_choices",
    "register_callbacks",
]

CLASS_COLUMNS = (
    Column("kind", "类型"),
    Column("major", "大类"),
    Column("code", "小类代码"),
    Column("name", "小类"),
    Column("cases", "案件数"),
    Column("share", "占比 %"),
)
LIGHT_COLUMNS = (
    Column("county", "区县"),
    *(Column(light, label) for light, label in LIGHT_LABELS.items()),
    Column("total", "合计"),
)
OVERDUE_COLUMNS = (
    Column("number", "案卷号"),
    Column("county", "区县"),
    Column("kind", "类型"),
    Column("class_name", "小类"),
    Column("place", "位置"),
    Column("step", "环节"),
    Column("unit", "责任单位"),
    Column("due_at", "期限（北京时间）"),
    Column("hours_overdue", "超期小时"),
)
REFRESH_MS = 60_000


def period_choices(now: datetime) -> list[dict[str, str]]:
    """The last 12 months (newest first), then this quarter and this year."""
    months = recent_months(now)
    current = months[0]
    quarter = f"{current[:4]}Q{(int(current[5:]) - 1) // 3 + 1}"
    return [{"label": label(p), "value": p} for p in [*months, quarter, current[:4]]]


def layout() -> html.Div:
    return html.Div(
        [
            html.H1("案件情况", id="cases-title"),
            html.Div(
                [
                    dcc.Dropdown(id="cases-period", clearable=False, style={"minWidth": "12em"}),
                    dcc.Dropdown(id="cases-tenant", placeholder="全部（本级及下级）", clearable=True),
                ],
                style={"display": "flex", "gap": "0.5em"},
            ),
            dcc.Interval(id="cases-clock", interval=REFRESH_MS),
            html.P(id="cases-message", className="message"),
            html.Div(
                [
                    dcc.Graph(id="cases-classes", style={"flex": "1", "minWidth": 0}),
                    dcc.Graph(id="cases-grids", style={"flex": "1", "minWidth": 0}),
                ],
                style={"display": "flex"},
            ),
            html.Table(id="cases-class-table", className="table"),
            export_controls("cases-class-export"),
            dcc.Graph(id="cases-lights"),
            html.Table(id="cases-lights-table", className="table"),
            export_controls("cases-lights-export"),
            html.H2("超期案件（最早到期在前，前 50 件）"),
            html.Table(id="cases-overdue", className="table"),
            export_controls("cases-overdue-export"),
        ]
    )


def register_callbacks(
    app: Dash, reader: CasesReader, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
) -> None:
    @app.callback(
        Output("cases-title", "children"),
        Output("cases-period", "options"),
        Output("cases-period", "value"),
        Output("cases-tenant", "options"),
        Input("cases-tenant", "id"),
    )
    def choices(_: str) -> tuple[Any, ...]:
        principal = current_principal()
        places = run_on_server_loop(reader.places(principal))
        options = period_choices(clock())
        own = next((p.name for p in places if p.code == principal.tenant_code), principal.tenant_code)
        below = [
            {"label": f"{p.name}（{p.level.label}）", "value": p.code}
            for p in places
            if p.code != principal.tenant_code and p.level is not TenantLevel.PROVINCE
        ]
        return f"案件情况 · {own}", options, options[0]["value"], below

    def volume_of(period: str, tenant: str | None) -> Any:
        since, until = period_days(period)
        return run_on_server_loop(
            reader.case_volume(current_principal(), since=since, until=until, tenant=tenant)
        )

    @app.callback(
        Output("cases-classes", "figure"),
        Output("cases-grids", "figure"),
        Output("cases-class-table", "children"),
        Output("cases-message", "children"),
        Input("cases-period", "value"),
        Input("cases-tenant", "value"),
    )
    def volume(period: str | None, tenant: str | None) -> tuple[go.Figure, go.Figure, Any, str]:
        if not period:
            raise PreventUpdate
        try:
            found = volume_of(period, tenant)
        except CityleadError as e:
            return go.Figure(), go.Figure(), [], f"无法读取：{e}"
        total = sum(v.cases for v in found.by_class)
        rows = fc.class_rows(found.by_class)
        message = f"{label(period)}共 {total} 件（按上报日，北京时间）"
        return (
            fc.class_bar(found.by_class),
            fc.grid_bar(found.by_grid),
            html_table(CLASS_COLUMNS, rows[: fc.SHOWN_CLASSES], footer=fc.class_rest(rows)),  # export: all
            message,
        )

    @app.callback(
        Output("cases-lights", "figure"),
        Output("cases-lights-table", "children"),
        Output("cases-overdue", "children"),
        Input("cases-tenant", "value"),
        Input("cases-clock", "n_intervals"),
    )
    def clocks(tenant: str | None, _: int | None) -> tuple[go.Figure, Any, Any]:
        try:
            found = run_on_server_loop(reader.case_clocks(current_principal(), now=clock(), tenant=tenant))
        except CityleadError:
            return go.Figure(), [], []
        return (
            fc.lights_bar(found.lights),
            html_table(LIGHT_COLUMNS, fc.lights_rows(found.lights)),
            html_table(OVERDUE_COLUMNS, fc.overdue_rows(found.overdue)),
        )

    def class_export(period: str | None, tenant: str | None) -> tuple[Table, str]:
        if not period:
            raise PreventUpdate
        rows = fc.class_rows(volume_of(period, tenant).by_class)
        return Table(
            "案件量按类别", CLASS_COLUMNS, rows
        ), f"案件量-{tenant or current_principal().tenant_code}-{period}"

    def clocks_export(tenant: str | None, which: str) -> tuple[Table, str]:
        found = run_on_server_loop(reader.case_clocks(current_principal(), now=clock(), tenant=tenant))
        place = tenant or current_principal().tenant_code
        if which == "lights":
            return Table("计时灯", LIGHT_COLUMNS, fc.lights_rows(found.lights)), f"计时灯-{place}"
        return Table("超期案件", OVERDUE_COLUMNS, fc.overdue_rows(found.overdue)), f"超期案件-{place}"

    period_tenant = [State("cases-period", "value"), State("cases-tenant", "value")]
    register_export(app, "cases-class-export", period_tenant, class_export)
    register_export(
        app, "cases-lights-export", [State("cases-tenant", "value")], lambda t: clocks_export(t, "lights")
    )
    register_export(
        app, "cases-overdue-export", [State("cases-tenant", "value")], lambda t: clocks_export(t, "overdue")
    )
