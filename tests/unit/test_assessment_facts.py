"""Per-case assessment facts (``citylead.assessment.facts.case_facts``): pure, worked by hand.

Times are Beijing time on Monday 12 October 2026; ``T(h, m)`` is that day at h:m. Units are
``341502:CGZF`` and ``341502:HJWS``; the unit tenant id ``u-1`` maps to ``341502``.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from citylead.assessment.facts import (
    DEPARTMENT_COUNTERS,
    POST_COUNTERS,
    REGION_COUNTERS,
    Event,
    Fact,
    Place,
    case_facts,
)

SH = ZoneInfo("Asia/Shanghai")
CODES = {"u-1": "341502"}
SUPERVISED = Place("341502001001001", "341502001", "supervisor")
HOTLINE = Place(None, "341502001", "hotline_12345")


def T(h: int, m: int = 0, day: int = 12) -> datetime:
    return datetime(2026, 10, day, h, m, tzinfo=SH)


def E(action: str, at: datetime, actor: str, role: str | None = None, **data: object) -> Event:
    return Event(at, actor, role, action, **data)  # type: ignore[arg-type]


def read(facts: list[Fact], columns: tuple[str, ...]) -> list[dict[str, int]]:
    return [{c: f.counts[c] for c in columns if c in f.counts} for f in facts]


def test_a_closed_case_gives_one_fact_per_counted_moment() -> None:
    events = [
        E("report", T(9), "sup-1"),
        E("file", T(9, 30), "sl-1", "shift_lead"),
        E("dispatch", T(10), "disp-1", "dispatcher", due_at=T(16, 30), unit_tenant="u-1", unit_code="CGZF"),
        E("dispose", T(11), "dept-1", "department", overdue=False),
        E("send_check", T(11, 30), "in-1", "intake", due_at=T(12)),
        E("check_pass", T(11, 40), "sup-1", "supervisor"),
        E("close", T(14), "sl-1", "shift_lead", closing_type="normal"),
    ]
    facts = case_facts(events, SUPERVISED, CODES)
    assert [(f.at, f.regions, f.post, f.unit) for f in facts] == [
        (T(9), True, ("supervisor", "sup-1"), None),  # the report: regions and the reporter
        (T(9, 30), True, ("shift_lead", "sl-1"), None),
        (T(10), True, ("dispatcher", "disp-1"), "341502:CGZF"),  # the dispatch starts the clock
        (T(11, 30), False, ("intake", "in-1"), None),  # a post's own event: 工作量 only
        (T(11, 40), False, ("supervisor", "sup-1"), None),
        (T(14), False, ("shift_lead", "sl-1"), None),
        (T(12), True, ("supervisor", "sup-1"), None),  # the check task, due 12:00, answered 11:40
        (T(16, 30), True, None, "341502:CGZF"),  # the clock's due, with the case's closing
    ]
    assert facts[0].counts == {"reports": 1, "valid_reports": 1, "volume": 1}
    assert facts[1].counts == {"volume": 1, "filed": 1, "filed_on_time": 1}  # not public: no 漏报
    assert facts[2].counts == {"volume": 1, "dispatched": 1, "dispatched_on_time": 1}
    assert facts[6].counts == {"check_due": 1, "checked_on_time": 1}
    assert facts[7].counts == {
        "due_for_disposal": 1, "disposed": 1, "disposed_on_time": 1, "overdue_pending": 1,
        "due_to_close": 1, "closed": 1, "closed_on_time": 1,
    }  # fmt: skip
    assert facts[7].pending_until == T(11)  # pending only in a period that ends by 11:00


def test_each_subject_reads_only_its_own_counters() -> None:
    assert "volume" not in REGION_COUNTERS  # a region's 工作量 is its filed count
    assert "missed_reports" not in POST_COUNTERS
    assert "dispatched" not in DEPARTMENT_COUNTERS and "due_for_disposal" not in POST_COUNTERS
    assert set(POST_COUNTERS) & set(DEPARTMENT_COUNTERS) == {"volume"}


def test_a_voided_public_report() -> None:
    events = [
        E("accept", T(9), "in-1", "intake"),
        E("file", T(9, 30), "sl-1", "shift_lead"),
        E("void", T(10), "sl-1", "shift_lead"),
    ]
    facts = case_facts(events, HOTLINE, CODES)
    assert read(facts, REGION_COUNTERS) == [
        {"reports": 1},  # accepted, but voided: not valid
        {"filed": 1, "filed_on_time": 1, "voided": 1, "missed_reports": 1},
        {"filed": 1, "filed_on_time": 1},  # in-1's credit for the filing (a post's fact, no region)
        {},
    ]
    assert [f.regions for f in facts] == [True, True, False, False]
    assert read(facts, ("volume",)) == [{"volume": 1}, {"volume": 1}, {}, {"volume": 1}]  # own events only


def test_a_wrong_unit_and_a_late_disposal() -> None:
    """Dispatched to CGZF, redispatched to HJWS (CGZF's clock is not due for anyone), disposed late
    and never closed; the case is due to close with HJWS's clock."""
    events = [
        E("file", T(9), "sl-1", "shift_lead"),
        E("dispatch", T(9, 20), "disp-1", "dispatcher", due_at=T(15), unit_tenant="u-1", unit_code="CGZF"),
        E("redispatch", T(9, 30), "disp-1", "dispatcher", due_at=T(16), unit_tenant="u-1", unit_code="HJWS"),
        E("dispose", T(10, day=13), "dept-2", "department", overdue=True),
    ]
    facts = case_facts(events, SUPERVISED, CODES)
    dispatch, redispatch, due = facts[1], facts[2], facts[3]
    assert dispatch.counts["returned_wrong_unit"] == 1 and dispatch.unit == "341502:CGZF"
    assert redispatch.unit == "341502:HJWS" and redispatch.counts == {"volume": 1}
    assert (due.at, due.unit, due.pending_until) == (T(16), "341502:HJWS", T(10, day=13))
    assert due.counts == {
        "due_for_disposal": 1, "disposed": 1, "overdue_pending": 1, "due_to_close": 1,
    }  # fmt: skip
    assert len(facts) == 4


def test_an_open_clock_is_pending_whatever_the_period() -> None:
    events = [
        E("dispatch", T(10), "system:auto-dispatch", None, due_at=T(16), unit_tenant="u-9", unit_code="X"),
        E("approve_postpone", T(11), "disp-1", "dispatcher", due_at=T(16, day=13)),
    ]
    start, due = case_facts(events, SUPERVISED, CODES)[0], case_facts(events, SUPERVISED, CODES)[-1]
    assert (
        start.post is None and start.unit == "u-9:X" and start.counts["volume"] == 1
    )  # unknown tenant: its id
    assert due.at == T(16, day=13) and due.pending_until is None
    assert due.counts["postponed"] == due.counts["deferred_approved"] == 1


def test_a_report_entered_by_another_post_counts_for_the_reporter_apart() -> None:
    facts = case_facts([E("report", T(9), "sup-1", "intake")], SUPERVISED, CODES)
    assert [(f.post, f.regions, f.counts) for f in facts] == [
        (("supervisor", "sup-1"), True, {"reports": 1, "volume": 1}),
        (("intake", "sup-1"), False, {"volume": 1}),
    ]


# --- 按时立案 and 按时派遣: the filing and dispatch limits pinned on the events --------------------------


def _ontime(facts: list[Fact]) -> list[tuple[datetime, dict[str, int]]]:
    """(at, counts) of the filing and dispatch facts, with their on-time counters."""
    names = ("filed", "filed_on_time", "dispatched", "dispatched_on_time")
    return [
        (f.at, {n: f.counts[n] for n in names if n in f.counts})
        for f in facts
        if "filed" in f.counts or "dispatched" in f.counts
    ]


def test_a_filing_and_a_dispatch_at_their_deadlines_are_on_time() -> None:
    """Reported 9:00 (filing due 9:30), filed 9:30 (dispatch due 10:00), dispatched 10:00: both
    exactly at the deadline, so both on time (at or before)."""
    events = [
        E("report", T(9), "sup-1", due_at=T(9, 30)),
        E("file", T(9, 30), "sl-1", "shift_lead", due_at=T(10)),
        E("dispatch", T(10), "disp-1", "dispatcher", due_at=T(16, 30), unit_tenant="u-1", unit_code="CGZF"),
    ]
    assert _ontime(case_facts(events, SUPERVISED, CODES)) == [
        (T(9, 30), {"filed": 1, "filed_on_time": 1}),
        (T(10), {"dispatched": 1, "dispatched_on_time": 1}),
    ]


def test_a_late_filing_and_a_late_dispatch() -> None:
    """Filing due 9:30, filed 9:31; dispatch due 10:01, dispatched 10:15: both late, both still
    counted in 立案数 and 派遣数 (the denominators)."""
    events = [
        E("report", T(9), "sup-1", due_at=T(9, 30)),
        E("file", T(9, 31), "sl-1", "shift_lead", due_at=T(10, 1)),
        E("dispatch", T(10, 15), "disp-1", "dispatcher", due_at=T(17), unit_tenant="u-1", unit_code="CGZF"),
    ]
    facts = case_facts(events, SUPERVISED, CODES)
    assert _ontime(facts) == [(T(9, 31), {"filed": 1}), (T(10, 15), {"dispatched": 1})]
    assert facts[1].post == ("shift_lead", "sl-1") and facts[2].post == ("dispatcher", "disp-1")


def test_a_public_report_is_ready_to_file_when_accepted() -> None:
    """A public report pins nothing: the filing limit starts at ``accept`` (due 9:40) or ``verify``."""
    accepted = [
        E("report", T(9), "hotline"),
        E("accept", T(9, 10), "in-1", "intake", due_at=T(9, 40)),
        E("file", T(9, 50), "sl-1", "shift_lead"),
    ]
    verified = [
        E("report", T(9), "hotline"),
        E("send_verify", T(9, 10), "in-1", "intake", due_at=T(10, 10)),
        E("verify", T(10), "sup-1", "supervisor", due_at=T(10, 30)),
        E("file", T(10, 30), "sl-1", "shift_lead"),
    ]
    assert _ontime(case_facts(accepted, HOTLINE, CODES)) == [(T(9, 50), {"filed": 1})] * 2  # 10 min late
    assert (
        _ontime(case_facts(verified, HOTLINE, CODES)) == [(T(10, 30), {"filed": 1, "filed_on_time": 1})] * 2
    )


def test_a_filing_counts_for_the_intake_operator_who_registered_the_case() -> None:
    """The shift lead's fact carries the regions; the intake operator's (in-2 sent it to
    verification after in-1 accepted it) only their 立案数 and 按时立案数; a supervisor's own report
    credits no intake operator."""
    events = [
        E("report", T(9), "hotline"),
        E("accept", T(9, 5), "in-1", "intake", due_at=T(9, 35)),
        E("send_verify", T(9, 10), "in-2", "intake", due_at=T(10, 10)),
        E("verify", T(10), "sup-1", "supervisor", due_at=T(10, 30)),
        E("file", T(10, 45), "sl-1", "shift_lead"),  # 15 minutes late
    ]
    filed = [f for f in case_facts(events, HOTLINE, CODES) if "filed" in f.counts]
    assert [(f.post, f.regions, f.counts) for f in filed] == [
        (("shift_lead", "sl-1"), True, {"volume": 1, "filed": 1, "missed_reports": 1}),  # late
        (("intake", "in-2"), False, {"filed": 1}),
    ]
    own = [E("report", T(9), "sup-1"), E("file", T(9, 10), "sl-1", "shift_lead")]
    assert [f.post for f in case_facts(own, SUPERVISED, CODES) if "filed" in f.counts] == [
        ("shift_lead", "sl-1")
    ]


def test_each_dispatch_is_timed_from_the_last_return_to_a_queue() -> None:
    """Filed 9:00 (due 9:30), dispatched 9:20: on time. Returned 10:00 (due 10:30), dispatched again
    10:45: late, timed from the return, not from the filing. Returned again 10:55 and escalated
    11:00 (due 11:30), sent back by the city 13:40 (due 14:10), dispatched 14:00: on time, timed
    from the send-back."""
    unit = {"unit_tenant": "u-1", "unit_code": "CGZF"}
    events = [
        E("file", T(9), "sl-1", "shift_lead", due_at=T(9, 30)),
        E("dispatch", T(9, 20), "disp-1", "dispatcher", due_at=T(15), **unit),
        E("request_return", T(9, 50), "dept-1", "department"),
        E("approve_return", T(10), "disp-1", "dispatcher", due_at=T(10, 30)),
        E("dispatch", T(10, 45), "disp-1", "dispatcher", due_at=T(16), **unit),
        E("request_return", T(10, 50), "dept-1", "department"),
        E("approve_return", T(10, 55), "disp-1", "dispatcher", due_at=T(11, 25)),
        E("escalate", T(11), "disp-1", "dispatcher", due_at=T(11, 30)),
        E("send_back", T(13, 40), "disp-city", "dispatcher", due_at=T(14, 10)),
        E("dispatch", T(14), "disp-2", "dispatcher", due_at=T(17), **unit),
    ]
    assert _ontime(case_facts(events, SUPERVISED, CODES)) == [
        (T(9), {"filed": 1, "filed_on_time": 1}),
        (T(9, 20), {"dispatched": 1, "dispatched_on_time": 1}),
        (T(10, 45), {"dispatched": 1}),
        (T(14), {"dispatched": 1, "dispatched_on_time": 1}),
    ]


def test_a_case_without_pinned_deadlines_counts_on_time() -> None:
    """History written before the filing and dispatch limits existed pins none: filed a day after
    the report and dispatched a day after filing, still on time (as it always was)."""
    events = [
        E("report", T(9), "sup-1"),
        E("file", T(9, day=13), "sl-1", "shift_lead"),
        E("dispatch", T(9, day=14), "disp-1", "dispatcher", due_at=T(16, day=14), unit_code="X"),
    ]
    assert _ontime(case_facts(events, SUPERVISED, CODES)) == [
        (T(9, day=13), {"filed": 1, "filed_on_time": 1}),
        (T(9, day=14), {"dispatched": 1, "dispatched_on_time": 1}),
    ]
