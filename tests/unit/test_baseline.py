"""The province baseline layers and the legacy crosswalk: grammar, completeness, hand-checked rows."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tenants.standards.baseline import assessment_layer, catalog_layer, manual_layer
from tenants.standards.crosswalk import build_crosswalk, read_catalog, render_markdown
from tenants.standards.layers import Layer, Source, fold, validate_layer
from tenants.standards.paths import Kind, check_entry
from tenants.standards.worktime import Limit, WorkCalendar, deadline

DOC = Path(__file__).resolve().parents[2] / "docs" / "crosswalk.md"
LAYERS = {Kind.CATALOG: catalog_layer, Kind.MANUAL: manual_layer, Kind.ASSESSMENT: assessment_layer}


@pytest.mark.parametrize("kind", list(LAYERS))
def test_every_entry_passes_the_grammar(kind: Kind) -> None:
    layer = LAYERS[kind]()
    bad = {path: why for path, value in layer.items() if (why := check_entry(kind, path, value))}
    assert bad == {}
    assert layer == LAYERS[kind]()  # deterministic


@pytest.mark.parametrize("kind", list(LAYERS))
def test_layer_validates_as_the_province_layer(kind: Kind) -> None:
    layer = Layer(Source("320000", 1), LAYERS[kind]())
    assert validate_layer("320000", layer, fold(kind, []), kind) == []


def test_limits_are_consistent() -> None:
    """Urgent never longer than normal; stages end in order, the last one at the normal limit."""
    monday = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    calendar = WorkCalendar.default()

    def due(text: str) -> datetime:
        return deadline(monday, Limit.parse(text), calendar)

    layer = manual_layer()
    for row in read_catalog("gbt47678_5"):
        base = f"manual/{row.kind}/{row.code}"
        assert due(layer[f"{base}/limit/urgent"]) <= due(layer[f"{base}/limit/normal"]), base
        stages = [
            due(layer[f"{base}/stage/{n}/limit"]) for n in (1, 2, 3) if f"{base}/stage/{n}/limit" in layer
        ]
        assert stages == sorted(stages)
        assert not stages or stages[-1] == due(layer[f"{base}/limit/normal"])


def test_catalogue_counts() -> None:
    def count(edition: str, kind: str) -> int:
        return sum(1 for row in read_catalog(edition) if row.kind == kind)

    assert (count("gbt47678_5", "component"), count("gbt47678_5", "matter")) == (153, 250)
    assert (count("gbt30428", "component"), count("gbt30428", "matter")) == (85, 54)


def test_catalog_layer_has_both_editions() -> None:
    layer = catalog_layer()
    assert layer["catalog/edition"] == "gbt47678_5"
    assert layer["catalog/component/01/name"] == "市政公用设施"
    assert layer["catalog/matter/10/name"] == "其他事项类"
    assert layer["catalog/matter/06012/name"] == "道路不洁"
    assert layer["catalog/component/0101/name"] == "上水井盖"
    assert layer["catalog/matter/0104/name"] == "道路不洁"  # legacy 事件 are matters
    names = [p for p in layer if p.endswith("/name")]
    assert len(names) == 15 + 403 + 139
    assert sum(p.endswith("/maps_to") for p in layer) == len(build_crosswalk().matched)


def test_every_2026_class_has_a_complete_row() -> None:
    layer = manual_layer()
    for row in read_catalog("gbt47678_5"):
        base = f"manual/{row.kind}/{row.code}"
        for leaf in ("filing", "closing", "responsible", "limit/normal", "limit/urgent"):
            assert f"{base}/{leaf}" in layer, (base, leaf)
        if row.kind == "component":
            assert layer[f"{base}/responsible"] == "owner_first"
    assert layer["manual/urgency/normal"] == "一般"
    assert layer["manual/urgency/urgent"] == "紧急"
    defaults = {p.removeprefix("manual/default/") for p in layer if p.startswith("manual/default/")}
    assert {"filing", "closing", "responsible", "limit/normal", "step/verify", "duplicate/window"} <= defaults


def _row(kind: str, code: str) -> dict[str, Any]:
    prefix = f"manual/{kind}/{code}/"
    return {p.removeprefix(prefix): v for p, v in manual_layer().items() if p.startswith(prefix)}


def test_hand_checked_rows() -> None:
    road = _row("matter", "06012")  # 道路不洁
    assert (road["limit/normal"], road["limit/urgent"], road["responsible"]) == (
        "5wh",
        "2wh",
        "territory_first",
    )
    assert "道路不洁" in road["filing"]
    garbage = _row("matter", "06010")  # 暴露垃圾
    assert (garbage["limit/normal"], garbage["limit/urgent"]) == ("1wd", "4wh")
    cover = _row("component", "01002")  # 污水井盖: natural hours, day and night
    assert (cover["limit/normal"], cover["limit/urgent"], cover["responsible"]) == (
        "24h",
        "2h",
        "owner_first",
    )
    assert "污水井盖缺失" in cover["filing"]
    covers = [r.code for r in read_catalog("gbt47678_5") if r.kind == "component" and "井盖" in r.name]
    assert len(covers) == 20
    assert all(_row("component", code)["limit/urgent"] == "2h" for code in covers)
    for code in ("06001", "08016"):  # 私搭乱建, 无证建设
        built = _row("matter", code)
        assert built["responsible"] == "sector:城管执法"
        stages = [(built[f"stage/{n}/name"], built[f"stage/{n}/limit"]) for n in (1, 2, 3)]
        assert stages == [("责令停工", "4wh"), ("立案处罚", "7wd"), ("拆除", "15wd")]
        assert built["limit/normal"] == "15wd"
    assert _row("matter", "04002")["responsible"] == "sector:园林绿化"  # 行道树异常
    assert _row("matter", "06022")["responsible"] == "sector:园林绿化"  # 非法伐树
    assert _row("matter", "06020")["responsible"] == "territory_first"  # 焚烧垃圾、树叶: not greenery
    assert _row("matter", "06013")["responsible"] == "territory_first"  # 道路破损
    assert _row("matter", "01002")["responsible"] == "territory_first"  # 污水井盖异常
    assert _row("matter", "09001")["limit/normal"] == "4wh"  # 无照经营游商
    assert _row("matter", "10001")["limit/normal"] == "2h"  # 道路积雪、结冰


def test_weights_sum_to_100_and_grades() -> None:
    layer = assessment_layer()
    totals: dict[str, float] = {}
    for path, value in layer.items():
        if m := re.fullmatch(r"assessment/(\w+)/weight/\w+", path):
            totals[m[1]] = totals.get(m[1], 0) + value
    assert totals == dict.fromkeys(
        ("department", "supervisor", "region", "intake", "shift_lead", "dispatcher"), 100
    )
    for subject in totals:
        assert [layer[f"assessment/{subject}/grade/{g}"] for g in "ABCD"] == [90, 75, 60, 40]
    assert layer["assessment/department/weight/rework_rate"] == 30
    assert layer["assessment/region/weight/postpone_rate"] == 10
    assert [score for _, score in layer["assessment/department/volume_steps"]] == [100, 90, 75, 60, 40, 0]
    assert layer["assessment/options/rework_denominator"] == "due_to_close"
    assert layer["assessment/options/ontime_closing_denominator"] == "due_to_close"


def test_crosswalk_known_matches() -> None:
    walk = build_crosswalk()
    assert walk.matched["component", "0102"] == "01002"  # 污水井盖 = 污水井盖
    assert walk.matched["component", "0101"] == "01001"  # 上水井盖 -> 供水井盖 (synonym table)
    assert walk.matched["matter", "0104"] == "06012"  # 道路不洁
    assert walk.matched["matter", "0101"] == "06001"  # 私搭乱建
    assert walk.matched["matter", "0407"] == "10001"  # 道路积雪结冰 = 道路积雪、结冰 (punctuation)
    assert ("component", "0117", "立杆") in walk.unmatched  # ambiguous: power, telecom, bus …
    assert len(walk.matched) + len(walk.unmatched) == 139


def test_crosswalk_doc_is_generated_and_current() -> None:
    text = DOC.read_text("utf-8")
    assert text == render_markdown(), "regenerate: python -m tenants.standards.crosswalk > docs/crosswalk.md"
    m = re.search(r"## Unmatched legacy classes \((\d+)\)", text)
    assert m is not None
    assert int(m[1]) == len(build_crosswalk().unmatched) == 25
