"""``/api/v1/assessments``: the scored roll-ups of a period (考核结果) in the caller's scope — the
counters, rates, scores, composite, grade and the provenance of every rule used — and
``/api/v1/assessments/export``, the same as a CSV or XLSX file."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from urllib.parse import quote

import msgspec
from litestar import Controller, Response, get
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from citylead.assessment.access import readable_units, require_reader
from citylead.assessment.export import assessment_table, export_filename
from citylead.assessment.indicators import Rate
from citylead.assessment.results import Result, list_assessments
from citylead.assessment.rollup import Period
from citylead.db import Database
from citylead.identity.principal import Principal
from citylead.spreadsheets import CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE, to_csv, to_xlsx
from tenants.standards.resolver import Resolver, format_vector

__all__ = ["AssessmentController", "AssessmentOut", "content_disposition"]

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
    tenant_name: str
    parts: int  # the county rows summed into a city or province row; 1 for the others
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
            tenant_name=r.tenant_name,
            parts=r.parts,
            counters=a.counters.as_dict(),
            rates={k: RateOut.of(v) for k, v in a.rates.items()},
            scores={k: None if v is None else round(float(v), 4) for k, v in a.scores.items()},
            weights_used={k: round(float(v), 4) for k, v in a.weights_used.items()},
            composite=None if shown is None else float(shown),
            grade=a.grade,
            rules=format_vector(a.vector),
            provenance={p: f"{s.code} v{s.version}" for p, s in sorted(a.provenance.items())},
        )


PeriodQuery = Annotated[str, QueryParameter(description="a month 2026-10, a quarter 2026Q4 or a year 2026")]
SubjectType = Annotated[
    str | None,
    QueryParameter(description="province, city, county, street, grid, department or a post"),
]
TenantCode = Annotated[
    str | None, QueryParameter(pattern=r"^[0-9]{6}$", description="a tenant of your subtree")
]


async def _results(
    db: Database,
    principal: Principal,
    resolver: Resolver,
    period: str,
    subject_type: str | None,
    tenant: str | None,
) -> list[Result]:
    require_reader(principal)
    parsed = Period.parse(period)
    async with db.transaction(principal.context) as s:
        return await list_assessments(
            s,
            principal.context,
            period=parsed,
            resolver=resolver,
            subject_type=subject_type,
            tenant_code=tenant,
            units=await readable_units(s, principal),
        )


def content_disposition(filename: str, fallback: str) -> str:
    """``attachment`` with the UTF-8 name (RFC 6266 / RFC 5987 ``filename*``) and an ASCII
    ``fallback`` for clients that know only ``filename``."""
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


class AssessmentController(Controller):
    """Read by administrators and the province supervisor (their subtree) and by department users
    (their own units' rows); 403 for anyone else (``citylead.assessment.access``)."""

    path = "/assessments"
    tags = ["assessment"]  # noqa: RUF012

    @get("/", summary="Scored counters of a period for a tenant of your subtree and what lies below it")
    async def assessments(
        self,
        db: Db,
        principal: Caller,
        resolver: Resolve,
        period: PeriodQuery,
        subject_type: SubjectType = None,
        tenant: TenantCode = None,
    ) -> list[AssessmentOut]:
        results = await _results(db, principal, resolver, period, subject_type, tenant)
        return [AssessmentOut.of(r) for r in results]

    @get("/export", summary="The same results as a CSV or XLSX file (Chinese headers)")
    async def export(
        self,
        db: Db,
        principal: Caller,
        resolver: Resolve,
        period: PeriodQuery,
        subject_type: SubjectType = None,
        tenant: TenantCode = None,
        format: Annotated[
            Literal["csv", "xlsx"], QueryParameter(description="csv (UTF-8 with BOM) or xlsx")
        ] = "xlsx",
    ) -> Response[bytes]:
        results = await _results(db, principal, resolver, period, subject_type, tenant)
        table = assessment_table(results)
        body, media_type = (
            (to_csv(table), CSV_MEDIA_TYPE) if format == "csv" else (to_xlsx(table), XLSX_MEDIA_TYPE)
        )
        code, label = tenant or principal.tenant_code, Period.parse(period).label
        disposition = content_disposition(
            export_filename(code, label, format), f"assessments_{code}_{label}.{format}"
        )
        headers = {"Content-Disposition": disposition, "Cache-Control": "no-store"}
        return Response(body, media_type=media_type, headers=headers)
