"""The onboarding steps (接入步骤): each one idempotent, run in the new tenant's own context.

A step gets a :class:`StepRun` (the transaction, the job, the tenant, the request rebuilt from the
stored files) and returns what it did, which the job records. ``{"skipped": True, …}`` marks a
step with nothing to do (no inventory file, no overrides in the template).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from citylead.cases.actions import calendar_for
from citylead.cases.deadlines import start_clock
from citylead.cases.intake import Report, do_report
from citylead.geography.importer import do_import_geography
from citylead.geography.index import Locator
from citylead.geography.models import Grid, Street
from citylead.jobs.registry import JobContext
from citylead.units.inventory import do_import_components
from citylead.units.models import Unit
from citylead.units.validation import validate_unit
from provisioning import identity_runtime
from provisioning.checks import check_request, planned_units, territorial_units
from provisioning.inputs import OnboardRequest, RawUnit, read_units
from provisioning.models import ProvisioningJob, ProvisioningStep, StepState
from provisioning.pipeline import forget_password, one_time_password
from provisioning.templates import Template, load_template
from tenants import audit
from tenants.errors import FieldProblem, InvalidInput
from tenants.models import Tenant, TenantStatus
from tenants.profiles import CommandMode, SupervisionMode, do_update_profile
from tenants.standards.drafts import get_draft
from tenants.standards.seeding import publish_layer

__all__ = ["STEP_FUNCTIONS", "StepRun"]


@dataclass
class StepRun:
    session: AsyncSession
    ctx: JobContext
    job: ProvisioningJob
    target: Tenant
    request: OnboardRequest

    @property
    def actor(self) -> str:
        return self.job.requested_by

    async def template(self) -> Template:
        found = await load_template(self.session, self.ctx.resolver, self.target, self.job.template)
        if found is None:
            raise InvalidInput(f"the template {self.job.template} is no longer published")
        return found


async def _validate(run: StepRun) -> dict[str, Any]:
    """Check again in the worker: the world may have changed since the request was accepted
    (the import steps check their files again themselves, all or nothing)."""
    checked = await check_request(run.session, run.ctx.resolver, run.request, files=False)
    checked.raise_if_any(f"{run.target.name} ({run.target.code})")
    return {"problems": 0}


async def _plan(run: StepRun) -> dict[str, Any]:
    """Decide which steps have nothing to do; the rest of the plan was made by the check."""
    files = run.request.files
    template = await run.template()
    skip = {
        "geography": "grids" not in files,
        "inventory": "components" not in files,
        "standards": not template.overrides,
    }
    steps = (
        await run.session.scalars(
            select(ProvisioningStep).where(
                ProvisioningStep.tenant_id == run.job.tenant_id, ProvisioningStep.job_id == run.job.id
            )
        )
    ).all()
    skipped = []
    for step in steps:
        if skip.get(step.name) and step.state == StepState.PENDING.value:
            step.state = StepState.SKIPPED.value
            step.detail = {"skipped": True, "reason": _SKIP_REASONS[step.name]}
            skipped.append(step.name)
    return {"steps": len(steps) - len(skipped), "skipping": ", ".join(skipped) or "none"}


_SKIP_REASONS = {
    "geography": "no grids file: the division keeps its geography",
    "inventory": "no components file",
    "standards": "the template overrides no standards",
}


async def _tenant(run: StepRun) -> dict[str, Any]:
    """registered → onboarding (接入中), and the operating modes the template sets."""
    template = await run.template()
    target = run.target
    if target.status is TenantStatus.REGISTERED:
        await _set_status(run, TenantStatus.ONBOARDING)
    await do_update_profile(
        run.session,
        target,
        {
            "supervision_mode": SupervisionMode(template.supervision),
            "command_mode": CommandMode(template.command),
        },
        expected_version=None,
        acting_user=run.actor,
    )
    return {
        "status": TenantStatus.ONBOARDING.value,
        "supervision": template.supervision,
        "command": template.command,
    }


async def _geography(run: StepRun) -> dict[str, Any]:
    grids = run.request.files.get("grids")
    if grids is None:
        return {"skipped": True}
    report = await do_import_geography(
        run.session, run.target, json.loads(grids.content), acting_user=run.actor
    )
    return {
        "streets": report.streets,
        "communities": report.communities,
        "grids": report.grids,
        "area_km2": report.area_km2,
        "version": report.version,
    }


async def _units(run: StepRun) -> dict[str, Any]:
    """The template's units, one territorial unit per street, and the file's; upserted by code."""
    template = await run.template()
    streets = (
        await run.session.execute(
            select(Street.code, Street.name, Street.kind)
            .where(Street.tenant_id == run.target.id)
            .order_by(Street.code)
        )
    ).all()
    territorial = territorial_units(run.target, [(c, n, str(k)) for c, n, k in streets])
    raw: list[RawUnit] = []
    if (file := run.request.files.get("units")) is not None:
        raw, shape = read_units(file.content, file.media_type)
        if shape:
            raise InvalidInput("the units file is malformed", errors=shape)
    units = planned_units(run.target, template, territorial, raw)
    problems = [
        FieldProblem(f"units/{u.get('code')}/{p.field}", p.rule, p.value)
        for u in units
        for p in validate_unit(run.target, u)
    ]
    if problems:
        raise InvalidInput(f"{len(problems)} problem(s) in the units; nothing was imported", errors=problems)
    table = cast(Table, Unit.__table__)
    rows = [
        {
            "tenant_id": run.target.id,
            "code": u["code"],
            "name": u["name"],
            "kind": u["kind"],
            "sector": u.get("sector"),
            "street_code": u.get("street_code"),
            "classes": u.get("classes", []),
            "accounts": u.get("accounts", []),
            "credit_code": u.get("credit_code"),
            "contact": u.get("contact"),
        }
        for u in units
    ]
    stmt = insert(table)
    changing = ("name", "kind", "sector", "street_code", "classes", "credit_code", "contact")
    stmt = stmt.on_conflict_do_update(
        index_elements=["tenant_id", "code"],
        set_={c: stmt.excluded[c] for c in changing} | {"version": table.c.version + 1},
    )
    if rows:
        await run.session.execute(stmt, rows)
    await audit.record(
        run.session,
        run.target.id,
        actor=run.actor,
        action="units.imported",
        subject=f"units:{run.target.code}",
        count=len(rows),
    )
    kinds: dict[str, int] = {}
    for u in units:
        kinds[u["kind"]] = kinds.get(u["kind"], 0) + 1
    return {"units": len(rows), **kinds}


async def _inventory(run: StepRun) -> dict[str, Any]:
    file = run.request.files.get("components")
    if file is None:
        return {"skipped": True}
    report = await do_import_components(
        run.session, run.ctx.resolver, run.target, file.content, file.media_type, acting_user=run.actor
    )
    return {"received": report.received, "inserted": report.inserted, "updated": report.updated}


async def _identity(run: StepRun) -> dict[str, Any]:
    """The tenant's group under its parent's, the template's realm roles, the first administrator."""
    template = await run.template()
    password = await one_time_password(run.session, run.job)
    report = await identity_runtime.provision(
        run.ctx, run.target, template, run.request.admin_email, password
    )
    await forget_password(run.session, run.job)  # erased in the same commit that records the user
    await audit.record(
        run.session,
        run.target.id,
        actor=run.actor,
        action="identity.provisioned",
        subject=f"group:{report['group_path']}",
        **{k: v for k, v in report.items() if k != "group_path"},
    )
    return report


