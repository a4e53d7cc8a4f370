"""The grammar of standards entries: which paths exist in each kind and what values they take.

An entry is a leaf: a stable, slash-separated path and a JSON value. A layer stores entries only
where it changes something, so paths never move. Codes are category codes (``01001`` GB/T
47678.5-2026, ``0101`` the legacy GB/T 30428.2) with an optional local sub-item suffix (``06012-01``);
``{kind}`` is ``component`` (部件) or ``matter`` (事件/事项).

- ``catalog/edition``: ``gbt47678_5`` or ``gbt30428`` (which codes are in use)
- ``catalog/{kind}/{major}/name``: major class name (大类), two digits
- ``catalog/{kind}/{code}/name``: minor class (小类) or local sub-item (细类) name
- ``catalog/{kind}/{legacy code}/maps_to``: crosswalk: the GB/T 47678.5 code with the same name
- ``manual/urgency/{level}``: urgency level label (``normal`` 一般, ``urgent`` 紧急 …)
- ``manual/{kind}/{code}/filing``: filing condition 立案条件 (text)
- ``manual/{kind}/{code}/closing``: closing condition 结案条件 (text)
- ``manual/{kind}/{code}/responsible``: ``owner_first`` | ``territory_first`` | ``sector:<department type>``
- ``manual/{kind}/{code}/auto_dispatch``: ``true`` to dispatch to the suggested unit on filing (自动派遣)
- ``manual/{kind}/{code}/limit/{level}``: disposal time limit 处置时限 (``2wh``, ``1wd``, ``24h``)
- ``manual/{kind}/{code}/stage/{n}/name``: staged limit name (e.g. 责令停工)
- ``manual/{kind}/{code}/stage/{n}/limit``: staged limit
- ``manual/{kind}/{code}/step/{verify|check}``: step limit for verification 核实 / check 核查
- ``manual/{kind}/{code}/step/{file|dispatch}``: filing limit 立案时限 (from the moment the case is
  ready to file) / dispatch limit 派遣时限 (from filing, or a return to a dispatch queue)
- ``manual/{kind}/{code}/duplicate/radius_m``: duplicate radius in metres
- ``manual/{kind}/{code}/duplicate/window``: duplicate window (a limit)
- ``manual/default/…``: the same leaves as a class, used where a class has none
- ``assessment/{subject}/weight/{indicator}``: weight of an indicator (weights of a subject sum to 100)
- ``assessment/{subject}/grade/{A|B|C|D}``: lowest composite score for the grade (E below D)
- ``assessment/{subject}/volume_steps``: count-to-score steps ``[[at_least, score], …]``
- ``assessment/options/{option}``: formula options (see ``ASSESSMENT_OPTIONS``)
- ``calendar/timezone``: IANA zone (``Asia/Shanghai``)
- ``calendar/hours``: working periods ``[["08:30","12:00"], ["13:30","17:30"]]``
- ``calendar/holiday/{YYYY-MM-DD}``: a day off (法定节假日) with its name
- ``calendar/workday/{YYYY-MM-DD}``: a make-up working day (调休上班) with its name
- ``calendar/closure/{id}``: local closure ``{"from": iso, "to": iso, "reason": text}``
- ``calendar/natural_time``: urgency levels counted in natural time (24-hour regime)
- ``template/{name}/label``: an onboarding template's name for people (分类指导模板)
- ``template/{name}/levels``: the tenant levels it applies to (``municipal_district`` …)
- ``template/{name}/supervision``: ``city`` | ``own`` | ``two_level`` (监督模式)
- ``template/{name}/command``: ``city`` | ``own`` | ``own_with_city_backing`` (指挥模式)
- ``template/{name}/scope``: ``whole`` (the whole division) or ``built_up`` (建成区 only)
- ``template/{name}/roles``: realm roles the division's staff are given
- ``template/{name}/unit/{code}``: a unit to create, ``{"name", "kind": "sector", "sector", "classes"}``;
  ``{county}`` in the name becomes the division's name
- ``template/{name}/territorial``: ``true``: one territorial unit (属地单位) per street or town
- ``template/{name}/override/{standards path}``: an entry of the division's own standards layer
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tenants.standards.worktime import Limit

__all__ = [
    "ASSESSMENT_OPTIONS",
    "INDICATORS",
    "SUBJECTS",
    "Kind",
    "Order",
    "PathRule",
    "check_entry",
    "rule_for",
]


class Kind(enum.StrEnum):
    """The four kinds of standards document."""

    CATALOG = "catalog"  # 部件事件分类
    MANUAL = "manual"  # 处置手册 / 立结案标准
    ASSESSMENT = "assessment"  # 绩效评价规则
    CALENDAR = "calendar"  # 工作日历
    TEMPLATE = "template"  # 接入模板（分类指导）: how a new division is set up

    @property
    def label(self) -> str:
        return {
            "catalog": "部件事件分类",
            "manual": "处置手册",
            "assessment": "评价规则",
            "calendar": "工作日历",
            "template": "接入模板",
        }[self.value]


class Order(enum.Enum):
    """How ``tighten_only`` compares a lower value with the upper one."""

    SHRINK = "may shrink, not grow"  # limits and numbers
    GROW = "may gain entries, not lose them"  # lists
    NONE = "has no order, so it may not change"  # text and choices


# Indicators (domain.md §6) and whether a higher rate is better. A lower-is-better rate is scored as
# (1 − rate): public implementations that forget this invert the ranking.
INDICATORS: dict[str, tuple[str, bool]] = {
    "volume": ("工作量", True),
    "disposal_rate": ("处置率", True),
    "ontime_disposal_rate": ("按期处置率", True),
    "rework_rate": ("返工率", False),
    "overdue_pending_rate": ("超期待处置率", False),
    "postpone_rate": ("延期率", False),
    "closing_rate": ("结案率", True),
    "ontime_closing_rate": ("按期结案率", True),
    "valid_report_rate": ("有效上报率", True),
    "missed_report_rate": ("漏报率", False),
    "ontime_verify_rate": ("按期核实率", True),
    "ontime_check_rate": ("按期核查率", True),
    "ontime_filing_rate": ("按时立案率", True),
    "accurate_filing_rate": ("准确立案率", True),
    "ontime_dispatch_rate": ("按时派遣率", True),
    "accurate_dispatch_rate": ("准确派遣率", True),
}
SUBJECTS: dict[str, str] = {
    "department": "专业部门",
    "region": "区域",
    "supervisor": "监督员",
    "intake": "受理员",
    "shift_lead": "值班长",
    "dispatcher": "派遣员",
}
ASSESSMENT_OPTIONS: dict[str, tuple[str, ...]] = {
    # 返工率 denominator: due-to-close (national text) or disposed (some cities)
    "rework_denominator": ("due_to_close", "disposed"),
    # 按期结案率: subtract approved deferrals from the denominator or not
    "ontime_closing_denominator": ("due_to_close", "due_to_close_minus_deferred"),
}

Check = Callable[[Any], str | None]  # None when the value is fine, else the rule it breaks


@dataclass(frozen=True, slots=True)
class PathRule:
    pattern: re.Pattern[str]
    describe: str  # what the value must be, for error messages
    check: Check
    order: Order
    key: Check | None = None  # checks the last path segment, where its shape alone is not enough


_CODE = r"(?:\d{4}|\d{5})(?:-\d{2})?"
_KIND = r"(?:component|matter)"
_LEVEL = r"[a-z][a-z0-9_]{0,23}"


def _text(limit: int) -> Check:
    def check(v: Any) -> str | None:
        if not isinstance(v, str) or not v.strip():
            return "must be non-empty text"
        return f"must be at most {limit} characters" if len(v) > limit else None

    return check


def _limit(v: Any) -> str | None:
    if not isinstance(v, str):
        return 'must be a time limit such as "2wh", "1wd", "30wmin" or "24h"'
    try:
        Limit.parse(v)
    except ValueError as exc:
        return str(exc)
    return None


def _number(low: float, high: float) -> Check:
    def check(v: Any) -> str | None:
        if isinstance(v, bool) or not isinstance(v, int | float) or not low <= v <= high:
            return f"must be a number from {low:g} to {high:g}"
        return None

    return check


def _choice(*options: str) -> Check:
    def check(v: Any) -> str | None:
        return None if v in options else "must be one of " + ", ".join(options)

    return check


def _boolean(v: Any) -> str | None:
    return None if isinstance(v, bool) else "must be true or false"


def _responsible(v: Any) -> str | None:
    if v in ("owner_first", "territory_first"):
        return None
    if isinstance(v, str) and v.startswith("sector:") and 0 < len(v[7:].strip()) <= 32:
        return None
    return 'must be "owner_first", "territory_first" or "sector:<department type>"'


def _code5(v: Any) -> str | None:
    return (
        None if isinstance(v, str) and re.fullmatch(r"\d{5}", v) else "must be a five-digit GB/T 47678.5 code"
    )


def _hours(v: Any) -> str | None:
    bad = 'must be working periods such as [["08:30", "12:00"], ["13:30", "17:30"]], in order'
    if not isinstance(v, list) or not v:
        return bad
    last = time.min
    for period in v:
        if not (isinstance(period, list) and len(period) == 2 and all(isinstance(p, str) for p in period)):
            return bad
        try:
            start, end = (time.fromisoformat(p) for p in period)
        except ValueError:
            return bad
        if not last <= start < end:
            return bad
        last = end
    return None


def _zone(v: Any) -> str | None:
    try:
        ZoneInfo(v)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        return "must be an IANA time zone such as Asia/Shanghai"
    return None


def _closure(v: Any) -> str | None:
    bad = 'must be {"from": ISO datetime with offset, "to": later ISO datetime, "reason": text}'
    if not isinstance(v, dict) or set(v) != {"from", "to", "reason"} or _text(200)(v["reason"]):
        return bad
    try:
        start, end = datetime.fromisoformat(v["from"]), datetime.fromisoformat(v["to"])
    except (TypeError, ValueError):
        return bad
    return None if start.tzinfo and end.tzinfo and start < end else bad


def _levels(v: Any) -> str | None:
    ok = isinstance(v, list) and all(isinstance(x, str) and re.fullmatch(_LEVEL, x) for x in v)
    return None if ok and len(set(v)) == len(v) else "must be a list of distinct urgency level names"


def _steps(v: Any) -> str | None:
    bad = "must be [[at_least, score], …] with counts descending and scores from 0 to 100"
    if not isinstance(v, list) or not v:
        return bad
    previous = None
    for step in v:
        if not (isinstance(step, list) and len(step) == 2 and all(_number(0, 1e9)(x) is None for x in step)):
            return bad
        if step[1] > 100 or (previous is not None and step[0] >= previous):
            return bad
        previous = step[0]
    return None


def _date_key(segment: Any) -> str | None:
    try:
        date.fromisoformat(segment)
    except ValueError:
        return "the last segment must be a real date YYYY-MM-DD"
    return None


_TEMPLATE = r"template/[a-z][a-z0-9-]{0,23}"
TENANT_LEVELS = ("province", "prefecture_city", "municipal_district", "county_city", "county")
_UNIT_SPEC_KEYS = {"name", "kind", "sector", "classes"}
_UNIT_CLASS = re.compile(r"(component|matter):\d{2}(\d{2,3}(-\d{2})?)?")


def _tenant_levels(v: Any) -> str | None:
    ok = isinstance(v, list) and v and all(x in TENANT_LEVELS for x in v) and len(set(v)) == len(v)
    return None if ok else "must be a non-empty list of distinct levels: " + ", ".join(TENANT_LEVELS)


def _role_names(v: Any) -> str | None:
    ok = isinstance(v, list) and all(isinstance(x, str) and re.fullmatch(r"[a-z][a-z_]{0,31}", x) for x in v)
    return None if ok and len(set(v)) == len(v) else "must be a list of distinct role names"


def _unit_spec(v: Any) -> str | None:
    bad = 'must be {"name": text, "kind": "sector", "sector": text, "classes": ["matter:06", …]}'
    if not isinstance(v, dict) or not {"name", "kind"} <= set(v) <= _UNIT_SPEC_KEYS:
        return bad
    if _text(64)(v["name"]) or v["kind"] != "sector" or _text(32)(v.get("sector")):
        return bad
    classes = v.get("classes", [])
    if not isinstance(classes, list) or not all(
        isinstance(c, str) and _UNIT_CLASS.fullmatch(c) for c in classes
    ):
        return bad
    return None


def _unit_code(segment: Any) -> str | None:
    ok = isinstance(segment, str) and re.fullmatch(r"[A-Za-z0-9_-]{1,32}", segment)
    return None if ok else "the unit code must be 1-32 letters, digits, '_' or '-'"


_IND = "|".join(INDICATORS)
_SUBJ = "|".join(SUBJECTS)
_OPT = "|".join(ASSESSMENT_OPTIONS)

_RULES: list[tuple[str, str, Check, Order] | tuple[str, str, Check, Order, Check]] = [
    (r"catalog/edition", "the catalogue edition", _choice("gbt47678_5", "gbt30428"), Order.NONE),
    (rf"catalog/{_KIND}/\d{{2}}/name", "a major class name", _text(64), Order.NONE),
    (rf"catalog/{_KIND}/{_CODE}/name", "a class name", _text(64), Order.NONE),
    (rf"catalog/{_KIND}/\d{{4}}/maps_to", "a crosswalk code", _code5, Order.NONE),
    (rf"manual/urgency/{_LEVEL}", "an urgency level label", _text(16), Order.NONE),
    (rf"manual/(?:{_KIND}/{_CODE}|default)/(?:filing|closing)", "a condition", _text(500), Order.NONE),
    (rf"manual/(?:{_KIND}/{_CODE}|default)/responsible", "a routing rule", _responsible, Order.NONE),
    (rf"manual/(?:{_KIND}/{_CODE}|default)/auto_dispatch", "a yes/no", _boolean, Order.NONE),
    (rf"manual/(?:{_KIND}/{_CODE}|default)/limit/{_LEVEL}", "a time limit", _limit, Order.SHRINK),
    (rf"manual/(?:{_KIND}/{_CODE}|default)/stage/\d{{1,2}}/name", "a stage name", _text(32), Order.NONE),
    (rf"manual/(?:{_KIND}/{_CODE}|default)/stage/\d{{1,2}}/limit", "a time limit", _limit, Order.SHRINK),
    (
        rf"manual/(?:{_KIND}/{_CODE}|default)/step/(?:verify|check|file|dispatch)",
        "a step limit",
        _limit,
        Order.SHRINK,
    ),
    (rf"manual/(?:{_KIND}/{_CODE}|default)/duplicate/radius_m", "a radius", _number(0, 5000), Order.NONE),
    (rf"manual/(?:{_KIND}/{_CODE}|default)/duplicate/window", "a time window", _limit, Order.NONE),
    (rf"assessment/(?:{_SUBJ})/weight/(?:{_IND})", "a weight", _number(0, 100), Order.NONE),
    (rf"assessment/(?:{_SUBJ})/grade/[ABCD]", "a grade threshold", _number(0, 100), Order.NONE),
    (rf"assessment/(?:{_SUBJ})/volume_steps", "count-to-score steps", _steps, Order.NONE),
    (r"calendar/timezone", "a time zone", _zone, Order.NONE),
    (r"calendar/hours", "working periods", _hours, Order.NONE),
    (r"calendar/(?:holiday|workday)/\d{4}-\d{2}-\d{2}", "a day's name", _text(32), Order.NONE, _date_key),
    (r"calendar/closure/[a-z0-9][a-z0-9_-]{0,31}", "a local closure", _closure, Order.NONE),
    (r"calendar/natural_time", "urgency levels", _levels, Order.GROW),
    (rf"{_TEMPLATE}/label", "a template name", _text(32), Order.NONE),
    (rf"{_TEMPLATE}/levels", "tenant levels", _tenant_levels, Order.NONE),
    (rf"{_TEMPLATE}/supervision", "a supervision mode", _choice("city", "own", "two_level"), Order.NONE),
    (
        rf"{_TEMPLATE}/command",
        "a command mode",
        _choice("city", "own", "own_with_city_backing"),
        Order.NONE,
    ),
    (rf"{_TEMPLATE}/scope", "a coverage scope", _choice("whole", "built_up"), Order.NONE),
    (rf"{_TEMPLATE}/roles", "role names", _role_names, Order.GROW),
    (rf"{_TEMPLATE}/unit/[A-Za-z0-9_-]{{1,32}}", "a unit", _unit_spec, Order.NONE, _unit_code),
    (rf"{_TEMPLATE}/territorial", "a yes/no", _boolean, Order.NONE),
]
_OPTION_RULES = [
    (rf"assessment/options/{name}", "a formula option", _choice(*choices), Order.NONE)
    for name, choices in ASSESSMENT_OPTIONS.items()
]
RULES = [PathRule(re.compile(r[0]), *r[1:]) for r in [*_RULES, *_OPTION_RULES]]
_OVERRIDE = re.compile(rf"^{_TEMPLATE}/override/(?P<inner>(?P<kind>[a-z]+)/.+)$")
_PATH_SHAPE = re.compile(r"^[a-z]+(?:/[A-Za-z0-9_.:-]+)+$")


def rule_for(path: str) -> PathRule | None:
    """The rule of a leaf path, or None if the path is not part of the grammar (a template's
    override is held to the rule of the standards path it overrides)."""
    if (found := _OVERRIDE.match(path)) and found["kind"] != Kind.TEMPLATE.value:
        path = found["inner"]
    for rule in RULES:
        if rule.pattern.fullmatch(path):
            return rule
    return None


def is_prefix(path: str) -> bool:
    """Policies may sit on a prefix (``manual/component/01001``) and then govern every leaf below."""
    return bool(_PATH_SHAPE.match(path))


def check_entry(kind: Kind, path: str, value: Any) -> str | None:
    """The rule ``value`` at ``path`` breaks, or None. Paths must start with their kind."""
    if not path.startswith(kind.value + "/"):
        return f"paths of the {kind.value} document start with '{kind.value}/'"
    if kind is Kind.TEMPLATE and (found := _OVERRIDE.match(path)):
        inner = found["kind"]
        if inner not in Kind._value2member_map_ or inner == Kind.TEMPLATE.value:
            return "an override names a standards path: catalog/…, manual/…, assessment/… or calendar/…"
        return check_entry(Kind(inner), found["inner"], value)
    rule = rule_for(path)
    if rule is None:
        return "unknown path: see the path grammar in docs/standards.md"
    if rule.key and (bad := rule.key(path.rsplit("/", 1)[1])):
        return bad
    return rule.check(value)
