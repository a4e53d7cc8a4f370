"""Demo history without a database: the months asked for, the generated cases' mark, the in-memory
case row's defaults, and what a move hands to ``do_action``."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from citylead.cases.actions import Given
from citylead.history.generate import months_ending
from citylead.history.script import external_id
from citylead.history.simulate import CaseRow, Move
from citylead.identity.principal import Role
from tenants.errors import InvalidInput

SH = ZoneInfo("Asia/Shanghai")


def test_twelve_months_ending_november_cross_the_year() -> None:
    periods = months_ending("2026-11", 12)
    assert [p.label for p in periods][:2] == ["2025-12", "2026-01"]
    assert periods[-1].label == "2026-11"
    assert len(periods) == 12
    assert periods[0].start == datetime(2025, 12, 1, tzinfo=SH)
    assert periods[-1].end == datetime(2026, 12, 1, tzinfo=SH)


def test_months_need_a_month_and_a_positive_count() -> None:
    with pytest.raises(InvalidInput):
        months_ending("2026Q4", 3)
    with pytest.raises(InvalidInput):
        months_ending("2026-11", 0)


def test_generated_cases_are_marked_by_month() -> None:
    assert external_id("2026-03", 42) == "demo:2026-03:0000042"


def test_a_case_row_starts_like_a_fresh_database_row() -> None:
    a, b = CaseRow(state="accepted"), CaseRow(state="reported")
    assert (a.state, a.rework_count, a.overdue, a.step, a.paused, a.pending) == (
        "accepted",
        0,
        False,
        None,
        [],
        {},
    )
    a.paused.append(["x", None])
    assert b.paused == []  # no list shared between rows


def test_a_move_gives_what_the_actor_sent() -> None:
    at = datetime(2026, 3, 2, 10, tzinfo=SH)
    move = Move(
        "request_postpone", at, "department@341302", Role.DEPARTMENT, "341302", reason="协调", duration="1wd"
    )
    assert move.given == Given(reason="协调", duration="1wd")
