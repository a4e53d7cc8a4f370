"""Scored periods kept in the process (考核结果缓存): a trend without re-scoring past months.

A dashboard's 12-month trend asks for the same scored roll-ups again and again (every viewer,
every change of measure), and a past month changes only when it is assessed again. Scoring it is
the expensive part: a province's trend sums 95 county rows into 14 roll-ups per month and scores
168 subjects. :class:`ScoredCache` keeps each (tenant, period, subject types) answer of
:func:`~citylead.assessment.results.list_assessments_many` with the **stamp** of the stored rows it
was computed from: how many there are and the newest ``computed_at`` (a refresh replaces a row and
sets it anew). One cheap query reads the stamps of the asked periods; only the periods whose stamp
changed, or that were never seen, are read and scored.

An answer is kept only when every row it rests on pinned its rules as a version vector (what
``do_refresh`` writes): published rule versions never change, so the stamp then fixes the answer.
Rows scored under "the rules in force now" are recomputed every time.

Access is checked on every call (``access_tenant_or_own``, in the caller's tenant context, under
row-level security); an entry is keyed by the target tenant, whose whole subtree any caller allowed
to read it sees, so two callers share it safely. Least recently used entries go first.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from citylead.assessment.models import AssessmentCounters
from citylead.assessment.results import Result, check_subject_types, scored_periods, stored_types
from citylead.assessment.rollup import Period
from tenants.context import TenantContext
from tenants.models import Tenant
from tenants.service import access_tenant_or_own
from tenants.standards.resolver import VECTOR, Resolver

__all__ = ["MAX_ENTRIES", "ScoredCache", "Stamp"]

MAX_ENTRIES = 4096  # a province's tenants × 12 months × two shapes of question, with room


@dataclass(frozen=True, slots=True)
class Stamp:
    """What a period's answer was computed from."""

    rows: int
    newest: datetime | None
    pinned: bool  # every row's rules are a version vector


class ScoredCache:
    """``list_assessments_many`` with unchanged periods answered from memory. Thread-safe (Dash
    callbacks run in threads); a lost race only scores a period twice."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._max = max_entries
        self._entries: OrderedDict[tuple[str, str, tuple[str | None, ...]], tuple[Stamp, list[Result]]]
        self._entries = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    async def many(
        self,
        session: AsyncSession,
        scope: TenantContext,
        *,
        periods: Sequence[Period],
        resolver: Resolver,
        subject_types: Sequence[str | None],
        tenant_code: str | None = None,
    ) -> dict[str, list[Result]]:
        """Period label → scored rows, as ``list_assessments_many`` (same arguments, same answer)."""
        kinds = tuple(subject_types)
        check_subject_types(kinds)
        target = await access_tenant_or_own(session, scope, tenant_code)
        stamps = await _stamps(session, target, [p.label for p in periods], kinds)
        out: dict[str, list[Result]] = {}
        missing: list[Period] = []
        for period in periods:
            found = self._get((target.path, period.label, kinds), stamps.get(period.label))
            if found is None:
                missing.append(period)
            else:
                out[period.label] = found
        if missing:
            fresh = await scored_periods(
                session, target, periods=missing, resolver=resolver, subject_types=kinds
            )
            for label, results in fresh.items():
                stamp = stamps.get(label, Stamp(0, None, True))
                if stamp.pinned:
                    self._put((target.path, label, kinds), stamp, results)
            out.update(fresh)
        return {p.label: out[p.label] for p in periods}

    def _get(self, key: tuple[str, str, tuple[str | None, ...]], stamp: Stamp | None) -> list[Result] | None:
        stamp = stamp or Stamp(0, None, True)
        with self._lock:
            found = self._entries.get(key)
            if found is None or found[0] != stamp:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return found[1]

    def _put(self, key: tuple[str, str, tuple[str | None, ...]], stamp: Stamp, results: list[Result]) -> None:
        with self._lock:
            self._entries[key] = (stamp, results)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)


async def _stamps(
    session: AsyncSession, target: Tenant, labels: Sequence[str], kinds: Sequence[str | None]
) -> dict[str, Stamp]:
    """Each period's stamp of the stored rows the answer for ``kinds`` under ``target`` reads."""
    stored = {stored_types(kind) for kind in kinds}
    query = (
        select(
            AssessmentCounters.period,
            func.count(),
            func.max(AssessmentCounters.computed_at),
            func.bool_and(func.coalesce(AssessmentCounters.rules.regexp_match(VECTOR.pattern), False)),
        )
        .join(Tenant, Tenant.id == AssessmentCounters.tenant_id)
        .where(AssessmentCounters.period.in_(list(labels)), Tenant.path.startswith(target.path))
        .group_by(AssessmentCounters.period)
    )
    if None not in stored:
        query = query.where(AssessmentCounters.subject_type.in_(sorted(str(s) for s in stored)))
    rows = (await session.execute(query)).all()
    return {period: Stamp(n, newest, bool(pinned)) for period, n, newest, pinned in rows}
