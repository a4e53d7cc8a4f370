"""The pure parts of the assessment's delivery: the export table (``assessment_table``) and the
periods a scheduled refresh recounts (``periods_due``)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from citylead.assessment import Counters, assess
from citylead.assessment.export import assessment_table, export_filename
from citylead.assessment.results import Result
from citylead.assessment.schedule import LATE_DAYS, periods_due
from citylead.spreadsheets import to_csv
from tenants.standards.baseline import assessment_layer
from tenants.standards.layers import Layer, Source, fold
from tenants.standards.paths import Kind

RULES = fold(Kind.ASSESSMENT, [Layer(Source("340000", 1), assessment_layer())])
NOW = datetime(2026, 11, 3, tzinfo=UTC)
# 处置率 2/3 → 66.67 %, 按期 1/3, 返工 0/3, 超期 1/3, 延期 0/3
REGION = Counters(due_for_disposal=3, disposed=2, disposed_on_time=1, overdue_pending=1, due_to_close=3)


def _result(kind: str, counters: Counters, scheme: str = "region") -> Result:
    return Result(
        "341802", "2026-10", kind, "341802", NOW, "340000:1", assess(scheme, counters, RULES), "宣州区"
    )


def test_a_region_row_with_chinese_headers_rounded_like_the_api() -> None:
    table = assessment_table([_result("county", REGION)])
    labels = [c.label for c in table.columns]
    assert labels[:5] == ["单位代码", "单位", "考核类型", "考核对象", "周期"]
    assert labels[-3:] == ["综合得分", "等级", "规则版本"]
    assert labels[5:7] == ["上报数", "有效上报数"] and "返工处置数" in labels
    # only the region scheme's five indicators, each a percent and a score
    assert [x for x in labels if x.endswith("(%)")] == [
        "处置率(%)",
        "按期处置率(%)",
        "返工率(%)",
        "超期待处置率(%)",
        "延期率(%)",
    ]
    [row] = table.cells()
    cell = dict(zip(labels, row, strict=True))
    assert (cell["单位"], cell["考核类型"], cell["应处置数"]) == ("宣州区", "区县", 3)
    assert (cell["处置率(%)"], cell["处置率得分"]) == (Decimal("66.67"), Decimal("66.67"))
    assert (cell["返工率(%)"], cell["返工率得分"]) == (Decimal("0.00"), Decimal("100.00"))
    # (30 × 200/3 + 20 × 100/3 + 20 × 100 + 20 × 200/3 + 10 × 100) / 100 = 70 → C
    assert (cell["综合得分"], cell["等级"], cell["规则版本"]) == (Decimal("70.00"), "C", "340000:1")


def test_not_assessed_rows_and_mixed_schemes() -> None:
    empty = _result("department", Counters(), "department")
    table = assessment_table([_result("county", REGION), empty])
    labels = [c.label for c in table.columns]
    assert "工作量得分" in labels and "工作量(%)" not in labels  # volume is a count: a score only
    assert "结案率(%)" in labels  # the department scheme's, empty on the region row
    region, department = (dict(zip(labels, r, strict=True)) for r in table.cells())
    assert region["结案率(%)"] is None
    assert (department["综合得分"], department["等级"], department["处置率(%)"]) == (None, "不参评", None)
    text = to_csv(table).decode("utf-8-sig")
    read = list(csv.DictReader(io.StringIO(text)))
    assert (read[1]["等级"], read[1]["综合得分"]) == ("不参评", "")


def test_no_results_give_the_header_only() -> None:
    table = assessment_table([])
    assert table.rows == [] and not [c for c in table.columns if c.label.endswith("(%)")]
    assert export_filename("341800", "2026Q4", "xlsx") == "考核结果_341800_2026Q4.xlsx"


@pytest.mark.parametrize(
    ("at", "labels"),
    [
        ("2026-11-20T04:00:00+00:00", ["2026-11", "2026Q4", "2026"]),
        ("2026-11-03T02:00:00+00:00", ["2026-11", "2026Q4", "2026", "2026-10"]),
        # 16:30 UTC on 31 October is 00:30 on 1 November in Beijing
        ("2026-10-31T16:30:00+00:00", ["2026-11", "2026Q4", "2026", "2026-10"]),
        ("2026-04-01T00:00:00+00:00", ["2026-04", "2026Q2", "2026", "2026-03", "2026Q1"]),
        ("2027-01-05T09:00:00+08:00", ["2027-01", "2027Q1", "2027", "2026-12", "2026Q4", "2026"]),
        ("2027-01-06T09:00:00+08:00", ["2027-01", "2027Q1", "2027"]),
    ],
)
def test_the_periods_a_run_recounts(at: str, labels: list[str]) -> None:
    assert LATE_DAYS == 5
    assert [p.label for p in periods_due(datetime.fromisoformat(at))] == labels
