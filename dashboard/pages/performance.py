"""The Performance page (绩效考核): rankings by composite or indicator, trends, drill-down and the
counters behind every score.

Ids follow ``performance-<thing>``; the breadcrumb's buttons and the table's rows use
pattern-matching ids ``{"type": "performance-crumb", "code": …}`` and
``{"type": "performance-row", "index": …}``. ``performance-scope`` holds the drill-down tenant
(None: the principal's own); every read goes through the reader as the authenticated principal,
so a drill-down outside the principal's subtree is NotFound like a missing tenant.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import plotly.graph_objects as go
from dash import ALL, Dash, Input, Output, State, ctx, dcc, html
from dash.exceptions import PreventUpdate

from citylead.assessment.export import assessment_table
from citylead.assessment.results import Result
from citylead.spreadsheets import Column, Table
from dashboard import figures_performance as fp
from dashboard._request import current_principal, run_on_server_loop
from dashboard.components import export_controls, html_table, register_export
from dashboard.data import PerformanceReader
from dashboard.periods import default_month, label, months_before, period_options
from tenants.errors import CityleadError
from tenants.models import TenantLevel
from tenants.standards.paths import INDICATORS

__all__ = [
    "DETAIL_COLUMNS",
    "RANK_COLUMNS",
    "child_type",
    "layout",
    "level_options",
    "own_type",
    "performance_table",
    "register_callbacks",
]

POSTS = ("supervisor", "intake", "shift_lead", "dispatcher")
RANK_COLUMNS = (
    Column("rank", "名次"),
    Column("name", "名称"),
    Column("code", "代码"),
    Column("value", "值"),
    Column("grade", "等级"),
)
DETAIL_COLUMNS = (
    Column("indicator", "指标"),
    Column("numerator", "分子"),
    Column("denominator", "分母"),
    Column("rate", "比率 %"),
    Column("score", "得分"),
    Column("weight", "权重"),
    Column("weight_used", "实际权重"),
)
COUNTER_COLUMNS = (Column("label", "计数"), Column("counter", "字段"), Column("value", "数值"))
PROVENANCE_COLUMNS = (Column("path", "规则项"), Column("source", "设定者与版本"))
MEASURES = [{"label": "综合得分", "value": fp.COMPOSITE}] + [
    {"label": zh, "value": name} for name, (zh, _) in INDICATORS.items()
]


def own_type(level: TenantLevel) -> str:
    """The subject type of a tenant's own row: province, city or county."""
    if level is TenantLevel.PROVINCE:
        return "province"
    return "city" if level is TenantLevel.PREFECTURE_CITY else "county"


def child_type(level: TenantLevel) -> str:
    """One level down the drill-down: province → city → county → department."""
    return {"province": "city", "city": "county", "county": "department"}[own_type(level)]


def level_options(level: TenantLevel) -> list[dict[str, str]]:
    """The subject types worth ranking below a tenant of ``level``, the next level down first."""
    below = {
        "province": ["city", "county", "department", "street", "grid"],
        "city": ["county", "department", "street", "grid"],
        "county": ["department", "street", "grid"],
    }[own_type(level)]
    return [{"label": fp.SUBJECT_LABELS[t], "value": t} for t in [*below, *POSTS]]


def layout() -> html.Div:
    wide = {"minWidth": "12em"}
    return html.Div(
        [
            html.H1("绩效考核", id="performance-title"),
            html.Nav(id="performance-breadcrumb", className="breadcrumb"),
            dcc.Store(id="performance-scope", data=None),
            dcc.Store(id="performance-places", data={}),
            dcc.Store(id="performance-rows", data=[]),
            html.Div(
                [
                    dcc.Dropdown(
                        id="performance-period", placeholder="考核周期", clearable=False, style=wide
                    ),
                    dcc.Dropdown(id="performance-level", placeholder="考核对象", clearable=False, style=wide),
                    dcc.Dropdown(
                        id="performance-measure",
                        options=MEASURES,
                        value=fp.COMPOSITE,
                        clearable=False,
                        style=wide,
                    ),
                    dcc.Dropdown(id="performance-drill", placeholder="下钻到…", clearable=True),
                ],
                style={"display": "flex", "gap": "0.5em"},
            ),
            html.P(id="performance-message", className="message"),
            dcc.Graph(id="performance-rank"),
            html.Table(id="performance-table", className="table selectable"),
            export_controls("performance-export"),
            html.Div(id="performance-detail"),
            dcc.Graph(id="performance-trend"),
        ]
    )


