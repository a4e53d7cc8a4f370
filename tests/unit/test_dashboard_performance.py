"""Performance figures on hand-made results: ranking order and ties, bar values and colours, the
counters behind a score, trends. Rules: the Anhui baseline (340000 v1), region scheme
30/20/20/20/10 (处置率, 按期处置率, 返工率, 超期待处置率, 延期率)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from citylead.assessment import Counters, assess
from citylead.assessment.results import Result
from dashboard import figures_performance as fp
from tenants.standards.baseline import assessment_layer
from tenants.standards.layers import Layer, Source, fold
from tenants.standards.paths import Kind

RULES = fold(Kind.ASSESSMENT, [Layer(Source("340000", 1), assessment_layer())])
AT = datetime(2026, 11, 1, tzinfo=UTC)
# The worked district of docs/assessment.md: 90, 80, 85, 90, 96 → 87.6, B.
WORKED = Counters(
    due_for_disposal=50,
    disposed=45,
    disposed_on_time=40,
    overdue_pending=5,
    postponed=2,
    due_to_close=40,
    closed=36,
    rework=6,
)
PERFECT = Counters(due_for_disposal=10, disposed=10, disposed_on_time=10, due_to_close=10, closed=10)


def result(
    code: str,
    counters: Counters,
    *,
    subject_type: str = "county",
    tenant: str | None = None,
    period: str = "2026-10",
) -> Result:
    scheme = "department" if subject_type == "department" else "region"
    return Result(tenant or code, period, subject_type, code, AT, "340000:1", assess(scheme, counters, RULES))


LANGYA, NANQIAO, LAIAN = "341102", "341103", "341122"
NAMES = {LANGYA: "琅琊区", NANQIAO: "南谯区", LAIAN: "来安县"}
RESULTS = [result(LANGYA, WORKED), result(NANQIAO, PERFECT), result(LAIAN, Counters())]


def test_worked_example_scores_as_the_docs_say() -> None:
    a = RESULTS[0].assessment
    assert (a.composite_display(), a.grade) == (Decimal("87.60"), "B")
    assert fp.measure_value(a, "composite") == (87.6, 87.6)
    assert fp.measure_value(a, "rework_rate") == (15.0, 85.0)  # 6/40 = 15 %, scores 85
    assert fp.measure_value(RESULTS[2].assessment, "composite") == (None, None)  # 不参评


def test_ranking_by_composite_puts_best_first_and_unassessed_last() -> None:
    ranked = fp.ranking(RESULTS, measure="composite", names=NAMES)
    assert [(r.rank, r.name, r.value, r.grade) for r in ranked] == [
        (1, "南谯区", 100.0, "A"),
        (2, "琅琊区", 87.6, "B"),
        (None, "来安县", None, None),
    ]


def test_ranking_by_a_lower_is_better_indicator_orders_by_score() -> None:
    ranked = fp.ranking(RESULTS, measure="rework_rate", names=NAMES)
    # 返工率: 南谯区 0/10 = 0 % (score 100) beats 琅琊区 6/40 = 15 % (score 85)
    assert [(r.code, r.value, r.score) for r in ranked] == [
        (NANQIAO, 0.0, 100.0),
        (LANGYA, 15.0, 85.0),
        (LAIAN, None, None),
    ]
    assert all(r.grade is None for r in ranked)  # grades belong to the composite


def test_equal_scores_share_a_rank() -> None:
    tied = [result("341124", PERFECT), result("341125", PERFECT), result(LANGYA, WORKED)]
    assert [r.rank for r in fp.ranking(tied, measure="composite", names={})] == [1, 1, 3]


def test_rank_bar_values_order_colours_and_drill_data() -> None:
    ranked = fp.ranking(RESULTS, measure="composite", names=NAMES)
    fig = fp.rank_bar(ranked, measure="composite", title="区县排名")
    (bar,) = fig.data
    assert list(bar.y) == ["南谯区", "琅琊区"]  # not assessed: off the chart
    assert list(bar.x) == [100.0, 87.6]
    assert list(bar.text) == ["100.00 A", "87.60 B"]
    assert list(bar.marker.color) == [fp.GRADE_COLOURS["A"], fp.GRADE_COLOURS["B"]]
    assert [list(c) for c in bar.customdata] == [["county", NANQIAO], ["county", LANGYA]]
    assert bar.orientation == "h"
    assert fig.layout.yaxis.autorange == "reversed"  # the best on top
    assert fig.layout.title.text == "区县排名"


def test_rank_bar_of_an_indicator_shows_percent() -> None:
    ranked = fp.ranking(RESULTS, measure="rework_rate", names=NAMES)
    (bar,) = fp.rank_bar(ranked, measure="rework_rate", title="返工率").data
    assert list(bar.text) == ["0.00 %", "15.00 %"]
    assert bar.name == "返工率"


def test_rank_rows_mark_unassessed() -> None:
    rows = fp.rank_rows(fp.ranking(RESULTS, measure="composite", names=NAMES))
    assert [(r["rank"], r["name"], r["value"], r["grade"]) for r in rows] == [
        (1, "南谯区", "100.00", "A"),
        (2, "琅琊区", "87.60", "B"),
        ("—", "来安县", "—", "不参评"),
    ]


def test_the_counters_behind_a_score() -> None:
    a = RESULTS[0].assessment
    rows = {r["indicator"]: r for r in fp.indicator_rows(a)}
    assert list(rows) == ["处置率", "按期处置率", "返工率", "超期待处置率", "延期率"]
    assert rows["处置率"] == {
        "indicator": "处置率",
        "numerator": "45（disposed）",
        "denominator": "50（due_for_disposal）",
        "rate": 90.0,
        "score": 90.0,
        "weight": 30.0,
        "weight_used": 30.0,
    }
    assert (rows["返工率"]["rate"], rows["返工率"]["score"]) == (15.0, 85.0)
    assert (rows["延期率"]["rate"], rows["延期率"]["score"]) == (4.0, 96.0)
    counters = {r["counter"]: (r["label"], r["value"]) for r in fp.counter_rows(a)}
    assert counters["disposed"] == ("处置数", 45)
    assert counters["rework"] == ("返工数", 6)
    assert counters["filed"] == ("立案数", 0)
    assert len(counters) == len(Counters().as_dict())


def test_none_rule_shows_dashes_and_the_weights_used() -> None:
    # nothing due to close: 返工率 has no value, its 20 goes to the others pro rata (80 → 100)
    a = result(LANGYA, Counters(due_for_disposal=10, disposed=10, disposed_on_time=10)).assessment
    rework = next(r for r in fp.indicator_rows(a) if r["indicator"] == "返工率")
    assert (
        rework["numerator"],
        rework["rate"],
        rework["score"],
        rework["weight"],
        rework["weight_used"],
    ) == (
        "—",
        "—",
        "—",
        20.0,
        0.0,
    )
    disposal = next(r for r in fp.indicator_rows(a) if r["indicator"] == "处置率")
    assert disposal["weight_used"] == 37.5  # 30 × 100 / 80


def test_provenance_names_the_rules_version_and_every_path() -> None:
    rows = fp.provenance_rows(RESULTS[0].assessment)
    assert rows[0] == {"path": "规则版本", "source": "340000:1"}
    paths = {r["path"]: r["source"] for r in rows[1:]}
    assert paths["assessment/region/weight/disposal_rate"] == "340000 v1"
    assert paths["assessment/region/grade/A"] == "340000 v1"


def test_trend_series_own_row_first_then_best_children_with_gaps() -> None:
    months = ["2026-09", "2026-10"]
    city = "341100"
    by_month = {
        "2026-09": [result(city, WORKED, subject_type="city", period="2026-09"), result(LANGYA, PERFECT)],
        "2026-10": [
            result(city, PERFECT, subject_type="city"),
            result(LANGYA, WORKED),
            result(NANQIAO, PERFECT),
        ],
    }
    names = {**NAMES, city: "滁州市"}
    series = fp.trend_series(by_month, months, measure="composite", own=city, names=names)
    assert list(series) == ["滁州市", "南谯区", "琅琊区"]  # 南谯区 100 > 琅琊区 87.6 in October
    assert series["滁州市"] == [("2026-09", 87.6), ("2026-10", 100.0)]
    assert series["南谯区"] == [("2026-09", None), ("2026-10", 100.0)]
    assert series["琅琊区"] == [("2026-09", 100.0), ("2026-10", 87.6)]
    two = fp.trend_series(by_month, months, measure="composite", own=city, names=names, lines=1)
    assert list(two) == ["滁州市", "南谯区"]
    fig = fp.trend_lines(series, measure="composite", title="趋势")
    assert [t.name for t in fig.data] == ["滁州市", "南谯区", "琅琊区"]
    assert list(fig.data[1].y) == [None, 100.0]
    assert fig.layout.xaxis.type == "category"
