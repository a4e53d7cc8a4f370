"""Keeping a county's assessment facts current (考核事实更新).

A trigger on ``case_events`` marks the case of every added event in ``assessment_stale``
(migration 0015), whoever adds it: the workflow, a city holding an escalated case, a unit's tenant,
the demo history's bulk path. :func:`update_facts` claims a county's marks (deletes them; a
transaction still adding events to a claimed case waits for the claim, then marks it again), reads
those cases' events with one Core select of the needed columns, rebuilds their facts with
:func:`citylead.assessment.facts.case_facts` and replaces their rows. Nothing else is read: a month
with current facts costs only the sum (``rollup.count_period``).

``runs.refresh_county`` rebuilds a backlog (a first build) ``BATCH`` cases per transaction, so that
a long build neither holds one transaction nor delays the workflow's writes to claimed cases until
its end.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import DateTime, bindparam, select, text
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.ext.asyncio import AsyncSession

from citylead.assessment.facts import COUNTERS, Event, Fact, Place, case_facts
from citylead.assessment.models import assessment_facts
from citylead.cases.models import Case, CaseEvent
from tenants.models import Tenant

__all__ = ["BATCH", "update_facts"]

BATCH = 2000
"""Cases rebuilt per round of statements (and per transaction in ``runs.refresh_county``)."""
_IDS = ARRAY(UUID(as_uuid=True))
_CLAIM = text(
    "DELETE FROM assessment_stale WHERE tenant_id = :tenant AND case_id IN ("
    " SELECT case_id FROM assessment_stale WHERE tenant_id = :tenant LIMIT :n)"
    " RETURNING case_id"
)
_DROP = text("DELETE FROM assessment_facts WHERE tenant_id = :tenant AND case_id = ANY(:ids)").bindparams(
    bindparam("ids", type_=_IDS)
)
_COLUMNS = tuple(c.name for c in assessment_facts.columns)
_STAGING = "assessment_facts_in"
# COPY is not allowed on a table under row-level security: the rows are COPYed into a temporary
# table first, then inserted by one INSERT … SELECT that the policies check (as history/bulk.py).
_STAGE = f"CREATE TEMP TABLE {_STAGING} (LIKE assessment_facts) ON COMMIT DROP"
_MOVE = f"INSERT INTO assessment_facts SELECT * FROM {_STAGING}"


async def update_facts(session: AsyncSession, county: Tenant, *, limit: int | None = None) -> int:
    """Rebuild the facts of ``county``'s stale cases (at most ``limit``) in the session's transaction
    (the county's context); the number of cases rebuilt."""
    done = 0
    while limit is None or done < limit:
        n = BATCH if limit is None else min(BATCH, limit - done)
        claimed = list(await session.scalars(_CLAIM, {"tenant": county.id, "n": n}))
        if not claimed:
            break
        await _rebuild(session, county, claimed)
        done += len(claimed)
    return done


async def _rebuild(session: AsyncSession, county: Tenant, ids: Sequence[uuid.UUID]) -> None:
    e, c = CaseEvent, Case
    places = {
        row.id: Place(row.grid_code or None, row.street_code or None, row.source)
        for row in await session.execute(
            select(c.id, c.grid_code, c.street_code, c.source).where(
                c.tenant_id == county.id,
                c.id == bindparam("ids", type_=_IDS).any_(),
            ),
            {"ids": list(ids)},
        )
    }
    result = await session.execute(
        select(
            e.case_id,
            e.at,
            e.actor,
            e.actor_role,
            e.action,
            e.data["due_at"].astext.cast(DateTime(timezone=True)),
            e.data["unit"]["tenant_id"].astext,
            e.data["unit"]["code"].astext,
            e.data["overdue"].astext == "true",
            e.data["closing_type"].astext,
        )
        .where(e.tenant_id == county.id, e.case_id == bindparam("ids", type_=_IDS).any_())
        .order_by(e.case_id, e.seq),
        {"ids": list(ids)},
    )
    events: dict[uuid.UUID, list[Event]] = defaultdict(list)
    unit_ids: set[str] = set()
    for case_id, *values in result:
        event = Event(*values)
        events[case_id].append(event)
        if event.unit_tenant:
            unit_ids.add(event.unit_tenant)
    codes = {
        str(t): code
        for t, code in await session.execute(select(Tenant.id, Tenant.code).where(Tenant.id.in_(unit_ids)))
    }
    rows: list[tuple[Any, ...]] = []
    for case_id, place in places.items():
        for n, fact in enumerate(case_facts(events[case_id], place, codes), start=1):
            rows.append(_row(county.id, case_id, n, fact, place))
    await session.execute(_DROP, {"tenant": county.id, "ids": list(ids)})
    if rows:
        raw = (await (await session.connection()).get_raw_connection()).driver_connection
        assert raw is not None
        await raw.execute(_STAGE)
        await raw.copy_records_to_table(_STAGING, records=rows, columns=_COLUMNS)
        await raw.execute(_MOVE)
        await raw.execute(f"DROP TABLE {_STAGING}")


def _row(tenant_id: uuid.UUID, case_id: uuid.UUID, n: int, fact: Fact, place: Place) -> tuple[Any, ...]:
    """One fact as the values of :data:`_COLUMNS` (the table's, in order)."""
    post_type, post_code = fact.post or (None, None)
    street, grid = (place.street, place.grid) if fact.regions else (None, None)
    return (
        *(tenant_id, case_id, n, fact.at, fact.regions, street, grid, post_type, post_code, fact.unit),
        fact.pending_until,
        *map(fact.counts.get, COUNTERS),
    )