def _crumbs(places: dict[str, dict[str, Any]], own: str, scope: str) -> list[Any]:
    chain = [scope]
    while chain[-1] != own and places.get(chain[-1], {}).get("parent") in places:
        chain.append(places[chain[-1]]["parent"])
    buttons: list[Any] = []
    for code in reversed(chain):
        if buttons:
            buttons.append(" › ")
        buttons.append(
            html.Button(places[code]["name"], id={"type": "performance-crumb", "code": code}, n_clicks=0)
        )
    return buttons


def _names(places: dict[str, dict[str, Any]], results: Sequence[Result]) -> dict[str, str]:
    names = {code: p["name"] for code, p in places.items()}
    for r in results:
        if r.subject_type == "department" and ":" in r.subject_code:
            county, unit = r.subject_code.split(":", 1)
            names[r.subject_code] = f"{names.get(county, county)} {unit}"
    return names


def _key(r: Result) -> dict[str, Any]:
    """What ``performance-rows`` keeps of a ranked row: enough to read it again when clicked (the
    explanation is built then, not for every row of every ranking)."""
    return {**_identity(r), "grade": r.assessment.grade}


def _identity(r: Result) -> dict[str, str]:
    return {"period": r.period, "type": r.subject_type, "code": r.subject_code, "tenant": r.tenant}


def _explained(r: Result) -> dict[str, Any]:
    a = r.assessment
    return {
        "title": f"{r.subject_code}（{fp.SUBJECT_LABELS.get(r.subject_type, '')}，{label(r.period)}）",
        "composite": None if a.composite is None else float(a.composite_display() or 0),
        "grade": a.grade,
        "indicators": fp.indicator_rows(a),
        "counters": fp.counter_rows(a),
        "provenance": fp.provenance_rows(a),
        "computed_at": r.computed_at.isoformat(timespec="seconds"),
    }


def performance_table(results: Sequence[Result]) -> Table:
    """The export of the rows shown: every counter, rate and score (``assessment_table``)."""
    return assessment_table(results)


def _detail(item: dict[str, Any]) -> list[Any]:
    grade = item["grade"] or "不参评"
    return [
        html.H3(f"{item['title']} · 综合得分 {item['composite'] or '—'} · 等级 {grade}"),
        html.Table(html_table(DETAIL_COLUMNS, item["indicators"]), className="table"),
        html.Table(html_table(COUNTER_COLUMNS, item["counters"]), className="table"),
        html.Table(html_table(PROVENANCE_COLUMNS, item["provenance"]), className="table"),
        html.P(f"计算时间：{item['computed_at']}"),
    ]


