"""The counters behind every indicator (考核计数): what happened to one subject's cases in one period.

A subject is a department, a region (grid, street, county, city) or a post (supervisor, intake
operator, shift lead, dispatcher); a period is a month, a quarter or a year. The counts are read from
case events (``case_events``, docs/cases.md) by :mod:`citylead.assessment.rollup`, whose docstring
and docs/assessment.md say exactly which event makes each; this module only holds them. Each
denominator counts the cases that fell due to the subject in the period (应处置数, 应结案数 …) and each
numerator counts outcomes of **those same cases**, so a numerator never exceeds its denominator.
:func:`citylead.assessment.indicators.indicator` refuses counters that break this.

Counters add field by field (``+``), which is how months roll up to quarters and years, and grids
to streets and counties: ``sum(parts, Counters())``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from tenants.errors import FieldProblem, InvalidInput

__all__ = ["COUNTER_LABELS", "Counters"]


@dataclass(frozen=True, slots=True)
class Counters:
    """Non-negative counts of one subject in one period; every field defaults to 0."""

    # --- reports (上报), supervisors and intake operators -------------------------------------------
    reports: int = 0
    """上报数: a supervisor's ``report`` events; an intake operator's ``accept``, ``send_verify`` and
    ``refuse`` events (受理登记)."""
    valid_reports: int = 0
    """有效上报数: of ``reports``, the cases that reached ``file`` (立案) and were never ``void``-ed."""
    missed_reports: int = 0
    """漏报数: of ``filed`` in a region, cases a public source reported (``report`` with source
    hotline_12345, hotline_12319, hotline_110, open311, app, leader or media). Counted for regions
    only until supervisors are assigned grids."""

    # --- filing (立案), shift leads -----------------------------------------------------------------
    filed: int = 0
    """立案数: ``file`` events (by the shift lead; for a region or supervisor, the cases filed in it)."""
    voided: int = 0
    """作废数: of ``filed``, the cases later ``void``-ed (作废, from the filed state)."""
    filed_on_time: int = 0
    """按时立案数: of ``filed``, the ``file`` events at or before the filing deadline (立案时限) pinned
    when the case became ready to file (a supervisor's ``report``, ``accept``, ``verify``); a case
    that pinned none (reported before the limit existed) counts as on time."""

    # --- verification and check (核实, 核查), supervisors --------------------------------------------
    verify_due: int = 0
    """应核实数: verification tasks (``send_verify`` starts the verify clock) that fell due."""
    verified_on_time: int = 0
    """按期核实数: of ``verify_due``, ``verify`` / ``verify_false`` before the verify clock's ``due_at``."""
    check_due: int = 0
    """应核查数: check tasks (``send_check`` starts the check clock) that fell due."""
    checked_on_time: int = 0
    """按期核查数: of ``check_due``, ``check_pass`` / ``check_fail`` before the check clock's ``due_at``."""

    # --- dispatch (派遣), dispatchers ---------------------------------------------------------------
    dispatched: int = 0
    """派遣数: ``dispatch`` events (from filed, or from escalated at the city's centre); a ``redispatch``
    is not a new one."""
    dispatched_on_time: int = 0
    """按时派遣数: of ``dispatched``, the dispatches at or before the dispatch deadline (派遣时限) pinned
    when the case last entered a dispatch queue (``file``, ``approve_return``, ``escalate``,
    ``send_back``); a case that pinned none counts as on time."""
    returned_wrong_unit: int = 0
    """派遣错误数: of ``dispatched``, cases sent to the wrong unit: ``approve_return`` (回退) or
    ``redispatch`` (改派) away from the unit first chosen."""

    # --- disposal (处置), departments and regions ---------------------------------------------------
    due_for_disposal: int = 0
    """应处置数: cases whose disposal clock (``dispatch``, restarted by ``redispatch`` or a rework)
    fell due in the period for the subject's units."""
    disposed: int = 0
    """处置数: of ``due_for_disposal``, cases with a ``dispose`` event (处置反馈)."""
    disposed_on_time: int = 0
    """按期处置数: of ``due_for_disposal``, ``dispose`` before ``due_at`` (``dispose_overdue`` false;
    an approved postponement moves ``due_at``)."""
    overdue_pending: int = 0
    """超期待处置数: of ``due_for_disposal``, cases not disposed at the period's end and past ``due_at``
    (marked by the overdue sweep)."""
    postponed: int = 0
    """延期数: of ``due_for_disposal``, cases with an ``approve_postpone`` event (同意延期)."""
    rework: int = 0
    """返工数: of ``due_to_close``, cases with at least one ``check_fail`` (核查不通过, 返工)."""
    reworked_disposals: int = 0
    """返工处置数: of ``disposed``, the disposals rejected on check (the next event on the clock's
    case that starts a clock is a ``check_fail``). The numerator of 返工率 for cities that divide
    by the disposals (``rework_denominator = disposed``): ``rework`` counts cases due to close, and
    dividing it by disposals could exceed 1 (a case disposed last month, reworked this month)."""

    # --- closing (结案), regions and departments ----------------------------------------------------
    due_to_close: int = 0
    """应结案数: cases whose last disposal clock's ``due_at`` falls in the period."""
    closed: int = 0
    """结案数: of ``due_to_close``, cases with a ``close`` event (结案)."""
    closed_on_time: int = 0
    """按期结案数: of ``closed``, closings by the deadline as the case's clock keeps it (an approved
    postponement moves it): ``close`` with closing type ``normal`` 正常结案, not ``overdue``."""
    deferred_approved: int = 0
    """批准延期数: of ``due_to_close``, cases with an ``approve_postpone`` event."""
    deferred_closed_on_time: int = 0
    """延期按期结案数: of ``deferred_approved``, those counted in ``closed_on_time``. Cities that
    subtract deferrals take these out of the numerator as the others come out of the denominator."""

    # --- workload (工作量) ---------------------------------------------------------------------------
    volume: int = 0
    """工作量: the cases the subject worked, scored through ``volume_steps``: a department's
    disposal clocks started for its units, a region's ``file`` events (立案数), a post's own events."""

    def __post_init__(self) -> None:
        bad = [
            FieldProblem(f.name, "must be a whole number, at least 0", value)
            for f in fields(self)
            if isinstance(value := getattr(self, f.name), bool) or not isinstance(value, int) or value < 0
        ]
        if bad:
            raise InvalidInput("counters must be whole numbers, at least 0", errors=bad)

    def __add__(self, other: object) -> Counters:
        """Roll-up: month → quarter → year, grid → street → county (field-wise sum)."""
        if not isinstance(other, Counters):
            return NotImplemented
        return Counters(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)})

    def as_dict(self) -> dict[str, int]:
        """The counts by name, for export and for "the counters behind a score"."""
        return asdict(self)


COUNTER_LABELS: dict[str, str] = {
    "reports": "上报数",
    "valid_reports": "有效上报数",
    "missed_reports": "漏报数",
    "filed": "立案数",
    "voided": "作废数",
    "filed_on_time": "按时立案数",
    "verify_due": "应核实数",
    "verified_on_time": "按期核实数",
    "check_due": "应核查数",
    "checked_on_time": "按期核查数",
    "dispatched": "派遣数",
    "dispatched_on_time": "按时派遣数",
    "returned_wrong_unit": "派遣错误数",
    "due_for_disposal": "应处置数",
    "disposed": "处置数",
    "disposed_on_time": "按期处置数",
    "overdue_pending": "超期待处置数",
    "postponed": "延期数",
    "rework": "返工数",
    "reworked_disposals": "返工处置数",
    "due_to_close": "应结案数",
    "closed": "结案数",
    "closed_on_time": "按期结案数",
    "deferred_approved": "批准延期数",
    "deferred_closed_on_time": "延期按期结案数",
    "volume": "工作量",
}
"""The counters' names for people (exports, the dashboard), in field order."""
assert list(COUNTER_LABELS) == [f.name for f in fields(Counters)]