async def _standards(run: StepRun) -> dict[str, Any]:
    """Publish the template's overrides in the division's own layers (kept: its other entries)."""
    template = await run.template()
    published: dict[str, int] = {}
    for kind, values in template.overrides.items():
        draft = await get_draft(run.session, run.target, kind)
        if all(draft.layer.values.get(p, _MISSING) == v for p, v in values.items()) and not draft.pending:
            continue  # already published by an earlier run
        published[kind.value] = await publish_layer(
            run.session,
            run.ctx.resolver,
            run.target,
            kind,
            {**draft.layer.values, **values},
            policies={p: r.value for p, r in draft.layer.policies.items()},
            note=f"onboarding template {template.name} ({template.label})",
            acting_user=run.actor,
        )
    return {"published": published} if published else {"skipped": not template.overrides, "published": {}}


_MISSING = object()


async def _smoke(run: StepRun) -> dict[str, Any]:
    """A synthetic report at the first grid's centre, located, routed and given a deadline, in a
    savepoint that is rolled back: nothing of it remains."""
    s, target = run.session, run.target
    grid = await s.scalar(select(Grid).where(Grid.tenant_id == target.id).order_by(Grid.code).limit(1))
    if grid is None:
        raise InvalidInput("smoke check: the division has no grids, so no case could be located")
    report = Report(
        kind="matter",
        code="06012",  # 道路不洁: territory first, in every catalogue edition the baseline carries
        lon=float(grid.centroid_lon),
        lat=float(grid.centroid_lat),
        description="接入试运行检查（自动回滚）",
    )
    savepoint = await s.begin_nested()
    try:
        await s.execute(
            update(Tenant)
            .where(Tenant.id == target.id)
            .values(status=TenantStatus.LIVE)
            .execution_options(synchronize_session=False)
        )
        target.status = TenantStatus.LIVE
        locator = run.ctx.extras.setdefault("locator", Locator())  # one index cache per worker
        intake = await do_report(
            s, target, report, resolver=run.ctx.resolver, locator=locator, acting_user=run.actor
        )
        case = intake.case
        now = await s.scalar(select(func.now()))
        assert now is not None
        start_clock(case, "dispose", now, await calendar_for(s, run.ctx.resolver, case))
        result = {
            "grid": case.grid_code,
            "street": case.street_code,
            "unit": (case.suggestion or {}).get("unit_code"),
            "limit": (case.limits or {}).get("dispose"),
            "due_at": case.due_at.isoformat() if case.due_at else None,
        }
    finally:
        await savepoint.rollback()
        target.status = TenantStatus.ONBOARDING
    missing = [k for k in ("grid", "unit", "due_at") if not result.get(k)]
    if missing:
        raise InvalidInput(
            "smoke check failed: a synthetic case was not " + ", ".join(_MISSING_WHAT[k] for k in missing),
            errors=[FieldProblem(f"smoke/{k}", _MISSING_WHAT[k]) for k in missing],
        )
    return result


