"""Performance figures (绩效考核图表): pure functions from scored assessments to figures and rows.

No database and no Dash here. A measure is ``composite`` (综合得分) or an indicator name: the
ranking orders subjects by the measure's **score** (higher is better, also for 返工率 …), shows
the composite or the indicator's rate in percent, and puts subjects not assessed (不参评) last.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import plotly.graph_objects as go

from citylead.assessment.counters import COUNTER_LABELS
from citylead.assessment.export import SUBJECT_LABELS as EXPORT_LABELS
from citylead.assessment.results import Result
from citylead.assessment.scores import Assessment
from tenants.standards.layers import Source
from tenants.standards.paths import INDICATORS
from tenants.standards.resolver import format_vector

__all__ = [
    "COMPOSITE",
    "COUNTER_LABELS",
    "GRADE_COLOURS",
    "SUBJECT_LABELS",
    "Ranked",
    "counter_rows",
    "indicator_rows",
    "measure_label",
    "measure_value",
    "provenance_rows",
    "rank_bar",
    "rank_rows",
    "ranking",
    "trend_lines",
    "trend_series",
]

COMPOSITE = "composite"
SUBJECT_LABELS = {**EXPORT_LABELS, "city": "城市"}  # 城市 reads better than 市 in a dropdown
GRADE_COLOURS = {
    "A": "#2e7d32",
    "B": "#7cb342",
    "C": "#f9a825",
    "D": "#ef6c00",
    "E": "#c62828",
    None: "#bdbdbd",  # 不参评
}


def _f(value: Fraction | None, places: int = 2) -> float | None:
    return None if value is None else round(float(value), places)


def measure_label(measure: str) -> str:
    return "综合得分" if measure == COMPOSITE else INDICATORS[measure][0]


def measure_value(a: Assessment, measure: str) -> tuple[float | None, float | None]:
    """(shown value, score) of ``measure``: the composite twice, or an indicator's rate in percent
    and its score; (None, None) when not assessed or the indicator is not in the scheme."""
    if measure == COMPOSITE:
        shown = a.composite_display()
        return (None, None) if shown is None else (float(shown), _f(a.composite, 6))
    rate = a.rates.get(measure)
    if rate is None:
        return None, None
    return float(rate.percent()), _f(a.scores.get(measure), 6)


@dataclass(frozen=True)
class Ranked:
    rank: int | None  # 1 = best; None: not assessed
    tenant: str  # the county whose cases were counted (the city or province for its own row)
    subject_type: str
    code: str
    name: str
    value: float | None
    score: float | None
    grade: str | None


def ranking(results: Sequence[Result], *, measure: str, names: Mapping[str, str]) -> list[Ranked]:
    """Subjects best first by the measure's score (ties share a rank, then code order); those
    without a value last, unranked. ``names`` maps subject codes to display names."""
    scored = []
    for r in results:
        value, score = measure_value(r.assessment, measure)
        scored.append((r, value, score))
    scored.sort(key=lambda x: (x[2] is None, -(x[2] or 0), x[0].subject_code))
    out: list[Ranked] = []
    for i, (r, value, score) in enumerate(scored):
        rank = None
        if score is not None:
            rank = out[-1].rank if out and out[-1].score == score else i + 1
        grade = r.assessment.grade if measure == COMPOSITE else None
        name = names.get(r.subject_code, r.subject_code)
        out.append(Ranked(rank, r.tenant, r.subject_type, r.subject_code, name, value, score, grade))
    return out


def rank_bar(rows: Sequence[Ranked], *, measure: str, title: str) -> go.Figure:
    """Horizontal bars, best on top, coloured by grade (the composite) or one colour (an
    indicator); ``customdata`` carries ``[subject_type, code]`` for drill-down on click."""
    shown = [r for r in rows if r.value is not None]
    colours = [GRADE_COLOURS[r.grade] for r in shown] if measure == COMPOSITE else "#1565c0"
    suffix = "" if measure == COMPOSITE else " %"
    fig = go.Figure(
        go.Bar(
            x=[r.value for r in shown],
            y=[r.name for r in shown],
            orientation="h",
            text=[f"{r.value:.2f}{suffix}" + (f" {r.grade}" if r.grade else "") for r in shown],
            customdata=[[r.subject_type, r.code] for r in shown],
            marker_color=colours,
            hovertemplate="%{y}: %{text}<extra></extra>",
            name=measure_label(measure),
        )
    )
    fig.update_layout(
        title_text=title,
        yaxis={"autorange": "reversed", "type": "category"},
        xaxis={"range": [0, 100], "ticksuffix": suffix},
        height=max(300, 28 * len(shown) + 120),
        margin={"l": 140, "r": 20, "t": 50, "b": 40},
    )
    return fig


def rank_rows(rows: Sequence[Ranked]) -> list[dict[str, Any]]:
    """The ranking as table rows (名次, 名称, 值, 等级); ``—`` where not assessed. Values are shown
    with two decimals, as on the bars (``87.60``, not ``87.6``)."""
    return [
        {
            "rank": "—" if r.rank is None else r.rank,
            "name": r.name,
            "code": r.code,
            "subject_type": r.subject_type,
            "tenant": r.tenant,
            "value": "—" if r.value is None else f"{r.value:.2f}",
            "grade": r.grade or ("不参评" if r.value is None else ""),
        }
        for r in rows
    ]


def trend_lines(
    series: Mapping[str, Sequence[tuple[str, float | None]]], *, measure: str, title: str
) -> go.Figure:
    """One line per subject over the periods (gaps where there is no value)."""
    fig = go.Figure()
    for name, points in series.items():
        fig.add_trace(
            go.Scatter(
                x=[p for p, _ in points],
                y=[v for _, v in points],
                mode="lines+markers",
                name=name,
                connectgaps=False,
            )
        )
    suffix = "" if measure == COMPOSITE else " %"
    fig.update_layout(
        title_text=title,
        xaxis={"type": "category"},
        yaxis={"range": [0, 100], "ticksuffix": suffix},
        legend_title_text="对象",
    )
    return fig


def indicator_rows(a: Assessment) -> list[dict[str, Any]]:
    """Each indicator of the scheme: 分子/分母 with the counters behind them, 比率, 得分, 权重."""
    rows = []
    for name, weight in a.weights.items():
        rate = a.rates.get(name)
        rows.append(
            {
                "indicator": INDICATORS[name][0],
                "numerator": "—" if rate is None else f"{rate.numerator}（{rate.numerator_of}）",
                "denominator": "—"
                if rate is None
                else f"{rate.denominator}（{rate.denominator_of or '计数'}）",
                "rate": "—" if rate is None else float(rate.percent()),
                "score": "—" if a.scores.get(name) is None else _f(a.scores[name]),
                "weight": _f(weight),
                "weight_used": _f(a.weights_used.get(name)),
            }
        )
    return rows


def counter_rows(a: Assessment) -> list[dict[str, Any]]:
    """Every counter (计数) with its Chinese name, in the order of ``Counters``."""
    return [
        {"counter": key, "label": COUNTER_LABELS.get(key, key), "value": value}
        for key, value in a.counters.as_dict().items()
    ]


def provenance_rows(a: Assessment) -> list[dict[str, str]]:
    """The rules behind the score: every path read and the tenant version that set it."""

    def by(source: Source) -> str:
        return f"{source.code} v{source.version}"

    return [{"path": "规则版本", "source": format_vector(a.vector)}] + [
        {"path": path, "source": by(source)} for path, source in sorted(a.provenance.items())
    ]


def trend_series(
    by_month: Mapping[str, Sequence[Result]],
    months: Sequence[str],
    *,
    measure: str,
    own: str,
    names: Mapping[str, str],
    lines: int = 10,
) -> dict[str, list[tuple[str, float | None]]]:
    """One series per subject: the scope's own row first, then its best children (by the last
    month's score), each with a value or None for every month."""
    values: dict[str, dict[str, float | None]] = {}
    last_score: dict[str, float] = {}
    for month in months:
        for r in by_month.get(month, []):
            value, score = measure_value(r.assessment, measure)
            values.setdefault(r.subject_code, {})[month] = value
            if month == months[-1] and score is not None:
                last_score[r.subject_code] = score
    children = sorted((c for c in values if c != own), key=lambda c: (-last_score.get(c, -1), c))[:lines]
    ordered = ([own] if own in values else []) + children
    return {names.get(c, c): [(m, values[c].get(m)) for m in months] for c in ordered}
