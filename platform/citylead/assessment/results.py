"""Scored roll-ups (考核结果): the stored counters of a period, scored under the rules they were
counted with (the version vector ``do_refresh`` pinned on each row)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from citylead.assessment.counters import Counters
from citylead.assessment.models import AssessmentCounters
from citylead.assessment.rollup import SUBJECT_KINDS, Period
from citylead.assessment.scores import Assessment, assess
from tenants.context import TenantContext
from tenants.errors import FieldProblem, InvalidInput, NotFound
from tenants.models import Tenant
from tenants.service import access_tenant_by_code
from tenants.standards.layers import Effective
from tenants.standards.paths import Kind
from tenants.standards.resolver import Resolver, parse_at

__all__ = ["Result", "list_assessments"]


@dataclass(frozen=True)
class Result:
    """One subject of one county in one period, scored."""

    tenant: str  # the county whose cases were counted
    period: str
    subject_type: str
    subject_code: str
    computed_at: datetime
    rules: str | None  # the version vector the counters were stored with
    assessment: Assessment


async def list_assessments(
    session: AsyncSession,
    scope: TenantContext,
    *,
    period: Period,
    resolver: Resolver,
    subject_type: str | None = None,
    tenant_code: str | None = None,
) -> list[Result]:
    """The scored rows of ``period`` for ``tenant_code`` (default: the scope's own tenant) and the
    counties below it. A tenant outside the scope is NotFound, like a missing one."""
    if subject_type is not None and subject_type not in SUBJECT_KINDS:
        rule = "must be one of " + ", ".join(SUBJECT_KINDS)
        raise InvalidInput("unknown subject type", errors=[FieldProblem("subject_type", rule, subject_type)])
    if tenant_code is not None:
        target = (await access_tenant_by_code(session, scope, tenant_code)).tenant
    else:
        found = await session.scalar(select(Tenant).where(Tenant.path == scope.path))
        if found is None:
            raise NotFound("your tenant is not registered")
        target = found
    query = (
        select(AssessmentCounters, Tenant)
        .join(Tenant, Tenant.id == AssessmentCounters.tenant_id)
        .where(AssessmentCounters.period == period.label, Tenant.path.startswith(target.path))
        .order_by(Tenant.code, AssessmentCounters.subject_type, AssessmentCounters.subject_code)
    )
    if subject_type is not None:
        query = query.where(AssessmentCounters.subject_type == subject_type)
    rules: dict[tuple[str, str | None], Effective] = {}
    out: list[Result] = []
    for row, county in (await session.execute(query)).all():
        key = (county.code, row.rules)
        if key not in rules:
            rules[key] = await resolver.effective(session, county, Kind.ASSESSMENT, at=parse_at(row.rules))
        scored = assess(SUBJECT_KINDS[row.subject_type], Counters(**row.counters), rules[key])
        out.append(
            Result(
                county.code,
                row.period,
                row.subject_type,
                row.subject_code,
                row.computed_at,
                row.rules,
                scored,
            )
        )
    return out
