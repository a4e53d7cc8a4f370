"""Seeded performance profiles (绩效画像): how well each division and each department unit works,
so that the demo's scores spread from A to D as a real province's do.

A division's **level** is a number in [0, 1) drawn from a hash of (seed, division code): 0 works
best, 1 worst. It moves month by month along a slow wave (a trend: some divisions improve, some
slip) and, for the cases of one department unit, by the unit's own offset (a hash of (seed, unit
tenant code, unit code)). The level is bent by a power (``SHAPE``) so that most divisions work
well and a few badly, and each performance field of the mix is the base mix's value times a factor
from its best to its worst (``DIVISION_FACTORS``: the posts' voids and verification, check,
filing and dispatch delays; ``UNIT_FACTORS``: the department's late, lingering and abandoned
disposals, rework, postponement and parking). Everything else in the mix (sources, classes,
refusals, side paths other than these) is the same everywhere.

The profile belongs to the plan: both paths plan with it, so they still agree row for row.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, replace
from functools import cache

__all__ = [
    "DIVISION_FACTORS",
    "SHAPE",
    "UNIT_FACTORS",
    "USUAL",
    "Mix",
    "Profile",
    "month_index",
    "profile_of",
    "unit_offset",
]


@dataclass(frozen=True)
class Mix:
    """How often each path is taken (probabilities; docs/history.md): the base that a division's
    profile scales."""

    component: float = 0.35  # 部件 rather than 事件
    on_object: float = 0.35  # a component report names an inventory object
    refuse: float = 0.05  # public reports: 不予受理
    verify: float = 0.70  # public reports sent to verify (the rest accepted at once)
    verify_false: float = 0.10
    self_handle: float = 0.04  # supervisor reports handled on the spot
    void: float = 0.015
    redispatch: float = 0.03
    return_: float = 0.03
    return_approved: float = 0.7
    postpone: float = 0.06
    postpone_approved: float = 0.8
    park: float = 0.015
    stay_parked: float = 0.3
    late_verify: float = 0.08
    late_file: float = 0.05  # filed after the filing limit (立案超时)
    late_dispatch: float = 0.05  # dispatched after the dispatch limit (派遣超时)
    abandon: float = 0.02  # never disposed (积压)
    linger: float = 0.05  # disposed after the end of the month the clock fell due in
    late_dispose: float = 0.12  # disposed late within 1.05–2.5 × the limit
    late_check: float = 0.07
    rework: float = 0.08


USUAL = Mix()

SHAPE = 2.5
"""The level is raised to this power: at 2.5, more than half of the divisions take less than a
quarter of the way from best to worst, and about one in five more than 60 % of it (the mean is
1/3.5 of the way)."""
SWING = 0.12
"""How far the monthly wave moves a division's level (±, before the power)."""
UNIT_SPREAD = 0.15
"""How far a department unit's own offset moves the level of its cases (±, before the power)."""
MAX_RATE = 0.6
"""No probability of the mix goes above this, whatever the base mix and level."""

DIVISION_FACTORS: dict[str, tuple[float, float]] = {
    "void": (0.33, 3.0),  # 作废
    "late_verify": (0.25, 4.0),  # 核实超时
    "late_check": (0.25, 4.0),  # 核查超时
    "late_file": (0.25, 4.0),  # 立案超时
    "late_dispatch": (0.25, 4.0),  # 派遣超时
}
"""The division's own posts: the base mix's value times a factor from best to worst."""
UNIT_FACTORS: dict[str, tuple[float, float]] = {
    "late_dispose": (0.4, 3.0),  # 超期处置 (1.05–2.5 × the limit)
    "linger": (0.0, 7.0),  # 跨月超期: disposed after the end of the month the clock fell due in
    "abandon": (0.0, 10.0),  # 积压: never disposed
    "rework": (0.25, 3.5),  # 返工
    "postpone": (0.33, 3.3),  # 延期
    "park": (0.33, 2.5),  # 挂账
}
"""The department unit's work, as for ``DIVISION_FACTORS``."""


def _unit_interval(*parts: str) -> float:
    """A number in [0, 1) from a hash of ``parts`` (the same in every process and every run)."""
    digest = hashlib.blake2b(":".join(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def month_index(month: str) -> int:
    """Months since year 0 of a month label ``2026-11``."""
    return int(month[:4]) * 12 + int(month[5:7]) - 1


@dataclass(frozen=True)
class Profile:
    """One division's performance: its level, and the wave its level follows month by month."""

    code: str
    level: float  # [0, 1): 0 best
    period: int  # months of the wave
    phase: float  # [0, 1)

    def level_in(self, month: str) -> float:
        """The level in ``month`` (``2026-11``), in [0, 1]."""
        wave = math.sin(2 * math.pi * (month_index(month) / self.period + self.phase))
        return min(1.0, max(0.0, self.level + SWING * wave))

    def mix(self, base: Mix, month: str, offset: float = 0.0) -> Mix:
        """The mix of ``month``: the division's posts at its level, the department's work at the
        level moved by the unit's ``offset``."""
        level = self.level_in(month)
        unit = min(1.0, max(0.0, level + offset))
        return _mix(base, level**SHAPE, unit**SHAPE)


@cache
def _mix(base: Mix, division: float, unit: float) -> Mix:
    changed = {
        name: min(MAX_RATE, getattr(base, name) * (lo + (hi - lo) * bent))
        for factors, bent in ((DIVISION_FACTORS, division), (UNIT_FACTORS, unit))
        for name, (lo, hi) in factors.items()
    }
    return replace(base, **changed)


def profile_of(seed: str, code: str) -> Profile:
    """The profile of division ``code`` under ``seed``."""
    return Profile(
        code,
        level=_unit_interval(seed, code, "level"),
        period=24 + int(_unit_interval(seed, code, "period") * 25),  # two to four years
        phase=_unit_interval(seed, code, "phase"),
    )


def unit_offset(seed: str, tenant_code: str, unit_code: str) -> float:
    """A department unit's offset from its division's level, in [-UNIT_SPREAD, UNIT_SPREAD)."""
    return (2 * _unit_interval(seed, tenant_code, unit_code, "unit") - 1) * UNIT_SPREAD
