"""The closed loop (闭环) as data: states, actions, who may take each, and where it leads.

Nothing else in the code decides whether a transition is legal: :func:`transition` looks it up
here. Guards that need the case or the payload (a reason, a unit, the actor's own unit) live
in :mod:`citylead.cases.actions`, keyed by the ``needs`` of each action.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from citylead.identity.principal import Role

__all__ = ["ACTIONS", "Action", "Needs", "State", "Transition", "allowed_actions", "transition"]


class State(enum.StrEnum):
    REPORTED = "reported"  # 待受理
    VERIFYING = "verifying"  # 待核实
    ACCEPTED = "accepted"  # 待立案
    FILED = "filed"  # 待派遣
    ESCALATED = "escalated"  # 疑难上报（市指挥中心）
    DISPATCHED = "dispatched"  # 处置中
    RETURN_REQUESTED = "return_requested"  # 回退申请中
    POSTPONE_REQUESTED = "postpone_requested"  # 延期申请中
    PARK_REQUESTED = "park_requested"  # 挂账申请中
    PARKED = "parked"  # 挂账
    DISPOSED = "disposed"  # 待核查
    CHECKING = "checking"  # 核查中
    CHECKED = "checked"  # 待结案
    CLOSED = "closed"  # 已结案
    REFUSED = "refused"  # 不予受理
    VOIDED = "voided"  # 已作废

    @property
    def label(self) -> str:
        return _STATE_LABELS[self]

    @property
    def final(self) -> bool:
        return self in (State.CLOSED, State.REFUSED, State.VOIDED)


_STATE_LABELS = {
    State.REPORTED: "待受理",
    State.VERIFYING: "待核实",
    State.ACCEPTED: "待立案",
    State.FILED: "待派遣",
    State.ESCALATED: "疑难上报",
    State.DISPATCHED: "处置中",
    State.RETURN_REQUESTED: "回退申请中",
    State.POSTPONE_REQUESTED: "延期申请中",
    State.PARK_REQUESTED: "挂账申请中",
    State.PARKED: "挂账",
    State.DISPOSED: "待核查",
    State.CHECKING: "核查中",
    State.CHECKED: "待结案",
    State.CLOSED: "已结案",
    State.REFUSED: "不予受理",
    State.VOIDED: "已作废",
}


class Needs(enum.StrEnum):
    """What an action needs beyond the role (checked in ``actions``)."""

    REASON = "reason"  # a non-empty reason
    UNIT = "unit"  # a unit to dispatch to (or the routing suggestion)
    OWN_UNIT = "own_unit"  # the actor acts for the assigned unit
    COMMAND = "command"  # the actor's tenant holds the case's command (county, or city if escalated)
    CASE_TENANT = "case_tenant"  # the actor's tenant is the case's county
    DURATION = "duration"  # a requested postponement (a working-time limit, e.g. "1wd")
    FEEDBACK = "feedback"  # a disposal feedback text
    OWN_REPORT = "own_report"  # the supervisor reported the case
    CITY_ABOVE = "city_above"  # the county has a city above to escalate to


@dataclass(frozen=True)
class Action:
    name: str
    label: str
    sources: frozenset[State]
    target: State
    roles: frozenset[Role]
    needs: frozenset[Needs]
    escalated_target: State | None = None  # where it leads when the city holds the case

    def target_for(self, *, escalated: bool) -> State:
        return self.escalated_target if escalated and self.escalated_target else self.target


def _a(name: str, label: str, sources: set[State], target: State, roles: set[Role], *needs: Needs) -> Action:
    return Action(name, label, frozenset(sources), target, frozenset(roles), frozenset(needs))


S, R, N = State, Role, Needs
_OPEN_BEFORE_DISPATCH = {S.REPORTED, S.VERIFYING, S.ACCEPTED, S.FILED}

ACTIONS: dict[str, Action] = {
    a.name: a
    for a in (
        _a("accept", "受理", {S.REPORTED}, S.ACCEPTED, {R.INTAKE}, N.CASE_TENANT),
        _a("refuse", "不予受理", {S.REPORTED}, S.REFUSED, {R.INTAKE}, N.CASE_TENANT, N.REASON),
        _a("send_verify", "派发核实", {S.REPORTED}, S.VERIFYING, {R.INTAKE}, N.CASE_TENANT),
        _a("verify", "核实属实", {S.VERIFYING}, S.ACCEPTED, {R.SUPERVISOR}, N.CASE_TENANT),
        _a("verify_false", "核实不属实", {S.VERIFYING}, S.REFUSED, {R.SUPERVISOR}, N.CASE_TENANT, N.REASON),
        _a("file", "立案", {S.ACCEPTED}, S.FILED, {R.SHIFT_LEAD}, N.CASE_TENANT),
        _a("void", "作废", _OPEN_BEFORE_DISPATCH, S.VOIDED, {R.SHIFT_LEAD}, N.CASE_TENANT, N.REASON),
        _a(
            "self_handle",
            "自处理",
            {S.ACCEPTED},
            S.CHECKED,
            {R.SUPERVISOR},
            N.CASE_TENANT,
            N.OWN_REPORT,
            N.FEEDBACK,
        ),
        _a("dispatch", "派遣", {S.FILED, S.ESCALATED}, S.DISPATCHED, {R.DISPATCHER}, N.COMMAND, N.UNIT),
        _a("redispatch", "改派", {S.DISPATCHED}, S.DISPATCHED, {R.DISPATCHER}, N.COMMAND, N.UNIT, N.REASON),
        _a("escalate", "疑难上报", {S.FILED}, S.ESCALATED, {R.DISPATCHER}, N.COMMAND, N.REASON, N.CITY_ABOVE),
        _a("send_back", "退回区县", {S.ESCALATED}, S.FILED, {R.DISPATCHER}, N.COMMAND, N.REASON),
        _a(
            "request_return",
            "申请回退",
            {S.DISPATCHED},
            S.RETURN_REQUESTED,
            {R.DEPARTMENT},
            N.OWN_UNIT,
            N.REASON,
        ),
        Action(
            "approve_return",
            "同意回退",
            frozenset({S.RETURN_REQUESTED}),
            S.FILED,
            frozenset({R.DISPATCHER}),
            frozenset({N.COMMAND}),
            escalated_target=S.ESCALATED,  # back to the city's queue, not the county's
        ),
        _a(
            "deny_return", "驳回回退", {S.RETURN_REQUESTED}, S.DISPATCHED, {R.DISPATCHER}, N.COMMAND, N.REASON
        ),
        _a(
            "request_postpone",
            "申请延期",
            {S.DISPATCHED},
            S.POSTPONE_REQUESTED,
            {R.DEPARTMENT},
            N.OWN_UNIT,
            N.REASON,
            N.DURATION,
        ),
        _a("approve_postpone", "同意延期", {S.POSTPONE_REQUESTED}, S.DISPATCHED, {R.DISPATCHER}, N.COMMAND),
        _a(
            "deny_postpone",
            "驳回延期",
            {S.POSTPONE_REQUESTED},
            S.DISPATCHED,
            {R.DISPATCHER},
            N.COMMAND,
            N.REASON,
        ),
        _a(
            "request_park", "申请挂账", {S.DISPATCHED}, S.PARK_REQUESTED, {R.DEPARTMENT}, N.OWN_UNIT, N.REASON
        ),
        _a("approve_park", "同意挂账", {S.PARK_REQUESTED}, S.PARKED, {R.DISPATCHER}, N.COMMAND),
        _a("deny_park", "驳回挂账", {S.PARK_REQUESTED}, S.DISPATCHED, {R.DISPATCHER}, N.COMMAND, N.REASON),
        _a("resume", "恢复处置", {S.PARKED}, S.DISPATCHED, {R.DISPATCHER}, N.COMMAND),
        _a("dispose", "处置反馈", {S.DISPATCHED}, S.DISPOSED, {R.DEPARTMENT}, N.OWN_UNIT, N.FEEDBACK),
        _a("send_check", "派发核查", {S.DISPOSED}, S.CHECKING, {R.INTAKE}, N.CASE_TENANT),
        _a("check_pass", "核查通过", {S.CHECKING}, S.CHECKED, {R.SUPERVISOR}, N.CASE_TENANT),
        _a(
            "check_fail",
            "核查不通过（返工）",
            {S.CHECKING},
            S.DISPATCHED,
            {R.SUPERVISOR},
            N.CASE_TENANT,
            N.REASON,
        ),
        _a("close", "结案", {S.CHECKED}, S.CLOSED, {R.SHIFT_LEAD}, N.CASE_TENANT),
    )
}


@dataclass(frozen=True)
class Transition:
    action: Action
    source: State
    target: State


def allowed_actions(state: State) -> list[str]:
    """The actions that may be taken from ``state`` (by someone), in table order."""
    return [a.name for a in ACTIONS.values() if state in a.sources]


def transition(state: State, action_name: str) -> Transition | None:
    """The transition ``action_name`` makes from ``state``, or None if it is not one (→ 409)."""
    action = ACTIONS.get(action_name)
    if action is None or state not in action.sources:
        return None
    return Transition(action, state, action.target)
