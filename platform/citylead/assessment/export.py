"""Assessment results as a table for people (考核结果导出): one row per subject, the counters behind
each score, each indicator's rate and score, the composite, the grade and the rules' version.

:func:`assessment_table` is pure; the API, ``citylead assess export`` and the dashboard's export
buttons write its table with :mod:`citylead.spreadsheets` (CSV or XLSX).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from citylead.assessment._numbers import rounded
from citylead.assessment.counters import COUNTER_LABELS
from citylead.assessment.results import Result
from citylead.spreadsheets import Column, Table
from tenants.standards.paths import INDICATORS
from tenants.standards.resolver import format_vector

__all__ = ["NOT_ASSESSED", "SUBJECT_LABELS", "assessment_table", "export_filename"]

SUBJECT_LABELS = {
    "province": "省",
    "city": "市",
    "county": "区县",
    "street": "街道",
    "grid": "网格",
    "department": "专业部门",
    "supervisor": "监督员",
    "intake": "受理员",
    "shift_lead": "值班长",
    "dispatcher": "派遣员",
}
NOT_ASSESSED = "不参评"
_HEAD = (
    Column("tenant", "单位代码"),
    Column("tenant_name", "单位"),
    Column("subject_type", "考核类型"),
    Column("subject_code", "考核对象"),
    Column("period", "周期"),
)
_TAIL = (Column("composite", "综合得分"), Column("grade", "等级"), Column("rules", "规则版本"))


def assessment_table(results: Sequence[Result]) -> Table:
    """The results as a :class:`~citylead.spreadsheets.Table` with Chinese headers. Indicators get
    two columns (``处置率(%)``, ``处置率得分``; 工作量 its score only, its count is a counter) when
    some result's scheme has them; a cell is empty
    where a subject has no value (不参评 on that indicator). Percents and scores are rounded half
    up to 2 places, like the API's."""
    shown = [i for i in INDICATORS if any(i in r.assessment.rates for r in results)]
    columns = [
        *_HEAD,
        *(Column(name, label) for name, label in COUNTER_LABELS.items()),
        *(column for i in shown for column in _indicator_columns(i)),
        *_TAIL,
    ]
    return Table("考核结果", columns, [_row(r) for r in results])


def _indicator_columns(name: str) -> tuple[Column, ...]:
    label = INDICATORS[name][0]
    score = Column(f"{name}=", f"{label}得分")
    # volume is a count (the 工作量 counter), not a rate: its score only
    return (score,) if name == "volume" else (Column(f"{name}%", f"{label}(%)"), score)


def _row(r: Result) -> dict[str, Any]:
    a = r.assessment
    row: dict[str, Any] = {
        "tenant": r.tenant,
        "tenant_name": r.tenant_name,
        "subject_type": SUBJECT_LABELS.get(r.subject_type, r.subject_type),
        "subject_code": r.subject_code,
        "period": r.period,
        **a.counters.as_dict(),
        "composite": a.composite_display(),
        "grade": a.grade or NOT_ASSESSED,
        "rules": format_vector(a.vector),
    }
    for i, rate in a.rates.items():
        if rate is not None and i != "volume":
            row[f"{i}%"] = rate.percent()
        points = a.scores.get(i)
        if points is not None:
            row[f"{i}="] = rounded(points)
    return row


def export_filename(code: str, period: str, fmt: str) -> str:
    """``考核结果_341800_2026-10.xlsx``."""
    return f"考核结果_{code}_{period}.{fmt}"