_MISSING_WHAT = {"grid": "located in a grid", "unit": "routed to a unit", "due_at": "given a deadline"}


async def _live(run: StepRun) -> dict[str, Any]:
    await _set_status(run, TenantStatus.LIVE, live_since=func.now())
    return {"status": TenantStatus.LIVE.value}


async def _set_status(run: StepRun, status: TenantStatus, **values: Any) -> None:
    """The tenant's status (its own row, in its own context), audited as ``tenant.{status}``."""
    await run.session.execute(
        update(Tenant)
        .where(Tenant.id == run.target.id)
        .values(status=status, updated_at=func.now(), version=Tenant.version + 1, **values)
        .execution_options(synchronize_session=False)
    )
    await audit.record(
        run.session,
        run.target.id,
        actor=run.actor,
        action=f"tenant.{status.value}",
        subject=f"tenant:{run.target.code}",
        job=str(run.job.id),
    )


StepFn = Callable[[StepRun], Awaitable[dict[str, Any]]]
STEP_FUNCTIONS: dict[str, StepFn] = {
    "validate": _validate,
    "plan": _plan,
    "tenant": _tenant,
    "geography": _geography,
    "units": _units,
    "inventory": _inventory,
    "identity": _identity,
    "standards": _standards,
    "smoke": _smoke,
    "live": _live,
}
