"""Case figures (案件情况图表): pure functions from case statistics to figures and table rows.

No database and no Dash here. Volumes come from ``citylead.cases.stats`` (the monthly roll-up),
lights and the overdue list from the cases whose clock runs.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

import plotly.graph_objects as go

from citylead.cases.stats import KIND_LABELS, LIGHT_LABELS, ClassVolume, CountyLights, GridVolume, OverdueCase

__all__ = [
    "LIGHT_COLOURS",
    "SHOWN_CLASSES",
    "STEP_LABELS",
    "class_bar",
    "class_rest",
    "class_rows",
    "grid_bar",
    "grid_rows",
    "lights_bar",
    "lights_rows",
    "overdue_rows",
]

SH = ZoneInfo("Asia/Shanghai")
KIND_COLOURS = {"component": "#6a1b9a", "matter": "#1565c0"}
LIGHT_COLOURS = {"green": "#2e7d32", "yellow": "#f9a825", "red": "#c62828", "paused": "#9e9e9e"}
STEP_LABELS = {"verify": "核实", "dispose": "处置", "check": "核查"}
SHOWN_CLASSES = 30  # the class table on screen; the export keeps every 小类


def _pct(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(part * 100 / whole, 1)


def class_bar(volumes: Sequence[ClassVolume]) -> go.Figure:
    """Cases by 大类, one trace per kind (部件, 事件), each kind's majors most first."""
    totals: dict[tuple[str, str, str], int] = defaultdict(int)
    for v in volumes:
        totals[v.kind, v.major_code, v.major_name] += v.cases
    fig = go.Figure()
    for kind in ("component", "matter"):
        mine = sorted(((k, n) for k, n in totals.items() if k[0] == kind), key=lambda x: (-x[1], x[0][1]))
        if not mine:
            continue
        fig.add_trace(
            go.Bar(
                x=[n for _, n in mine],
                y=[f"{KIND_LABELS[kind]}·{name}" for (_, _, name), _ in mine],
                customdata=[code for (_, code, _), _ in mine],
                orientation="h",
                name=KIND_LABELS[kind],
                marker_color=KIND_COLOURS[kind],
                hovertemplate="%{y}（%{customdata}）: %{x} 件<extra></extra>",
            )
        )
    fig.update_layout(
        title_text="案件量（按大类）",
        yaxis={"autorange": "reversed", "type": "category"},
        legend_title_text="类型",
        margin={"l": 160, "r": 20, "t": 50, "b": 40},
    )
    return fig


def class_rows(volumes: Sequence[ClassVolume]) -> list[dict[str, Any]]:
    """One row per 小类 (most first), with its share of all cases in percent."""
    whole = sum(v.cases for v in volumes)
    return [
        {
            "kind": KIND_LABELS.get(v.kind, v.kind),
            "major": v.major_name,
            "code": v.class_code,
            "name": v.class_name,
            "cases": v.cases,
            "share": _pct(v.cases, whole),
        }
        for v in volumes
    ]


def class_rest(rows: Sequence[dict[str, Any]], shown: int = SHOWN_CLASSES) -> str | None:
    """The line under a class table cut to its first ``shown`` rows: how many 小类 and cases the
    export has besides (None when nothing is cut)."""
    rest = rows[shown:]
    if not rest:
        return None
    return f"另有 {len(rest)} 个小类，共 {sum(r['cases'] for r in rest)} 件，见导出"


def grid_bar(grids: Sequence[GridVolume]) -> go.Figure:
    """The busiest grids, most first (a grid code is unique province-wide)."""
    fig = go.Figure(
        go.Bar(
            x=[g.grid_code or "网格外" for g in grids],
            y=[g.cases for g in grids],
            customdata=[g.county_name for g in grids],
            hovertemplate="%{customdata} %{x}: %{y} 件<extra></extra>",
            marker_color=KIND_COLOURS["matter"],
        )
    )
    fig.update_layout(title_text="案件量（按网格，前 20）", xaxis={"type": "category"})
    return fig


def grid_rows(grids: Sequence[GridVolume]) -> list[dict[str, Any]]:
    return [{"county": g.county_name, "grid": g.grid_code or "网格外", "cases": g.cases} for g in grids]


def lights_bar(lights: Sequence[CountyLights]) -> go.Figure:
    """Stacked bars by county: the open cases with a clock by light, now."""
    fig = go.Figure()
    for light in ("green", "yellow", "red", "paused"):
        fig.add_trace(
            go.Bar(
                x=[c.name for c in lights],
                y=[getattr(c, light) for c in lights],
                name=LIGHT_LABELS[light],
                marker_color=LIGHT_COLOURS[light],
            )
        )
    fig.update_layout(
        title_text="当前计时灯（按区县）",
        barmode="stack",
        xaxis={"type": "category"},
        legend_title_text="计时灯",
    )
    return fig


def lights_rows(lights: Sequence[CountyLights]) -> list[dict[str, Any]]:
    return [
        {
            "county": c.name,
            "green": c.green,
            "yellow": c.yellow,
            "red": c.red,
            "paused": c.paused,
            "total": c.total,
        }
        for c in lights
    ]


def overdue_rows(cases: Sequence[OverdueCase]) -> list[dict[str, Any]]:
    """The overdue list as shown: deadlines in Beijing time, place = address or grid."""
    return [
        {
            "number": c.number,
            "county": c.county_name,
            "kind": KIND_LABELS.get(c.kind, c.kind),
            "class_name": c.class_name,
            "place": c.address or c.grid_code or "—",
            "step": STEP_LABELS.get(c.step or "", c.step or "—"),
            "unit": c.unit_name or "—",
            "due_at": c.due_at.astimezone(SH).strftime("%Y-%m-%d %H:%M"),
            "hours_overdue": c.hours_overdue,
        }
        for c in cases
    ]
