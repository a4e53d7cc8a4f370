"""The province baseline layers: national defaults every city inherits (domain.md §3, §4, §6).

The catalogue carries both editions (GB/T 47678.5-2026 in use, legacy GB/T 30428.2 names and the
crosswalk). The manual gives every 2026 class its own filing 立案条件, closing 结案条件, routing 处置主体
and limits 处置时限, generated from the tables below; ``manual/default`` fills what a class leaves unset.

The filing 立案时限 and dispatch 派遣时限 step limits (30 working minutes each) are this baseline's
assumption of common city practice, not a national text: a city or county sets its own like any
other manual entry (a class's ``step/file`` or ``manual/default/step/file``).
"""

from __future__ import annotations

from typing import Any, TypeVar

from tenants.standards.crosswalk import CatalogRow, build_crosswalk, read_catalog

__all__ = ["ASSESSMENT", "DEFAULT", "URGENCY", "assessment_layer", "catalog_layer", "manual_layer"]

_T = TypeVar("_T")

URGENCY = {"normal": "一般", "urgent": "紧急"}

DEFAULT: dict[str, Any] = {
    "filing": "问题真实存在、位置明确，属于城市管理范围且达到本类立案标准",
    "closing": "问题已处置到位，经监督员现场核查确认",
    "responsible": "territory_first",
    "limit/normal": "1wd",
    "limit/urgent": "4wh",
    "step/verify": "1wh",
    "step/check": "1wh",
    "step/file": "30wmin",  # 立案时限: from ready to file (intake, or verified) to filing
    "step/dispatch": "30wmin",  # 派遣时限: from filing (or a return to the queue) to dispatch
    "duplicate/radius_m": 50,
    "duplicate/window": "3wd",
}

# (filing, closing) templates by (kind, major). {name} is the class name, {obj} the object without the
# trailing 异常 that the 2026 matter majors 01–05 add to each component name; those read as the component.
TEXT: dict[tuple[str, str], tuple[str, str]] = {
    ("component", "01"): ("{obj}破损、缺失或移位，影响使用或安全", "{obj}已修复或更换，恢复正常使用"),
    ("component", "02"): (
        "{obj}破损、缺失、倾斜或污损，影响通行或安全",
        "{obj}已修复、更换或扶正，恢复正常功能",
    ),
    ("component", "03"): ("{obj}破损、缺失或脏污，影响市容或使用", "{obj}已修复、更换或清洁，恢复整洁完好"),
    ("component", "04"): (
        "{obj}损坏、缺失、倒伏或存在安全隐患，影响绿化景观或安全",
        "{obj}已修复、补植、扶正或隐患已排除",
    ),
    ("component", "05"): ("{obj}破损、缺失或存在安全隐患", "{obj}已修复或隐患已消除，恢复正常"),
    ("matter", "06"): (
        "现场出现{name}问题，影响市容环境或公共安全",
        "{name}问题已清理整治到位，现场恢复整洁有序",
    ),
    ("matter", "07"): (
        "现场出现{name}问题，影响市容或违反广告、标识管理规定",
        "{name}问题已清除、拆除或整改规范",
    ),
    ("matter", "08"): (
        "施工现场出现{name}问题，影响周边环境、交通或安全",
        "{name}问题已整改到位，符合文明施工要求",
    ),
    ("matter", "09"): (
        "现场出现{name}问题，影响街面秩序或通行",
        "{name}问题已劝导、取缔或规范，街面秩序恢复正常",
    ),
    ("matter", "10"): ("现场出现{name}，影响通行或公共安全", "{name}已处置，隐患已消除，恢复正常通行"),
}
TEXT.update({("matter", major): TEXT["component", major] for major in ("01", "02", "03", "04", "05")})

