"""Who is told after an action (待办提醒), through the outbox: the next actor, where they read."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from citylead.cases.access import Actor
from citylead.cases.models import Case
from citylead.jobs.notifications import notify
from tenants.models import Tenant

__all__ = ["NOTICES", "tell_next"]

# action → (recipient, where it reads, subject). ``unit`` is the assigned unit (``TENANT/UNIT``);
# roles read in the command centre holding the case (``command``) or in the case's county.
NOTICES = {
    "dispatch": ("unit", "unit", "新派遣案件"),
    "redispatch": ("unit", "unit", "改派案件"),
    "check_fail": ("unit", "unit", "案件核查不通过，请返工"),
    "request_return": ("dispatcher", "command", "回退申请待审批"),
    "request_postpone": ("dispatcher", "command", "延期申请待审批"),
    "request_park": ("dispatcher", "command", "挂账申请待审批"),
    "escalate": ("dispatcher", "command", "疑难案件待市指挥中心派遣"),
    "send_back": ("dispatcher", "command", "市指挥中心退回，请派遣"),
    "dispose": ("intake", "county", "案件已处置，待派发核查"),
    "send_verify": ("supervisor", "county", "核实任务"),
    "send_check": ("supervisor", "county", "核查任务"),
}


async def tell_next(session: AsyncSession, case: Case, actor: Actor, action: str, seq: int) -> None:
    """Queue the action's notice, if it has one, for delivery in the tenant where its recipients
    read (the job checks that the actor may notify there: see ``jobs.notifications.notify``)."""
    if (notice := NOTICES.get(action)) is None:
        return
    who, where, subject = notice
    place = {"unit": case.unit_tenant_id, "command": case.command_tenant_id, "county": case.tenant_id}[where]
    code = await session.scalar(select(Tenant.code).where(Tenant.id == place)) if who == "unit" else None
    notify(
        session,
        actor.tenant,
        recipient_kind="unit" if who == "unit" else "role",
        recipient=f"{code or '?'}/{case.unit_code}" if who == "unit" else who,
        subject=f"{subject}：{case.number}",
        body=f"{case.class_name}，{case.address or case.grid_code or '见案卷'}：{case.description[:100]}",
        case_id=case.id,
        dedupe_key=f"case:{case.id}:{seq}",
        deliver_to_id=place,
    )
