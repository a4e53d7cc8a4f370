"""Case jobs: the overdue sweep (超期扫描) — mark cases whose running clock has run out and notify."""

from __future__ import annotations

import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, text

from citylead.cases.models import Case
from citylead.jobs.notifications import notify
from citylead.jobs.registry import JobContext, job
from tenants.models import Tenant

__all__ = ["JOBS", "sweep_overdue"]

_DUE = text("SELECT tenant_id, tenant_path, case_id FROM citylead_overdue_due(:now, :limit)")
BEIJING = ZoneInfo("Asia/Shanghai")
STEP_LABELS = {"verify": "核实", "dispose": "处置", "check": "核查"}


async def sweep_overdue(ctx: JobContext, *, now: datetime | None = None, limit: int = 1000) -> int:
    """Mark every case past its deadline as overdue, once, with an event-free flag and a notification
    to whoever holds the step; returns how many were marked. Idempotent: a case is marked once."""
    async with ctx.db.transaction(None) as s:
        now = now or await s.scalar(select(func.now()))
        due = (await s.execute(_DUE, {"now": now, "limit": limit})).all()
    by_tenant: dict[str, list[uuid.UUID]] = {}
    for _, path, case_id in due:
        by_tenant.setdefault(path, []).append(case_id)
    marked = 0
    for path, ids in by_tenant.items():
        async with ctx.transaction(path) as s:
            county = await s.scalar(select(Tenant).where(Tenant.path == path))
            assert county is not None
            cases = await s.scalars(
                select(Case)
                .where(
                    Case.tenant_id == county.id, Case.id.in_(ids), Case.overdue.is_(False), Case.due_at < now
                )
                .with_for_update(skip_locked=True)
            )
            for case in cases:
                case.overdue = True
                marked += 1
                unit = case.step == "dispose" and case.unit_code
                # The unit reads in its own tenant when the county can see it (itself or its city).
                code = (
                    await s.scalar(select(Tenant.code).where(Tenant.id == case.unit_tenant_id))
                    if unit
                    else None
                )
                assert case.due_at is not None  # selected by due_at < now
                deadline = case.due_at.astimezone(BEIJING)
                notify(
                    s,
                    county,
                    recipient_kind="unit" if unit else "role",
                    recipient=f"{code or '?'}/{case.unit_code}" if unit else "shift_lead",
                    subject=f"案件{STEP_LABELS.get(case.step or '', '')}超期：{case.number}",
                    body=f"{case.class_name}：期限 {deadline:%Y-%m-%d %H:%M}（北京时间）已过",
                    case_id=case.id,
                    deliver_to_id=case.unit_tenant_id if code else None,
                    dedupe_key=f"case:{case.id}:overdue:{case.step}:{case.step_started_at}",
                )
    return marked


@job("cases.sweep_overdue", queue="default", max_retries=3)
async def sweep(ctx: JobContext, **_: object) -> None:
    await sweep_overdue(ctx)


JOBS = (sweep,)