# (normal, urgent) limits by (kind, major): facilities 3wd/1wd, sanitation 1wd/4wh, environment 1wd/4wh,
# advertising 3wd/1wd, construction 2wd/4wh, street order 4wh/2wh, 10 其他事项 (snow and ice, fallen
# overhead cables: the 2026 heirs of the legacy 突发事件) 2h/1h natural time.
LIMITS: dict[tuple[str, str], tuple[str, str]] = {
    ("component", "01"): ("3wd", "1wd"),
    ("component", "02"): ("3wd", "1wd"),
    ("component", "03"): ("1wd", "4wh"),
    ("component", "04"): ("3wd", "1wd"),
    ("component", "05"): ("3wd", "1wd"),
    **{("matter", major): ("3wd", "1wd") for major in ("01", "02", "04", "05")},
    ("matter", "03"): ("1wd", "4wh"),
    ("matter", "06"): ("1wd", "4wh"),
    ("matter", "07"): ("3wd", "1wd"),
    ("matter", "08"): ("2wd", "4wh"),
    ("matter", "09"): ("4wh", "2wh"),
    ("matter", "10"): ("2h", "1h"),
}

# Class rows by keyword in the name, first hit wins, both kinds. An open manhole is a hole in the road:
# covers, grates and trench plates count natural hours (repair 24 h, secure 2 h), day and night.
_COVER = {
    "limits": ("24h", "2h"),
    "text": (
        "{obj}缺失、破损、移位或高差明显，危及行人车辆安全",
        "{obj}已补齐或更换，安装平稳牢固，周边无安全隐患",
    ),
    "step": "30min",
}
KEYWORD_ROWS: list[tuple[tuple[str, ...], dict[str, Any]]] = [
    (("井盖", "雨水箅子", "沟槽盖板"), _COVER),
    (("道路不洁",), {"limits": ("5wh", "2wh")}),
    (("暴露垃圾",), {"limits": ("1wd", "4wh")}),
]

# Illegal construction 违法建设: staged, deadlines counted from dispatch, so the last stage is the limit.
ILLEGAL_CONSTRUCTION = ("私搭乱建", "违法建设", "违章搭建", "无证建设")
STAGES = [("责令停工", "4wh"), ("立案处罚", "7wd"), ("拆除", "15wd")]
STAGED_LIMITS = ("15wd", "10wd")
STAGED_TEXT = (
    "未经规划许可或超出许可范围进行建设（{name}），正在施工或已建成",
    "已责令停工并依法处罚，违法建筑已拆除或依法处理完毕",
)

# Matters go to the territory first (事件先属地后属主) unless the class plainly belongs to a sector
# department; components always go to their owner first (部件先属主后属地). Roads, manholes and street
# order stay territorial: the street/town is the last-resort handler.
SECTORS: list[tuple[tuple[str, ...], str]] = [
    (ILLEGAL_CONSTRUCTION, "sector:城管执法"),
    (
        (
            "古树名木",
            "行道树",
            "独立树",
            "护树",
            "树池",
            "伐树",
            "病虫害",
            "绿地",
            "绿化",
            "毁绿",
            "林地",
            "花架",
        ),
        "sector:园林绿化",
    ),
]

# Problems that move on or get worse quickly are verified and checked within 30 minutes (natural time where
# the limits are); street order cases are new after a working day (vendors come back), not duplicates.
QUICK_STEPS = {("matter", "09"): "30wmin", ("matter", "10"): "30min"}
SHORT_WINDOW_MAJORS = {("matter", "09"): "1wd"}

# Assessment (domain.md §6). Intake operators are judged on what they let through (有效上报率 of the
# reports they register) and how fast registered reports reach filing (按时立案率, whose clock starts
# at intake); verify/check timeliness belongs to the supervisors, so it is not counted twice.
ASSESSMENT: dict[str, dict[str, int]] = {
    "department": {"volume": 10, "closing_rate": 30, "ontime_disposal_rate": 30, "rework_rate": 30},
    "supervisor": {
        "valid_report_rate": 40,
        "missed_report_rate": 20,
        "ontime_verify_rate": 20,
        "ontime_check_rate": 20,
    },
    "region": {
        "disposal_rate": 30,
        "ontime_disposal_rate": 20,
        "rework_rate": 20,
        "overdue_pending_rate": 20,
        "postpone_rate": 10,
    },
    "intake": {"valid_report_rate": 50, "ontime_filing_rate": 50},
    "shift_lead": {"ontime_filing_rate": 50, "accurate_filing_rate": 50},
    "dispatcher": {"ontime_dispatch_rate": 50, "accurate_dispatch_rate": 50},
}
GRADES = {"A": 90, "B": 75, "C": 60, "D": 40}  # E below 40
VOLUME_STEPS = [[200, 100], [150, 90], [100, 75], [50, 60], [20, 40], [0, 0]]  # cases per month
OPTIONS = {"rework_denominator": "due_to_close", "ontime_closing_denominator": "due_to_close"}


