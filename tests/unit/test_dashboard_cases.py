"""Case figures and the period helpers on hand-made data: traces, values, order, Chinese labels."""

from __future__ import annotations

from datetime import UTC, date, datetime

from citylead.cases.stats import ClassVolume, CountyLights, GridVolume, OverdueCase
from citylead.spreadsheets import Table, to_csv
from dashboard import figures_cases as fc
from dashboard.components import html_table, send_table
from dashboard.pages.cases import CLASS_COLUMNS, period_choices
from dashboard.periods import default_month, label, months_before, period_days, period_options, recent_months

VOLUMES = [
    ClassVolume("matter", "06012", "道路不洁", "06", "市容环境", 5),
    ClassVolume("matter", "01001", "井盖缺失", "01", "公用设施", 4),
    ClassVolume("matter", "06013", "垃圾满溢", "06", "市容环境", 3),
    ClassVolume("component", "0101", "上水井盖", "01", "公用设施", 2),
]


def test_class_bar_sums_minor_classes_into_majors_per_kind() -> None:
    fig = fc.class_bar(VOLUMES)
    assert [t.name for t in fig.data] == ["部件", "事件"]
    component, matter = fig.data
    assert list(component.y) == ["部件·公用设施"]
    assert list(component.x) == [2]
    assert list(matter.y) == ["事件·市容环境", "事件·公用设施"]  # 5 + 3 = 8 before 4
    assert list(matter.x) == [8, 4]
    assert list(matter.customdata) == ["06", "01"]
    assert matter.orientation == "h"
    assert fig.layout.title.text == "案件量（按大类）"


def test_class_rows_with_shares() -> None:
    rows = fc.class_rows(VOLUMES)
    assert [(r["kind"], r["major"], r["name"], r["cases"], r["share"]) for r in rows] == [
        ("事件", "市容环境", "道路不洁", 5, 35.7),  # 5 of 14
        ("事件", "公用设施", "井盖缺失", 4, 28.6),
        ("事件", "市容环境", "垃圾满溢", 3, 21.4),
        ("部件", "公用设施", "上水井盖", 2, 14.3),
    ]
    assert fc.class_rows([]) == []


def test_class_table_is_cut_with_a_line_for_the_rest() -> None:
    rows = fc.class_rows(VOLUMES)
    assert fc.class_rest(rows, shown=2) == "另有 2 个小类，共 5 件，见导出"  # 垃圾满溢 3 + 上水井盖 2
    assert fc.class_rest(rows, shown=4) is None
    assert fc.class_rest([]) is None
    many = [ClassVolume("matter", f"06{i:03}", f"c{i}", "06", "市容环境", 100 - i) for i in range(33)]
    assert fc.class_rest(fc.class_rows(many)) == "另有 3 个小类，共 207 件，见导出"  # 70 + 69 + 68
    table = html_table(CLASS_COLUMNS, rows[:2], footer=fc.class_rest(rows, shown=2))
    _, body, foot = table
    assert len(body.children) == 2
    cell = foot.children.children  # Tfoot > Tr > Td
    assert (cell.children, cell.colSpan) == ("另有 2 个小类，共 5 件，见导出", 6)
    assert len(html_table(CLASS_COLUMNS, rows)) == 2  # no footer: head and body only


def test_grid_bar_and_rows() -> None:
    grids = [GridVolume("341102", "琅琊区", "341102001001", 7), GridVolume("341103", "南谯区", "", 2)]
    (bar,) = fc.grid_bar(grids).data
    assert list(bar.x) == ["341102001001", "网格外"]
    assert list(bar.y) == [7, 2]
    assert list(bar.customdata) == ["琅琊区", "南谯区"]
    assert fc.grid_rows(grids)[1] == {"county": "南谯区", "grid": "网格外", "cases": 2}


def test_lights_are_stacked_by_county_in_light_order() -> None:
    lights = [CountyLights("341102", "琅琊区", 3, 1, 2, 0), CountyLights("341103", "南谯区", 0, 0, 1, 1)]
    fig = fc.lights_bar(lights)
    assert fig.layout.barmode == "stack"
    assert [t.name for t in fig.data] == ["绿灯", "黄灯", "红灯（超期）", "暂停计时"]
    assert [t.marker.color for t in fig.data] == ["#2e7d32", "#f9a825", "#c62828", "#9e9e9e"]
    assert [list(t.y) for t in fig.data] == [[3, 0], [1, 0], [2, 1], [0, 1]]
    assert list(fig.data[0].x) == ["琅琊区", "南谯区"]
    assert [r["total"] for r in fc.lights_rows(lights)] == [6, 2]


