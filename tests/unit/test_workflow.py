"""The workflow table: every state reachable, no dead ends, finals final, each action named once."""

from __future__ import annotations

import pytest

from citylead.cases.workflow import ACTIONS, State, allowed_actions, transition
from citylead.identity.principal import Role


def reachable(start: State) -> set[State]:
    seen, todo = {start}, [start]
    while todo:
        state = todo.pop()
        for name in allowed_actions(state):
            action = ACTIONS[name]
            for target in {action.target, action.target_for(escalated=True)}:
                if target not in seen:
                    seen.add(target)
                    todo.append(target)
    return seen


def test_every_state_is_reachable_from_a_report() -> None:
    assert reachable(State.REPORTED) | reachable(State.ACCEPTED) == set(State)


@pytest.mark.parametrize("state", [s for s in State if not s.final])
def test_no_open_state_is_a_dead_end(state: State) -> None:
    assert allowed_actions(state), state
    assert State.CLOSED in reachable(state) or State.VOIDED in reachable(state)


@pytest.mark.parametrize("state", [s for s in State if s.final])
def test_final_states_allow_nothing(state: State) -> None:
    assert allowed_actions(state) == []


def test_the_roles_of_domain_md() -> None:
    def who(name: str) -> set[Role]:
        return set(ACTIONS[name].roles)

    assert who("accept") == who("send_verify") == who("send_check") == {Role.INTAKE}
    assert who("file") == who("void") == who("close") == {Role.SHIFT_LEAD}
    assert (
        who("dispatch")
        == who("approve_return")
        == who("approve_postpone")
        == who("resume")
        == {Role.DISPATCHER}
    )
    assert who("dispose") == who("request_return") == who("request_park") == {Role.DEPARTMENT}
    assert who("verify") == who("check_pass") == who("check_fail") == who("self_handle") == {Role.SUPERVISOR}


def test_transitions() -> None:
    t = transition(State.CHECKING, "check_fail")
    assert t is not None and t.target is State.DISPATCHED
    assert transition(State.ACCEPTED, "close") is None
    assert transition(State.FILED, "no_such_action") is None
    approve = ACTIONS["approve_return"]
    assert approve.target_for(escalated=False) is State.FILED
    assert approve.target_for(escalated=True) is State.ESCALATED


def test_every_state_and_action_has_a_chinese_label() -> None:
    assert all(s.label and not s.label.isascii() for s in State)
    assert all(a.label and not a.label.isascii() for a in ACTIONS.values())