def register_callbacks(
    app: Dash, reader: PerformanceReader, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
) -> None:
    @app.callback(
        Output("performance-title", "children"),
        Output("performance-breadcrumb", "children"),
        Output("performance-places", "data"),
        Output("performance-period", "options"),
        Output("performance-period", "value"),
        Output("performance-level", "options"),
        Output("performance-level", "value"),
        Output("performance-drill", "options"),
        Input("performance-scope", "data"),
        State("performance-period", "value"),
    )
    def scope_changed(scope: str | None, period: str | None) -> tuple[Any, ...]:
        principal = current_principal()
        found = run_on_server_loop(reader.places(principal))
        months = run_on_server_loop(reader.periods(principal))
        places = {p.code: {"name": p.name, "level": p.level.value, "parent": p.parent} for p in found}
        own = principal.tenant_code
        here = scope if scope in places else own
        if here not in places:
            raise PreventUpdate
        level = TenantLevel(str(places[here]["level"]))
        options = period_options(months)
        if period not in {o["value"] for o in options}:
            period = default_month(months, clock())
        children = [
            {"label": p.name, "value": p.code}
            for p in found
            if p.parent == here and p.level in (TenantLevel.PREFECTURE_CITY, *_DIVISIONS)
        ]
        return (
            f"绩效考核 · {places[here]['name']}",
            _crumbs(places, own, here),
            places,
            options,
            period,
            level_options(level),
            child_type(level),
            children,
        )

    @app.callback(
        Output("performance-rank", "figure"),
        Output("performance-table", "children"),
        Output("performance-rows", "data"),
        Output("performance-message", "children"),
        Input("performance-period", "value"),
        Input("performance-level", "value"),
        Input("performance-measure", "value"),
        State("performance-scope", "data"),
        State("performance-places", "data"),
    )
    def rank(
        period: str | None, level: str | None, measure: str | None, scope: str | None, places: dict[str, Any]
    ) -> tuple[go.Figure, Any, list[dict[str, Any]], str]:
        if not period or not level or not measure:
            return go.Figure(), [], [], "尚无考核数据"
        try:
            results = run_on_server_loop(
                reader.assessments(current_principal(), period=period, tenant=scope, subject_type=level)
            )
        except CityleadError as e:
            return go.Figure(), [], [], f"无法读取：{e}"
        ranked = fp.ranking(results, measure=measure, names=_names(places, results))
        by_code = {(r.subject_type, r.subject_code, r.tenant): r for r in results}
        title = f"{fp.SUBJECT_LABELS.get(level, level)}排名 · {fp.measure_label(measure)} · {label(period)}"
        rows = fp.rank_rows(ranked)
        table = html_table(RANK_COLUMNS, rows)
        body = table[1]
        body.children = [
            html.Tr(tr.children, id={"type": "performance-row", "index": i}, n_clicks=0)
            for i, tr in enumerate(body.children)
        ]
        keys = [_key(by_code[x.subject_type, x.code, x.tenant]) for x in ranked]
        message = "" if results else f"{label(period)}没有{fp.SUBJECT_LABELS.get(level, level)}的考核数据"
        return fp.rank_bar(ranked, measure=measure, title=title), table, keys, message

    @app.callback(
        Output("performance-detail", "children"),
        Input({"type": "performance-row", "index": ALL}, "n_clicks"),
        State("performance-rows", "data"),
        prevent_initial_call=True,
    )
    def detail(clicks: list[int | None], rows: list[dict[str, Any]]) -> list[Any]:
        picked = ctx.triggered_id
        if not isinstance(picked, dict) or not any(clicks) or picked["index"] >= len(rows):
            raise PreventUpdate
        key = rows[picked["index"]]
        if not all(isinstance(key.get(f), str) for f in ("period", "type", "code", "tenant")):
            raise PreventUpdate
        try:  # the clicked subject's own rows only: its tenant and subject type
            results = run_on_server_loop(
                reader.assessments(
                    current_principal(), period=key["period"], tenant=key["tenant"], subject_type=key["type"]
                )
            )
        except CityleadError as e:
            return [html.P(f"无法读取：{e}")]
        found = [r for r in results if _identity(r).items() <= key.items()]
        if not found:
            raise PreventUpdate
        return _detail(_explained(found[0]))

    @app.callback(
        Output("performance-scope", "data"),
        Output("performance-drill", "value"),
        Input("performance-rank", "clickData"),
        Input("performance-drill", "value"),
        Input({"type": "performance-crumb", "code": ALL}, "n_clicks"),
        State("performance-places", "data"),
        prevent_initial_call=True,
    )
    def drill(
        click: dict[str, Any] | None, chosen: str | None, crumbs: list[int | None], places: dict[str, Any]
    ) -> tuple[str | None, None]:
        trigger = ctx.triggered_id
        target: str | None = None
        if trigger == "performance-rank" and click:
            kind, code = click["points"][0]["customdata"]
            target = code if kind in ("city", "county") else None
        elif trigger == "performance-drill":
            target = chosen
        elif isinstance(trigger, dict) and ctx.triggered and ctx.triggered[0]["value"]:
            target = trigger["code"]
        if target is None or target not in places:
            raise PreventUpdate
        return target, None

    @app.callback(
        Output("performance-trend", "figure"),
        Input("performance-period", "value"),
        Input("performance-measure", "value"),
        State("performance-scope", "data"),
        State("performance-places", "data"),
    )
    def trend(
        period: str | None, measure: str | None, scope: str | None, places: dict[str, Any]
    ) -> go.Figure:
        principal = current_principal()
        here = scope or principal.tenant_code
        if not period or not measure or here not in places:
            return go.Figure()
        level = TenantLevel(str(places[here]["level"]))
        months = months_before(period)
        kinds = [own_type(level), child_type(level)]
        try:
            by_month = run_on_server_loop(
                reader.trend(principal, periods=months, tenant=scope, subject_types=kinds)
            )
        except CityleadError:
            return go.Figure()
        series = fp.trend_series(by_month, months, measure=measure, own=here, names=_names(places, []))
        title = f"近12个月趋势 · {fp.measure_label(measure)}"
        return fp.trend_lines(series, measure=measure, title=title)

    def export(period: str | None, level: str | None, scope: str | None) -> tuple[Table, str]:
        if not period or not level:
            raise PreventUpdate
        results = run_on_server_loop(
            reader.assessments(current_principal(), period=period, tenant=scope, subject_type=level)
        )
        return performance_table(results), f"绩效考核-{scope or current_principal().tenant_code}-{period}"

    register_export(
        app,
        "performance-export",
        [
            State("performance-period", "value"),
            State("performance-level", "value"),
            State("performance-scope", "data"),
        ],
        export,
    )


_DIVISIONS = (TenantLevel.MUNICIPAL_DISTRICT, TenantLevel.COUNTY_CITY, TenantLevel.COUNTY)
