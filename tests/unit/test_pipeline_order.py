"""Which steps of an onboarding job wait for which: the chain, identity beside it, live last."""

from __future__ import annotations

from provisioning.pipeline import STEPS, prerequisites


def test_county_steps_wait_for_the_whole_chain_before_them() -> None:
    names = list(STEPS["county"])
    waits = {names[i]: [names[j] for j in prerequisites(names, i)] for i in range(len(names))}
    assert waits["validate"] == []
    assert waits["geography"] == ["validate", "plan", "tenant"]
    assert waits["identity"] == ["validate", "plan"]  # beside the imports
    # a step skipped early (standards, when the template overrides nothing) lets nothing jump ahead
    assert waits["smoke"] == ["validate", "plan", "tenant", "geography", "units", "inventory", "standards"]
    assert waits["live"] == names[:-1]  # identity included


def test_city_steps() -> None:
    names = list(STEPS["city"])
    assert [names[j] for j in prerequisites(names, names.index("standards"))] == [
        "validate",
        "plan",
        "tenant",
        "units",
    ]
    assert prerequisites(names, names.index("live")) == list(range(len(names) - 1))


def test_a_broken_database_rule_fails_the_step_for_good_naming_the_rule() -> None:
    from sqlalchemy.exc import IntegrityError

    from provisioning.pipeline import _conflict

    class Cause(Exception):
        constraint_name = "uq_units_street_territorial"

    orig = Exception("duplicate key")
    orig.__cause__ = Cause()
    error = _conflict(IntegrityError("INSERT INTO units …", {}, orig))
    assert error.status == 409
    assert "uq_units_street_territorial" in error.detail
    assert "(a uniqueness or reference rule)" in _conflict(IntegrityError("x", {}, Exception())).detail