def catalog_layer() -> dict[str, Any]:
    """Both editions' class names and the crosswalk. Major names are the 2026 ones only: the two-digit
    paths are shared and the legacy majors (01 公用设施 …) would overwrite them."""
    layer: dict[str, Any] = {"catalog/edition": "gbt47678_5"}
    for row in read_catalog("gbt47678_5"):
        layer[f"catalog/{row.kind}/{row.major_code}/name"] = row.major_name
        layer[f"catalog/{row.kind}/{row.code}/name"] = row.name
    for row in read_catalog("gbt30428"):
        layer[f"catalog/{row.kind}/{row.code}/name"] = row.name
    for (kind, legacy), code in build_crosswalk().matched.items():
        layer[f"catalog/{kind}/{legacy}/maps_to"] = code
    return layer


def _hit(name: str, table: list[tuple[tuple[str, ...], _T]]) -> _T | None:
    return next((value for words, value in table if any(word in name for word in words)), None)


def _row(row: CatalogRow) -> dict[str, Any]:
    """The manual leaves of one class, relative to ``manual/{kind}/{code}/``."""
    key = (row.kind, row.major_code)
    obj = row.name.removesuffix("异常") if row.kind == "matter" else row.name
    special: dict[str, Any] = _hit(row.name, KEYWORD_ROWS) or {}
    staged = any(word in row.name for word in ILLEGAL_CONSTRUCTION)
    filing, closing = STAGED_TEXT if staged else special.get("text", TEXT[key])
    normal, urgent = STAGED_LIMITS if staged else special.get("limits", LIMITS[key])
    sector = _hit(row.name, SECTORS) if row.kind == "matter" else None
    leaves: dict[str, Any] = {
        "filing": filing.format(name=row.name, obj=obj),
        "closing": closing.format(name=row.name, obj=obj),
        "responsible": "owner_first" if row.kind == "component" else sector or "territory_first",
        "limit/normal": normal,
        "limit/urgent": urgent,
    }
    if staged:
        for n, (stage, limit) in enumerate(STAGES, start=1):
            leaves[f"stage/{n}/name"], leaves[f"stage/{n}/limit"] = stage, limit
    step = special.get("step") or QUICK_STEPS.get(key)
    if step:
        leaves["step/verify"] = leaves["step/check"] = step
    if window := SHORT_WINDOW_MAJORS.get(key):
        leaves["duplicate/window"] = window
    return leaves


def manual_layer() -> dict[str, Any]:
    """Urgency levels, the default row and one row per 2026 class (limits always as a pair)."""
    layer: dict[str, Any] = {f"manual/urgency/{level}": label for level, label in URGENCY.items()}
    layer.update({f"manual/default/{leaf}": value for leaf, value in DEFAULT.items()})
    for row in read_catalog("gbt47678_5"):
        layer.update({f"manual/{row.kind}/{row.code}/{leaf}": v for leaf, v in _row(row).items()})
    return layer


def assessment_layer() -> dict[str, Any]:
    """Weights (each subject sums to 100), grades, volume steps and formula options."""
    layer: dict[str, Any] = {}
    for subject, weights in ASSESSMENT.items():
        layer.update({f"assessment/{subject}/weight/{ind}": w for ind, w in weights.items()})
        layer.update({f"assessment/{subject}/grade/{g}": low for g, low in GRADES.items()})
        if "volume" in weights:
            layer[f"assessment/{subject}/volume_steps"] = [list(step) for step in VOLUME_STEPS]
    layer.update({f"assessment/options/{name}": value for name, value in OPTIONS.items()})
    return layer
