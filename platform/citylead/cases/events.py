"""Case events (流转记录): one append-only row per transition — who, when, from, to, why."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from citylead.cases.models import Case, CaseEvent

__all__ = ["add_event", "history"]


async def add_event(
    session: AsyncSession,
    case: Case,
    action: str,
    from_state: str | None,
    to_state: str,
    *,
    actor: str,
    at: datetime,
    reason: str | None = None,
    data: dict[str, Any] | None = None,
    actor_role: str | None = None,
    actor_tenant: str | None = None,
    first: bool = False,
) -> CaseEvent:
    """Append an event to the case in the current transaction (the case row is held by it);
    ``first`` for a case being created (no query for the last number)."""
    last: int | None = 0
    if not first:
        last = await session.scalar(
            select(func.coalesce(func.max(CaseEvent.seq), 0)).where(
                CaseEvent.tenant_id == case.tenant_id, CaseEvent.case_id == case.id
            )
        )
    event = CaseEvent(
        tenant_id=case.tenant_id,
        case_id=case.id,
        seq=int(last or 0) + 1,
        at=at,
        actor=actor,
        actor_role=actor_role,
        actor_tenant=actor_tenant,
        action=action,
        from_state=from_state,
        to_state=to_state,
        reason=reason,
        data=data or {},
    )
    session.add(event)
    return event


async def history(session: AsyncSession, case: Case) -> list[CaseEvent]:
    rows = await session.scalars(
        select(CaseEvent)
        .where(CaseEvent.tenant_id == case.tenant_id, CaseEvent.case_id == case.id)
        .order_by(CaseEvent.seq)
    )
    return list(rows)
