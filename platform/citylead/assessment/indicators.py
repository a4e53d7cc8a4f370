"""Indicators (考核指标): counters → rates → indicator scores (domain.md §6, GB/T 30428.4).

Every rate keeps its numerator and denominator (and the counters they come from), so a score can
always be explained. Values are exact :class:`~fractions.Fraction` s; they are rounded only for
display (:meth:`Rate.percent`). A Decimal would not do: 2/3 has no exact decimal, and a composite
that is exactly 90 could come out as 89.999… and lose its A.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from citylead.assessment._numbers import exact, rounded
from citylead.assessment.counters import Counters
from tenants.errors import FieldProblem, InvalidInput
from tenants.standards.paths import ASSESSMENT_OPTIONS, INDICATORS

__all__ = ["FORMULAS", "Options", "Rate", "indicator", "score", "volume_score"]

Terms = tuple[str, ...]  # counter names, "-name" subtracted: ("filed", "-voided") is filed − voided


@dataclass(frozen=True, slots=True)
class Options:
    """The formula options of ``assessment/options/…`` (the first choice is the national text)."""

    rework_denominator: str = "due_to_close"  # or "disposed": reworked_disposals / disposed
    ontime_closing_denominator: str = "due_to_close"  # or "due_to_close_minus_deferred"

    def __post_init__(self) -> None:
        bad = [
            FieldProblem(f"assessment/options/{name}", "must be one of " + ", ".join(choices), value)
            for name, choices in ASSESSMENT_OPTIONS.items()
            if (value := getattr(self, name)) not in choices
        ]
        if bad:
            raise InvalidInput("unknown assessment option", errors=bad)


@dataclass(frozen=True, slots=True)
class Rate:
    """numerator / denominator. ``volume`` is a count, not a ratio: its denominator is 1."""

    numerator: int
    denominator: int
    numerator_of: str  # the counters behind it, e.g. "filed − voided"
    denominator_of: str  # e.g. "due_to_close − deferred_approved"; "" for the volume count

    @property
    def value(self) -> Fraction:
        return Fraction(self.numerator, self.denominator)

    def percent(self, places: int = 2) -> Decimal:
        """The rate in percent, rounded for display: 2/3 → ``Decimal("66.67")``."""
        return rounded(self.value * 100, places)


# indicator → (numerator, denominator); the two with options are resolved in _terms.
FORMULAS: dict[str, tuple[Terms, Terms]] = {
    "volume": (("volume",), ()),
    "disposal_rate": (("disposed",), ("due_for_disposal",)),
    "ontime_disposal_rate": (("disposed_on_time",), ("due_for_disposal",)),
    "rework_rate": (("rework",), ("due_to_close",)),
    "overdue_pending_rate": (("overdue_pending",), ("due_for_disposal",)),
    "postpone_rate": (("postponed",), ("due_for_disposal",)),
    "closing_rate": (("closed",), ("due_to_close",)),
    "ontime_closing_rate": (("closed_on_time",), ("due_to_close",)),
    "valid_report_rate": (("valid_reports",), ("reports",)),
    "missed_report_rate": (("missed_reports",), ("filed",)),
    "ontime_verify_rate": (("verified_on_time",), ("verify_due",)),
    "ontime_check_rate": (("checked_on_time",), ("check_due",)),
    "ontime_filing_rate": (("filed_on_time",), ("filed",)),
    "accurate_filing_rate": (("filed", "-voided"), ("filed",)),
    "ontime_dispatch_rate": (("dispatched_on_time",), ("dispatched",)),
    "accurate_dispatch_rate": (("dispatched", "-returned_wrong_unit"), ("dispatched",)),
}
assert set(FORMULAS) == set(INDICATORS)


def _terms(name: str, options: Options) -> tuple[Terms, Terms]:
    if name == "rework_rate" and options.rework_denominator == "disposed":
        # Of the disposals, those rejected on check: numerator and denominator count the same clocks.
        return ("reworked_disposals",), ("disposed",)
    if name == "ontime_closing_rate" and options.ontime_closing_denominator == "due_to_close_minus_deferred":
        # Deferred cases are judged neither on time nor late: out of both sides.
        return ("closed_on_time", "-deferred_closed_on_time"), ("due_to_close", "-deferred_approved")
    return FORMULAS[name]


def _count(counters: Counters, terms: Terms) -> int:
    return sum(-getattr(counters, t[1:]) if t.startswith("-") else getattr(counters, t) for t in terms)


def _label(terms: Terms) -> str:
    """("filed", "-voided") → "filed − voided"."""
    return " ".join(f"− {t[1:]}" if t.startswith("-") else t for t in terms)


def indicator(name: str, counters: Counters, options: Options | None = None) -> Rate | None:
    """The rate of indicator ``name`` (a key of ``INDICATORS``), or None when its denominator is 0.

    **None (不参评).** A subject with nothing due on an indicator (no case to dispose, no report) is
    not assessed on it: :func:`citylead.assessment.scores.assess` spreads that indicator's weight
    over the indicators that have a value, in proportion to their weights, so the composite stays
    the weighted mean of what was measured; a subject with no rate at all gets no composite and no
    grade. This is the rule city rules already apply inside a rate: what cannot be judged leaves
    the computation instead of scoring (金华市区数字化城市管理工作考核细则: 按期结案率 = 按期结案数 /
    (应结案数 − 缓办数), the deferred cases are neither on time nor late). Scoring 100 instead would
    rank a department that received no case above one that disposed 99 of 100 on time; scoring 0
    would rank it last for having no work.

    Counters where a numerator exceeds its denominator (or a difference goes below 0) are refused
    with ``InvalidInput``: they come from a counting error, and a rate above 1 would score below 0.
    """
    if name not in FORMULAS:
        raise InvalidInput(
            "unknown indicator",
            errors=[FieldProblem("indicator", "must be one of " + ", ".join(FORMULAS), name)],
        )
    top, bottom = _terms(name, options or Options())
    numerator = _count(counters, top)
    if not bottom:  # volume: a count
        return Rate(numerator, 1, _label(top), "")
    denominator = _count(counters, bottom)
    if not 0 <= numerator <= denominator:
        detail = f"{name}: {_label(top)} = {numerator} must be from 0 to {_label(bottom)} = {denominator}"
        raise InvalidInput(
            "inconsistent counters",
            errors=[
                FieldProblem(
                    name, detail, {t.lstrip("-"): getattr(counters, t.lstrip("-")) for t in top + bottom}
                )
            ],
        )
    return None if denominator == 0 else Rate(numerator, denominator, _label(top), _label(bottom))


def volume_score(count: int, steps: Sequence[Sequence[Any]]) -> Fraction:
    """Count-to-score steps ``[[at_least, score], …]``, counts descending: the first step the count
    reaches gives the score, 0 below the last. Default 200/150/100/50/20/0 → 100/90/75/60/40/0."""
    return next((exact(points) for at_least, points in steps if count >= exact(at_least)), Fraction(0))


def score(
    name: str, rate: Rate | None, volume_steps: Sequence[Sequence[Any]] | None = None
) -> Fraction | None:
    """The indicator score from 0 to 100: rate × 100, or (1 − rate) × 100 where a lower rate is
    better (返工率, 超期待处置率, 延期率, 漏报率); ``volume`` through ``volume_steps``. None stays None."""
    if rate is None:
        return None
    if name == "volume":
        if volume_steps is None:
            raise InvalidInput(
                "volume needs count-to-score steps", errors=[FieldProblem("volume_steps", "missing")]
            )
        return volume_score(rate.numerator, volume_steps)
    higher_is_better = INDICATORS[name][1]
    return (rate.value if higher_is_better else 1 - rate.value) * 100
