"""``/api/v1/assessments``: the scored roll-ups of a period (考核结果) in the caller's scope — the
counters, rates, scores, composite, grade and the provenance of every rule used."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from citylead.assessment.indicators import Rate
from citylead.assessment.results import Result, list_assessments
from citylead.assessment.rollup import Period
from citylead.db import Database
from citylead.identity.principal import Principal
from tenants.standards.resolver import Resolver, format_vector

__all__ = ["AssessmentController", "AssessmentOut"]

Db = NamedDependency[Database]
Caller = NamedDependency[Principal]
Resolve = NamedDependency[Resolver]


class RateOut(msgspec.Struct, kw_only=True):
    numerator: int
    denominator: int
    numerator_of: str
    denominator_of: str
    percent: float

    @classmethod
    def of(cls, r: Rate | None) -> RateOut | None:
        if r is None:
            return None
        return cls(
            numerator=r.numerator,
            denominator=r.denominator,
            numerator_of=r.numerator_of,
            denominator_of=r.denominator_of,
            percent=float(r.percent()),
        )


class AssessmentOut(msgspec.Struct, kw_only=True):
    tenant: str
    period: str
    subject_type: str
    subject_code: str
    scored_as: str
    computed_at: datetime
    counters: dict[str, int]
    rates: dict[str, RateOut | None]
    scores: dict[str, float | None]
    weights_used: dict[str, float]
    composite: float | None  # rounded half up to 2 places; the grade comes from the exact value
    grade: str | None  # None: not assessed (不参评)
    rules: str  # the version vector of the assessment rules used
    provenance: dict[str, str]  # rules path → "CODE vN"

    @classmethod
    def of(cls, r: Result) -> AssessmentOut:
        a = r.assessment
        shown = a.composite_display()
        return cls(
            tenant=r.tenant,
            period=r.period,
            subject_type=r.subject_type,
            subject_code=r.subject_code,
            scored_as=a.subject_type,
            computed_at=r.computed_at,
            counters=a.counters.as_dict(),
            rates={k: RateOut.of(v) for k, v in a.rates.items()},
            scores={k: None if v is None else round(float(v), 4) for k, v in a.scores.items()},
            weights_used={k: round(float(v), 4) for k, v in a.weights_used.items()},
            composite=None if shown is None else float(shown),
            grade=a.grade,
            rules=format_vector(a.vector),
            provenance={p: f"{s.code} v{s.version}" for p, s in sorted(a.provenance.items())},
        )


class AssessmentController(Controller):
    path = "/assessments"
    tags = ["assessment"]  # noqa: RUF012

    @get("/", summary="Scored counters of a period for a tenant of your subtree and the counties below it")
    async def assessments(
        self,
        db: Db,
        principal: Caller,
        resolver: Resolve,
        period: Annotated[
            str, QueryParameter(description="a month 2026-10, a quarter 2026Q4 or a year 2026")
        ],
        subject_type: Annotated[
            str | None, QueryParameter(description="county, street, grid, department or a post")
        ] = None,
        tenant: Annotated[
            str | None, QueryParameter(pattern=r"^[0-9]{6}$", description="a tenant of your subtree")
        ] = None,
    ) -> list[AssessmentOut]:
        parsed = Period.parse(period)
        async with db.transaction(principal.context) as s:
            results = await list_assessments(
                s,
                principal.context,
                period=parsed,
                resolver=resolver,
                subject_type=subject_type,
                tenant_code=tenant,
            )
        return [AssessmentOut.of(r) for r in results]
