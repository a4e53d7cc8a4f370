"""Scored roll-ups (考核结果): the stored counters of a period, scored under the rules they were
counted with (the version vector ``do_refresh`` pinned on each row).

Cities and the province (``city``, ``province``: 市, 省) are rolled up **on read**: their counters
are the sum of the ``county`` rows of the divisions below them (counters add; rates never do), and
they are scored under their own effective rules (the ``region`` scheme). Summing the ~100 county
rows of a province is a few milliseconds, so storing them would only add a second writer and a
chance to go stale; the refresh stays per county (docs/assessment.md).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from citylead.assessment.counters import Counters
from citylead.assessment.models import AssessmentCounters
from citylead.assessment.rollup import SUBJECT_KINDS, Period
from citylead.assessment.scores import Assessment, assess
from tenants.context import TenantContext, code_of_path
from tenants.errors import FieldProblem, InvalidInput
from tenants.models import Tenant
from tenants.service import access_tenant_or_own
from tenants.standards.layers import Effective, Source
from tenants.standards.paths import Kind
from tenants.standards.resolver import At, Resolver, format_vector, parse_at

__all__ = [
    "ROLLED_UP",
    "SUBJECT_TYPES",
    "Result",
    "list_assessments",
    "list_assessments_many",
    "stored_types",
]

ROLLED_UP = {"province": "region", "city": "region"}
"""Subjects summed on read from the ``county`` rows below them, scored as regions."""
SUBJECT_TYPES = {**ROLLED_UP, **SUBJECT_KINDS}
"""Every subject type the API serves → the scheme it is scored under."""


@dataclass(frozen=True)
class Result:
    """One subject of one tenant in one period, scored."""

    tenant: str  # the county whose cases were counted; for a city or the province, itself
    period: str
    subject_type: str
    subject_code: str
    computed_at: datetime  # for a roll-up, the latest of the county rows summed
    rules: str | None  # the version vector the counters were stored with (a roll-up: scored with)
    assessment: Assessment
    tenant_name: str = ""
    parts: int = 1  # the county rows summed (1 for a stored row)


async def list_assessments(
    session: AsyncSession,
    scope: TenantContext,
    *,
    period: Period,
    resolver: Resolver,
    subject_type: str | None = None,
    tenant_code: str | None = None,
    units: Collection[str] | None = None,
) -> list[Result]:
    """The scored rows of ``period`` for ``tenant_code`` (default: the scope's own tenant) and the
    counties below it, with the city and province roll-ups at or below it; in tenant code order.
    A tenant outside the scope is NotFound, like a missing one. ``units`` (``TENANT:UNIT`` codes)
    narrows the answer to those departments' own rows, and leaves out every other subject."""
    found = await list_assessments_many(
        session,
        scope,
        periods=[period],
        resolver=resolver,
        subject_types=[subject_type],
        tenant_code=tenant_code,
        units=units,
    )
    return found[period.label]


async def list_assessments_many(
    session: AsyncSession,
    scope: TenantContext,
    *,
    periods: Sequence[Period],
    resolver: Resolver,
    subject_types: Sequence[str | None] = (None,),
    tenant_code: str | None = None,
    units: Collection[str] | None = None,
) -> dict[str, list[Result]]:
    """``list_assessments`` for several periods and subject types at once (a trend): one query for
    the counters, one for the roll-ups' tenants, and each (tenant, rules version vector) resolved
    once. Period label → that period's rows of each subject type in turn, each in tenant code order."""
    check_subject_types(subject_types)
    target = await access_tenant_or_own(session, scope, tenant_code)
    return await scored_periods(
        session, target, periods=periods, resolver=resolver, subject_types=subject_types, units=units
    )


def check_subject_types(subject_types: Sequence[str | None]) -> None:
    """InvalidInput (naming ``subject_type`` and the rule) for a type the API does not serve."""
    for kind in subject_types:
        if kind is not None and kind not in SUBJECT_TYPES:
            rule = "must be one of " + ", ".join(SUBJECT_TYPES)
            raise InvalidInput("unknown subject type", errors=[FieldProblem("subject_type", rule, kind)])


async def scored_periods(
    session: AsyncSession,
    target: Tenant,
    *,
    periods: Sequence[Period],
    resolver: Resolver,
    subject_types: Sequence[str | None],
    units: Collection[str] | None = None,
) -> dict[str, list[Result]]:
    """``list_assessments_many`` for a ``target`` the caller has already been allowed to read
    (``access_tenant_or_own`` in the session's tenant context) and checked subject types."""
    stored = {_stored_type(kind, units) for kind in subject_types}
    out: dict[str, list[Result]] = {p.label: [] for p in periods}
    if stored == {_NOTHING} or not periods:
        return out
    query = (
        select(AssessmentCounters, Tenant)
        .join(Tenant, Tenant.id == AssessmentCounters.tenant_id)
        .where(AssessmentCounters.period.in_(list(out)), Tenant.path.startswith(target.path))
        .order_by(Tenant.code, AssessmentCounters.subject_type, AssessmentCounters.subject_code)
    )
    if units is not None:
        query = query.where(AssessmentCounters.subject_code.in_(sorted(units)))
    if None not in stored:
        query = query.where(AssessmentCounters.subject_type.in_(sorted(str(s) for s in stored)))
    by_period: dict[str, list[tuple[AssessmentCounters, Tenant]]] = defaultdict(list)
    for row, county in (await session.execute(query)).all():
        by_period[row.period].append((row, county))
    rules = _Rules(session, resolver)
    rolls = any(units is None and kind in (None, *ROLLED_UP) for kind in subject_types)
    shared = any(_owner_above(row, county, target) for rows in by_period.values() for row, county in rows)
    above = await _tenants_above(session, target, by_period) if rolls or shared else {}
    for label, rows in by_period.items():
        for kind in subject_types:
            out[label] += await _scored(rules, target, rows, kind, units, above)
    return out


_NOTHING = "-"
"""``_stored_type`` when ``units`` rule the subject type out: no stored row is wanted."""


def stored_types(subject_type: str | None) -> str | None:
    """The stored rows a served subject type reads: a city or the province its ``county`` rows,
    any other type its own (None: every type)."""
    return _stored_type(subject_type, None)


def _stored_type(subject_type: str | None, units: Collection[str] | None) -> str | None:
    """The stored rows a subject type reads: roll-ups sum ``county`` rows; ``units`` only departments."""
    stored = "county" if subject_type in ROLLED_UP else subject_type
    if units is None:
        return stored
    return "department" if stored in (None, "department") else _NOTHING


async def _scored(
    rules: _Rules,
    target: Tenant,
    rows: Sequence[tuple[AssessmentCounters, Tenant]],
    subject_type: str | None,
    units: Collection[str] | None,
    above: dict[str, Tenant],
) -> list[Result]:
    """One period's rows of ``subject_type`` (None: all), scored, in tenant code order."""
    stored = _stored_type(subject_type, units)
    if stored == _NOTHING:
        return []
    mine = [(row, county) for row, county in rows if stored is None or row.subject_type == stored]
    out: list[Result] = []
    if subject_type not in ROLLED_UP:
        owned = {id(row): path for row, county in mine if (path := _owner_above(row, county, target))}
        out += await _departments_summed(rules, [(r, owned[id(r)]) for r, _ in mine if id(r) in owned], above)
        for row, county in mine:
            if id(row) in owned:
                continue
            effective = await rules.of(county, parse_at(row.rules))
            scored = assess(SUBJECT_KINDS[row.subject_type], Counters(**row.counters), effective)
            out.append(
                Result(
                    county.code,
                    row.period,
                    row.subject_type,
                    row.subject_code,
                    row.computed_at,
                    row.rules,
                    scored,
                    county.name,
                )
            )
    if units is None and subject_type in (None, *ROLLED_UP):
        counties = [(row, county) for row, county in mine if row.subject_type == "county"]
        out += await _roll_up(rules, target, counties, subject_type, above)
    return sorted(out, key=lambda r: r.tenant)  # stable: stored rows keep their order


class _Rules:
    """The effective assessment rules of one call, each (tenant, ``at``) resolved once. A fully
    pinned vector already folded in the process needs no query at all (published versions never
    change); anything else asks the resolver (its ``head`` query checks the lineage)."""

    def __init__(self, session: AsyncSession, resolver: Resolver) -> None:
        self._session = session
        self._resolver = resolver
        self._seen: dict[tuple[str, At | None], Effective] = {}

    async def of(self, tenant: Tenant, at: At | None) -> Effective:
        key = (tenant.code, at)
        if (doc := self._seen.get(key)) is None:
            doc = self._cached(tenant, at) or await self._resolver.effective(
                self._session, tenant, Kind.ASSESSMENT, at=at
            )
            self._seen[key] = doc
        return doc

    def _cached(self, tenant: Tenant, at: At | None) -> Effective | None:
        if at is None or at.vector is None:
            return None
        lineage = [code_of_path(p) for p in [*_ancestors(tenant.path), tenant.path]]
        if [s.code for s in at.vector] != lineage:
            return None  # the resolver says why
        return self._resolver.cached(Kind.ASSESSMENT, at.vector)


def _ancestors(path: str) -> list[str]:
    """``/34/3418/341802/`` → ``["/34/", "/34/3418/"]``: the province and the city above a division."""
    parts = path.strip("/").split("/")
    return ["/" + "/".join(parts[:i]) + "/" for i in range(1, len(parts))]


async def _tenants_above(
    session: AsyncSession, target: Tenant, by_period: dict[str, list[tuple[AssessmentCounters, Tenant]]]
) -> dict[str, Tenant]:
    """Path → tenant of every city and province at or below ``target`` above a county's row
    (the roll-ups' tenants, and the owners of departments summed across counties)."""
    paths = {
        p
        for rows in by_period.values()
        for row, county in rows
        if row.subject_type in ("county", "department")
        for p in _ancestors(county.path)
        if p.startswith(target.path)
    }
    if not paths:
        return {}
    return {t.path: t for t in await session.scalars(select(Tenant).where(Tenant.path.in_(sorted(paths))))}


async def _roll_up(
    rules: _Rules,
    target: Tenant,
    counties: Sequence[tuple[AssessmentCounters, Tenant]],
    subject_type: str | None,
    above: dict[str, Tenant],
) -> list[Result]:
    """The city and province rows at or below ``target``: sums of their counties' rows."""
    parts: dict[str, list[AssessmentCounters]] = defaultdict(list)
    for row, county in counties:
        for path in _ancestors(county.path):
            kind = "province" if path.count("/") == 2 else "city"
            if path.startswith(target.path) and subject_type in (None, kind):
                parts[path].append(row)
    out = []
    for tenant in sorted((above[p] for p in parts if p in above), key=lambda t: t.code):
        rows = parts[tenant.path]
        effective = await rules.of(tenant, _pinned(tenant.path, [r.rules for r in rows]))
        kind = "province" if tenant.path.count("/") == 2 else "city"
        counters = _summed(rows)
        out.append(
            Result(
                tenant.code,
                rows[0].period,
                kind,
                tenant.code,
                max(r.computed_at for r in rows),
                format_vector(effective.vector),
                assess(ROLLED_UP[kind], counters, effective),
                tenant.name,
                len(rows),
            )
        )
    return out


def _owner_above(row: AssessmentCounters, county: Tenant, target: Tenant) -> str | None:
    """For a ``department`` row of a unit that a city or the province owns (``3418:SZJ``'s owner
    3418 above the county that counted it), the owner's path when it lies at or below ``target``:
    such a unit's rows of several counties are summed into one. None otherwise."""
    if row.subject_type != "department":
        return None
    owner = row.subject_code.split(":", 1)[0]
    if owner == county.code:
        return None
    path = next((p for p in _ancestors(county.path) if code_of_path(p) == owner), None)
    return path if path is not None and path.startswith(target.path) else None


async def _departments_summed(
    rules: _Rules, rows: Sequence[tuple[AssessmentCounters, str]], above: dict[str, Tenant]
) -> list[Result]:
    """The departments of a city (or the province) that worked in several counties, from their
    rows with the owner's path: one row per unit, the sum of the counties' rows, scored under the
    owner's rules (部门跨区县汇总)."""
    by_unit: dict[str, list[AssessmentCounters]] = defaultdict(list)
    owners: dict[str, str] = {}
    for row, path in rows:
        by_unit[row.subject_code].append(row)
        owners[row.subject_code] = path
    out = []
    for unit, parts in sorted(by_unit.items()):
        owner = above[owners[unit]]
        effective = await rules.of(owner, _pinned(owner.path, [r.rules for r in parts]))
        out.append(
            Result(
                owner.code,
                parts[0].period,
                "department",
                unit,
                max(r.computed_at for r in parts),
                format_vector(effective.vector),
                assess(SUBJECT_KINDS["department"], _summed(parts), effective),
                owner.name,
                len(parts),
            )
        )
    return out


def _summed(rows: Sequence[AssessmentCounters]) -> Counters:
    """The field-wise sum of stored counters (``Counters.__add__``), built once: a province's
    twelve-month trend sums ~2,300 county rows, and a ``Counters`` per addition cost 0.1 ms each."""
    total: dict[str, int] = defaultdict(int)
    for row in rows:
        for name, value in row.counters.items():
            total[name] += value
    return Counters(**total)


def _pinned(path: str, vectors: Sequence[str | None]) -> At | None:
    """The roll-up's own rules as its counties' refreshes saw them: each county row pins the whole
    lineage (province, city, county); the newest version of each of the roll-up's own layers among
    them. None (the rules in force now) when no row pinned them all."""
    lineage = [code_of_path(p) for p in [*_ancestors(path), path]]
    newest: dict[str, int] = {}
    for text in vectors:
        at = parse_at(text)
        pinned = {s.code: s.version for s in (at.vector or ()) if s.code in lineage} if at else {}
        if set(pinned) != set(lineage):
            continue
        for code, version in pinned.items():
            newest[code] = max(version, newest.get(code, version))
    if len(newest) != len(lineage):
        return None
    return At(vector=tuple(Source(code, newest[code]) for code in lineage))
