"""Onboarding as a service (接入服务): check, dry-run, submit, and read a job with its steps.

The request is checked in the *caller's* context (a city admin sees its own divisions, nobody
else's: another city's county is "not in the registry" for it). The job is then written in the new
tenant's own context — the one place where an administrator above a tenant acts in that tenant's
context, on its behalf, audited with the administrator's name.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text

from citylead.db import Database
from provisioning.checks import Checked, check_request
from provisioning.inputs import OnboardRequest
from provisioning.models import ProvisioningJob, ProvisioningStep
from provisioning.pipeline import STEP_LABELS, Submitted, submit
from tenants.context import TenantContext
from tenants.errors import NotFound
from tenants.models import Tenant
from tenants.standards.resolver import Resolver

__all__ = ["JobView", "StepView", "dry_run", "get_job", "onboard"]

_READ_ONLY = text("SET TRANSACTION READ ONLY")


async def dry_run(
    db: Database,
    resolver: Resolver,
    scope: TenantContext,
    request: OnboardRequest,
    *,
    parent_planned: bool = False,
) -> Checked:
    """Every problem and the plan; nothing is written (the transaction is read-only)."""
    async with db.transaction(scope) as s:
        await s.execute(_READ_ONLY)
        return await check_request(s, resolver, request, parent_planned=parent_planned)


async def onboard(
    db: Database,
    resolver: Resolver,
    scope: TenantContext,
    request: OnboardRequest,
    *,
    acting_user: str,
    checked: Checked | None = None,
) -> Submitted:
    """Check the request (InvalidInput with every problem), then submit the job. ``checked``: the
    caller has just checked it (a dry run shown before going ahead)."""
    if checked is None:
        checked = await dry_run(db, resolver, scope, request)
    checked.raise_if_any(request.code)
    assert checked.target is not None
    async with db.transaction(TenantContext(checked.target.path)) as s:
        target = await s.get(Tenant, checked.target.id)
        assert target is not None
        return await submit(s, target, request, checked, acting_user=acting_user)


@dataclass(frozen=True)
class StepView:
    name: str
    label: str
    state: str
    attempts: int
    duration_ms: int | None
    detail: dict[str, Any] | None
    error: dict[str, Any] | None
    started_at: Any
    finished_at: Any


@dataclass(frozen=True)
class JobView:
    job: ProvisioningJob
    code: str
    name: str
    steps: list[StepView]

    @property
    def done(self) -> bool:
        return self.job.state in ("succeeded", "failed")

    def as_dict(self) -> dict[str, Any]:
        j = self.job
        return {
            "id": str(j.id),
            "tenant": {"code": self.code, "name": self.name},
            "kind": j.kind,
            "template": j.template,
            "state": j.state,
            "requested_by": j.requested_by,
            "created_at": j.created_at.isoformat() if j.created_at else None,
            "started_at": j.started_at.isoformat() if j.started_at else None,
            "finished_at": j.finished_at.isoformat() if j.finished_at else None,
            "seconds": (j.finished_at - j.created_at).total_seconds()
            if j.finished_at and j.created_at
            else None,
            "options": j.options,
            "plan": j.plan,
            "error": j.error,
            "steps": [
                {
                    "name": st.name,
                    "label": st.label,
                    "state": st.state,
                    "attempts": st.attempts,
                    "duration_ms": st.duration_ms,
                    "started_at": st.started_at.isoformat() if st.started_at else None,
                    "finished_at": st.finished_at.isoformat() if st.finished_at else None,
                    "detail": st.detail,
                    "error": st.error,
                }
                for st in self.steps
            ],
        }


async def get_job(db: Database, scope: TenantContext, job_id: uuid.UUID) -> JobView:
    """A job the scope may see (its own or its subtree's); NotFound otherwise."""
    async with db.transaction(scope) as s:
        found = (
            await s.execute(
                select(ProvisioningJob, Tenant.code, Tenant.name)
                .join(Tenant, Tenant.id == ProvisioningJob.tenant_id)
                .where(ProvisioningJob.id == job_id, Tenant.path.startswith(scope.path))
            )
        ).first()
        if found is None:
            raise NotFound(f"no onboarding job {job_id}")
        job_row, code, name = found
        steps = (
            await s.scalars(
                select(ProvisioningStep)
                .where(ProvisioningStep.tenant_id == job_row.tenant_id, ProvisioningStep.job_id == job_row.id)
                .order_by(ProvisioningStep.position)
            )
        ).all()
    views = [
        StepView(
            st.name,
            STEP_LABELS.get(st.name, st.name),
            st.state,
            st.attempts,
            st.duration_ms,
            st.detail,
            st.error,
            st.started_at,
            st.finished_at,
        )
        for st in steps
    ]
    return JobView(job_row, code, name, views)
