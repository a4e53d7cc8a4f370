"""The composite score and the grade (综合指标值, 等级) of one subject, from the tenant's rules.

``assess(subject_type, counters, rules)`` reads the effective assessment document (the fold of the
province, city and county layers, ``tenants/standards/layers.py``):

- ``assessment/{subject}/weight/{indicator}``: the scheme; the weights must sum to exactly 100;
- ``assessment/{subject}/grade/{A|B|C|D}``: the lowest composite of each grade, E below D;
- ``assessment/{subject}/volume_steps``: count-to-score steps, when ``volume`` is in the scheme;
- ``assessment/options/{option}``: the formula options (missing: the national text).

Composite = Σ weight × indicator score / 100 over the indicators that have a value, their weights
scaled up to 100 (see the None rule in :func:`citylead.assessment.indicators.indicator`). All
arithmetic is exact, so the grade boundaries are exact: a composite of 90 is an A, 89.999 a B.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from citylead.assessment._numbers import exact, rounded
from citylead.assessment.counters import Counters
from citylead.assessment.indicators import Options, Rate, indicator, score
from tenants.errors import FieldProblem, InvalidInput
from tenants.standards.layers import Effective, Source
from tenants.standards.paths import ASSESSMENT_OPTIONS, INDICATORS, SUBJECTS, Kind, check_entry

__all__ = ["GRADES", "Assessment", "assess", "grade_of"]

GRADES = ("A", "B", "C", "D")  # then E, below D's threshold


@dataclass(frozen=True)
class Assessment:
    """One subject's result, with everything needed to explain it."""

    subject_type: str
    counters: Counters
    options: Options
    rates: Mapping[str, Rate | None]  # every indicator of the scheme
    scores: Mapping[str, Fraction | None]  # 0–100; None where the rate is None
    weights: Mapping[str, Fraction]  # as the rules set them (sum 100)
    weights_used: Mapping[str, Fraction]  # after the None rule: sum 100, or all 0 when not assessed
    composite: Fraction | None  # None: not assessed (不参评)
    grade: str | None  # A–E, None when not assessed
    thresholds: Mapping[str, Fraction]  # grade → lowest composite
    provenance: Mapping[str, Source]  # every rules path read → the tenant and version that set it
    vector: tuple[Source, ...]  # the version vector of the rules document

    def composite_display(self, places: int = 2) -> Decimal | None:
        """The composite rounded half up for display; the grade is taken from the exact value."""
        return None if self.composite is None else rounded(self.composite, places)


def grade_of(composite: Fraction, thresholds: Mapping[str, Fraction]) -> str:
    """The first grade whose threshold the composite reaches (≥), else E."""
    return next((g for g in GRADES if composite >= thresholds[g]), "E")


class _Reader:
    """Reads paths of the rules, checks them against the grammar and remembers who set them."""

    def __init__(self, rules: Effective) -> None:
        self.rules = rules
        self.provenance: dict[str, Source] = {}
        self.problems: list[FieldProblem] = []

    def get(self, path: str, *, required: bool = True) -> Any:
        found = self.rules.values.get(path)
        if found is None:
            if required:
                self.problems.append(FieldProblem(path, "missing from the assessment rules"))
            return None
        value, source = found
        if problem := check_entry(Kind.ASSESSMENT, path, value):
            self.problems.append(
                FieldProblem(path, problem, value, set_by=f"{source.code} v{source.version}")
            )
            return None
        self.provenance[path] = source
        return value


def _weights_used(
    weights: Mapping[str, Fraction], scores: Mapping[str, Fraction | None]
) -> dict[str, Fraction]:
    """The None rule: weights of indicators without a value go to the others, pro rata. Not assessed
    (all 0) when nothing weighted has a value, or when the scheme weighs rates and none has one
    (a department with no case due is not graded on its volume of 0 alone)."""
    measured = {i: w for i, w in weights.items() if w > 0 and scores[i] is not None}
    weighted_rates = [i for i, w in weights.items() if w > 0 and i != "volume"]
    if not measured or (weighted_rates and not set(measured) & set(weighted_rates)):
        return dict.fromkeys(weights, Fraction(0))
    total = sum(measured.values(), Fraction(0))
    return {i: measured[i] * 100 / total if i in measured else Fraction(0) for i in weights}


def assess(subject_type: str, counters: Counters, rules: Effective) -> Assessment:
    """Score one subject's counters under ``rules``, the tenant's effective assessment document.

    Refuses (``InvalidInput``) an unknown subject, rules of another kind, a scheme whose weights do
    not sum to 100, missing or disordered grade thresholds, missing volume steps, and counters where
    a numerator exceeds its denominator.
    """
    if subject_type not in SUBJECTS:
        rule = "must be one of " + ", ".join(SUBJECTS)
        raise InvalidInput("unknown subject type", errors=[FieldProblem("subject_type", rule, subject_type)])
    if rules.kind is not Kind.ASSESSMENT:
        raise InvalidInput(f"assessment needs the assessment rules, not {rules.kind.value}")
    read = _Reader(rules)
    prefix = f"assessment/{subject_type}"
    raw = {i: read.get(f"{prefix}/weight/{i}", required=False) for i in INDICATORS}
    weights = {i: exact(w) for i, w in raw.items() if w is not None}
    total = sum(weights.values(), Fraction(0))
    if total != 100:
        rule = f"the weights of {subject_type} must sum to 100; they sum to {rounded(total, 3).normalize():f}"
        read.problems.append(FieldProblem(f"{prefix}/weight", rule, {i: raw[i] for i in weights}))
    thresholds = {g: read.get(f"{prefix}/grade/{g}") for g in GRADES}
    steps = read.get(f"{prefix}/volume_steps") if "volume" in weights else None
    chosen = {o: read.get(f"assessment/options/{o}", required=False) for o in ASSESSMENT_OPTIONS}
    if None not in thresholds.values():
        lows = [exact(thresholds[g]) for g in GRADES]
        if lows != sorted(lows, reverse=True):
            rule = "grade thresholds must not rise from A to D"
            read.problems.append(FieldProblem(f"{prefix}/grade", rule, thresholds))
    if read.problems:
        raise InvalidInput(f"the assessment rules of {subject_type} cannot be applied", errors=read.problems)

    options = Options(**{o: v for o, v in chosen.items() if v is not None})
    rates = {i: indicator(i, counters, options) for i in weights}
    scores = {i: score(i, rates[i], steps) for i in weights}
    used = _weights_used(weights, scores)
    assessed = any(used.values())
    composite = sum((used[i] * s / 100 for i, s in scores.items() if s is not None), Fraction(0))
    lows_by_grade = {g: exact(thresholds[g]) for g in GRADES}
    return Assessment(
        subject_type=subject_type,
        counters=counters,
        options=options,
        rates=rates,
        scores=scores,
        weights=weights,
        weights_used=used,
        composite=composite if assessed else None,
        grade=grade_of(composite, lows_by_grade) if assessed else None,
        thresholds=lows_by_grade,
        provenance=read.provenance,
        vector=rules.vector,
    )
