"""Seeded performance profiles without a database: the same seed and code give the same profile,
a level turns into the mix by hand-computed factors, the monthly wave, and the periods counted."""

from __future__ import annotations

from dataclasses import fields, replace

import pytest

from citylead.history.count import periods_touched
from citylead.history.profile import (
    DIVISION_FACTORS,
    MAX_RATE,
    SHAPE,
    SWING,
    UNIT_FACTORS,
    UNIT_SPREAD,
    USUAL,
    Mix,
    Profile,
    month_index,
    profile_of,
    unit_offset,
)

# 2026-01 is month 24,312 since year 0: a multiple of 24, so a 24-month wave with phase 0 is at 0
JANUARY = "2026-01"
FLAT = Profile("341302", 0.5, period=24, phase=0.0)
PROFILED = set(DIVISION_FACTORS) | set(UNIT_FACTORS)


def test_the_same_seed_and_code_give_the_same_profile() -> None:
    a = profile_of("citylead-demo", "341302")
    assert profile_of("citylead-demo", "341302") == a
    assert profile_of("citylead-demo", "341321") != a
    assert profile_of("another-seed", "341302") != a
    assert 0 <= a.level < 1
    assert 24 <= a.period <= 48
    assert unit_offset("s", "341302", "CGZF") == unit_offset("s", "341302", "CGZF")
    assert unit_offset("s", "341302", "CGZF") != unit_offset("s", "341300", "CGZF")


def test_the_best_level_takes_each_factor_at_its_lowest() -> None:
    best = Profile("341302", 0.0, period=24, phase=0.0).mix(USUAL, JANUARY)
    assert best.late_dispose == pytest.approx(0.12 * 0.4)  # 4.8 %
    assert best.linger == 0 and best.abandon == 0
    assert best.rework == pytest.approx(0.08 * 0.25)  # 2 %
    assert best.postpone == pytest.approx(0.06 * 0.33)
    assert best.late_verify == pytest.approx(0.08 * 0.25)
    assert best.void == pytest.approx(0.015 * 0.33)
    assert best.late_file == best.late_dispatch == pytest.approx(0.05 * 0.25)  # 1.25 %


def test_the_worst_level_takes_each_factor_at_its_highest() -> None:
    worst = Profile("341302", 1.0, period=24, phase=0.0).mix(USUAL, JANUARY)
    assert worst.late_dispose == pytest.approx(0.36)  # 0.12 × 3
    assert worst.linger == pytest.approx(0.35)  # 0.05 × 7
    assert worst.abandon == pytest.approx(0.20)  # 0.02 × 10
    assert worst.rework == pytest.approx(0.28)  # 0.08 × 3.5
    assert worst.late_check == pytest.approx(0.28)  # 0.07 × 4
    assert worst.late_file == worst.late_dispatch == pytest.approx(0.20)  # 0.05 × 4


def test_the_level_is_bent_by_the_shape() -> None:
    # level 0.5 → 0.5 ** 2.5 ≈ 0.1768 of the way: late 0.12 × (0.4 + 2.6 × 0.1768) ≈ 0.1032
    assert SHAPE == 2.5
    assert FLAT.mix(USUAL, JANUARY).late_dispose == pytest.approx(0.12 * (0.4 + 2.6 * 0.5**2.5))


def test_other_fields_are_the_base_mix() -> None:
    base = Mix(refuse=0.2, verify=0.5, redispatch=0.1, return_=0.1, stay_parked=0.9)
    mixed = Profile("341302", 0.9, period=30, phase=0.3).mix(base, "2026-07")
    for f in fields(Mix):
        if f.name not in PROFILED:
            assert getattr(mixed, f.name) == getattr(base, f.name), f.name


def test_no_probability_goes_above_the_cap() -> None:
    busy = replace(USUAL, rework=0.3, late_dispose=0.3)
    worst = Profile("341302", 1.0, period=24, phase=0.0).mix(busy, JANUARY)
    assert worst.rework == MAX_RATE == 0.6  # 0.3 × 3.5 = 1.05, capped
    assert worst.late_dispose == MAX_RATE  # 0.3 × 3 = 0.9, capped


def test_the_level_follows_a_wave_month_by_month() -> None:
    assert month_index(JANUARY) == 24_312
    assert FLAT.level_in(JANUARY) == pytest.approx(0.5)
    assert FLAT.level_in("2026-07") == pytest.approx(0.5 + SWING)  # a quarter of the wave later
    assert FLAT.level_in("2027-01") == pytest.approx(0.5)
    assert FLAT.level_in("2027-07") == pytest.approx(0.5 - SWING)
    # kept inside [0, 1]
    assert Profile("x", 0.95, period=24, phase=0.0).level_in("2026-07") == 1.0
    assert Profile("x", 0.05, period=24, phase=0.0).level_in("2027-07") == 0.0


def test_a_unit_offset_moves_the_departments_work_only() -> None:
    division = FLAT.mix(USUAL, JANUARY)
    worse = FLAT.mix(USUAL, JANUARY, UNIT_SPREAD)  # level 0.65 for the unit's work
    assert worse.late_dispose == pytest.approx(0.12 * (0.4 + 2.6 * 0.65**2.5))
    assert worse.late_dispose > division.late_dispose
    assert (worse.void, worse.late_verify, worse.late_check) == (
        division.void,
        division.late_verify,
        division.late_check,
    )
    assert -UNIT_SPREAD <= unit_offset("citylead-demo", "320411", "CGZF") < UNIT_SPREAD


def test_levels_spread_over_many_divisions() -> None:
    """Hashes of 2,000 codes: uniform enough that the shape decides the spread (a mean 1/3.5 of the
    way, about one division in five past 60 % of it)."""
    bent = [profile_of("citylead-demo", f"{320000 + i:06d}").level ** SHAPE for i in range(2000)]
    assert sum(bent) / len(bent) == pytest.approx(1 / 3.5, abs=0.02)
    assert 0.15 < sum(b > 0.6 for b in bent) / len(bent) < 0.22  # 1 − 0.6 ** 0.4 ≈ 0.185


def test_the_periods_counted_are_the_months_then_their_quarters_and_years() -> None:
    assert periods_touched(["2026-11", "2026-12", "2027-01"]) == [
        *("2026-11", "2026-12", "2027-01"),
        *("2026Q4", "2027Q1"),
        *("2026", "2027"),
    ]
    assert periods_touched(["2026-06", "2026-07"]) == ["2026-06", "2026-07", "2026Q2", "2026Q3", "2026"]