def test_overdue_rows_show_beijing_deadlines_and_places() -> None:
    due = datetime(2026, 11, 20, 1, 30, tzinfo=UTC)  # 09:30 in Beijing
    cases = [
        OverdueCase("341102", "琅琊区", "341102-20261119-0001", "matter", "06012", "道路不洁",
                    "丰乐亭路 1 号", "341102001001", "dispose", "环卫所", due, 26.5),
        OverdueCase("341103", "南谯区", "341103-20261119-0002", "component", "0101", "上水井盖", None,
                    "341103001002", "verify", None, due, 3.0),
    ]  # fmt: skip
    rows = fc.overdue_rows(cases)
    assert rows[0] == {
        "number": "341102-20261119-0001",
        "county": "琅琊区",
        "kind": "事件",
        "class_name": "道路不洁",
        "place": "丰乐亭路 1 号",
        "step": "处置",
        "unit": "环卫所",
        "due_at": "2026-11-20 09:30",
        "hours_overdue": 26.5,
    }
    assert (rows[1]["place"], rows[1]["step"], rows[1]["unit"]) == ("341103001002", "核实", "—")


def test_periods_offered_and_chosen() -> None:
    months = ["2026-10", "2026-11", "2026-09"]
    assert [o["value"] for o in period_options(months)] == [
        "2026-11",
        "2026-10",
        "2026-09",
        "2026Q4",
        "2026Q3",
        "2026",
    ]
    assert [label(p) for p in ("2026-09", "2026Q3", "2026")] == ["2026年9月", "2026年第3季度", "2026年"]
    # 2026-11-30 20:00 UTC is already December in Beijing: November is complete
    assert default_month(months, datetime(2026, 11, 15, tzinfo=UTC)) == "2026-10"
    assert default_month(months, datetime(2026, 11, 30, 20, tzinfo=UTC)) == "2026-11"
    assert default_month(["2026-11"], datetime(2026, 11, 15, tzinfo=UTC)) == "2026-11"  # only the current
    assert default_month([], datetime(2026, 11, 15, tzinfo=UTC)) is None


def test_months_before_and_days() -> None:
    assert months_before("2026-02", 3) == ["2025-12", "2026-01", "2026-02"]
    assert months_before("2026Q4", 2) == ["2026-11", "2026-12"]
    assert months_before("2026", 12)[0] == "2026-01"
    assert recent_months(datetime(2026, 1, 5, tzinfo=UTC), 2) == ["2026-01", "2025-12"]
    assert period_days("2026-12") == (date(2026, 12, 1), date(2027, 1, 1))
    assert period_days("2026Q1") == (date(2026, 1, 1), date(2026, 4, 1))
    choices = [o["value"] for o in period_choices(datetime(2026, 11, 22, tzinfo=UTC))]
    assert choices[:2] == ["2026-11", "2026-10"]
    assert choices[-2:] == ["2026Q4", "2026"]
    assert len(choices) == 14


def test_export_sends_the_table_as_csv_or_excel() -> None:
    import base64

    table = Table("案件量按类别", CLASS_COLUMNS, fc.class_rows(VOLUMES[:1]))
    sent = send_table(table, "csv", "案件量-341100-2026-10")
    assert (sent["filename"], sent["type"], sent["base64"]) == (
        "案件量-341100-2026-10.csv",
        "text/csv; charset=utf-8",
        True,
    )
    assert base64.b64decode(sent["content"]) == to_csv(table)
    text = to_csv(table).decode("utf-8-sig")
    assert text.splitlines() == [
        "类型,大类,小类代码,小类,案件数,占比 %",
        "事件,市容环境,06012,道路不洁,5,100.0",
    ]
    xlsx = send_table(table, "xlsx", "x")
    assert xlsx["filename"] == "x.xlsx"
    assert base64.b64decode(xlsx["content"])[:2] == b"PK"  # a zip: the workbook
