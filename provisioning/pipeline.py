"""The onboarding pipeline (接入流水线): a job of recorded steps, each one dramatiq message.

``submit`` writes the job, its steps and its input files in the new tenant's own context, and
enqueues the first step through the outbox (so the job runs if and only if the request
committed). Each step is the job ``provisioning.step`` for one position:

1. it *claims* the step in a short transaction (``running``, attempts + 1, started), committed
   so progress is visible at once;
2. it does the work and marks the step ``done`` with its timings and result in **one**
   transaction, which also enqueues the next step. A worker killed half-way loses that
   transaction whole; the broker delivers the message again (RabbitMQ at once, PostgreSQL once
   the dead worker's heartbeat is stale) and the step runs again from the start. A step that is
   already ``done`` is never run twice, and every step's work is idempotent (upserts, ensure-style
   identity calls), so a resumed job has no duplicate rows, groups or users.

A rule broken (bad input, a conflict) fails the job at once with the problems; anything else
is retried with backoff, and after ``MAX_ATTEMPTS`` the job fails with the last error.
"""

from __future__ import annotations

import logging
import secrets
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from citylead.jobs.outbox import enqueue
from citylead.jobs.registry import JobContext, job
from provisioning.checks import Checked
from provisioning.inputs import FILE_NAMES, InputFile, OnboardRequest
from provisioning.models import (
    JobState,
    ProvisioningInput,
    ProvisioningJob,
    ProvisioningStep,
    StepState,
)
from tenants import audit
from tenants.errors import CityleadError, Conflict, FieldProblem, InvalidInput, NotFound
from tenants.models import Tenant

__all__ = [
    "JOB_NAME",
    "MAX_ATTEMPTS",
    "QUEUE",
    "STEPS",
    "Submitted",
    "job_request",
    "run_step",
    "submit",
]

log = logging.getLogger(__name__)

JOB_NAME = "provisioning.step"
QUEUE = "provisioning"
MAX_ATTEMPTS = 4
STEPS: dict[str, tuple[str, ...]] = {
    "county": (
        "validate",
        "plan",
        "tenant",
        "geography",
        "units",
        "inventory",
        "identity",
        "standards",
        "smoke",
        "live",
    ),
    "city": ("validate", "plan", "tenant", "units", "identity", "standards", "live"),
}
STEP_LABELS = {
    "validate": "校验输入",
    "plan": "生成计划",
    "tenant": "开通租户",
    "geography": "导入网格",
    "units": "导入单位",
    "inventory": "导入部件",
    "identity": "开通账号",
    "standards": "应用模板标准",
    "smoke": "试运行检查",
    "live": "上线",
}
SECRET = "admin_password"  # noqa: S105 - an input name, not a password; the first administrator's one-time password, kept until used


@dataclass(frozen=True)
class Submitted:
    job: ProvisioningJob
    admin_username: str | None
    temporary_password: str | None  # shown once to whoever asked; erased once the user exists


async def submit(
    session: AsyncSession,
    target: Tenant,
    request: OnboardRequest,
    checked: Checked,
    *,
    acting_user: str,
) -> Submitted:
    """Record the job and enqueue its first step. The session is in ``target``'s own context.

    Conflict (409) if an unfinished job for ``target`` exists."""
    job_row = ProvisioningJob(
        tenant_id=target.id,
        id=uuid.uuid4(),
        kind=request.kind,
        template=request.template,
        state=JobState.QUEUED.value,
        requested_by=acting_user,
        options=request.options(),
        plan=checked.plan,
    )
    try:
        async with session.begin_nested():
            session.add(job_row)
    except IntegrityError as exc:
        raise Conflict(f"{target.name} ({target.code}) already has an onboarding job running") from exc
    for position, name in enumerate(STEPS[request.kind]):
        state = StepState.QUEUED if position == 0 else StepState.PENDING
        session.add(
            ProvisioningStep(
                tenant_id=target.id, job_id=job_row.id, position=position, name=name, state=state.value
            )
        )
    for name, file in request.files.items():
        session.add(_input(target, job_row, name, file))
    password = None
    if request.admin_email:
        password = secrets.token_urlsafe(12)
        session.add(
            _input(target, job_row, SECRET, InputFile("-", "text/plain", password.encode()), secret=True)
        )
    enqueue(session, target, JOB_NAME, queue=QUEUE, job_id=str(job_row.id), position=0)
    await audit.record(
        session,
        target.id,
        actor=acting_user,
        action="onboarding.requested",
        subject=f"tenant:{target.code}",
        job=str(job_row.id),
        template=request.template,
        files=sorted(request.files),
    )
    await session.flush()
    return Submitted(job_row, request.admin_email.lower() if request.admin_email else None, password)


def _input(
    target: Tenant, job_row: ProvisioningJob, name: str, file: InputFile, *, secret: bool = False
) -> Any:
    return ProvisioningInput(
        tenant_id=target.id,
        job_id=job_row.id,
        name=name,
        filename=file.filename[:255],
        media_type=file.media_type[:64],
        content=file.content,
        secret=secret,
    )


async def job_request(session: AsyncSession, job_row: ProvisioningJob, code: str) -> OnboardRequest:
    """The request a job was submitted with, rebuilt from its record and its stored files."""
    rows = (
        await session.scalars(
            select(ProvisioningInput).where(
                ProvisioningInput.tenant_id == job_row.tenant_id,
                ProvisioningInput.job_id == job_row.id,
                ProvisioningInput.name.in_(FILE_NAMES),
            )
        )
    ).all()
    return OnboardRequest(
        kind="city" if job_row.kind == "city" else "county",
        code=code,
        parent=str(job_row.options["parent"]),
        template=job_row.template,
        admin_email=job_row.options.get("admin_email"),
        files={r.name: InputFile(r.filename, r.media_type, r.content) for r in rows},
    )


async def one_time_password(session: AsyncSession, job_row: ProvisioningJob) -> str | None:
    row = await session.get(ProvisioningInput, (job_row.tenant_id, job_row.id, SECRET))
    return row.content.decode() if row is not None else None


async def forget_password(session: AsyncSession, job_row: ProvisioningJob) -> None:
    row = await session.get(ProvisioningInput, (job_row.tenant_id, job_row.id, SECRET))
    if row is not None:
        await session.delete(row)


# --- running a step ------------------------------------------------------------------------------


_PERMANENT = (InvalidInput, Conflict, NotFound)


@job(JOB_NAME, queue=QUEUE, max_retries=MAX_ATTEMPTS - 1, time_limit_ms=15 * 60_000)
async def run_step(ctx: JobContext, *, tenant_id: str, tenant_path: str, job_id: str, position: int) -> None:
    """Run step ``position`` of job ``job_id`` (idempotent: a finished step is never run again)."""
    from provisioning.steps import STEP_FUNCTIONS, StepRun

    tid, jid = uuid.UUID(tenant_id), uuid.UUID(job_id)
    async with ctx.transaction(tenant_path) as s:
        step = await _step(s, tid, jid, position)
        job_row = await s.get(ProvisioningJob, (tid, jid))
        if step is None or job_row is None or step.state in _FINISHED or job_row.state in _OVER:
            return
        step.state = StepState.RUNNING.value
        step.attempts += 1
        step.started_at = func.clock_timestamp()
        step.error = None
        if job_row.state == JobState.QUEUED.value:
            job_row.state = JobState.RUNNING.value
            job_row.started_at = func.clock_timestamp()
        attempt = step.attempts
    started = time.perf_counter()
    try:
        async with ctx.transaction(tenant_path) as s:
            step = await _step(s, tid, jid, position, lock=True)
            job_row = await s.get(ProvisioningJob, (tid, jid))
            target = await s.get(Tenant, tid)
            if step is None or job_row is None or target is None or step.state in _FINISHED:
                return  # another delivery finished it meanwhile
            run = StepRun(s, ctx, job_row, target, await job_request(s, job_row, target.code))
            detail = await STEP_FUNCTIONS[step.name](run)
            step.state = (StepState.SKIPPED if detail.get("skipped") else StepState.DONE).value
            step.finished_at = func.clock_timestamp()
            step.duration_ms = round((time.perf_counter() - started) * 1000)
            step.detail = detail
            await _advance(s, ctx, job_row, target, position)
    except _PERMANENT as exc:
        await _fail(ctx, tenant_path, tid, jid, position, exc, started)
    except IntegrityError as exc:  # another try cannot fix it: name the rule the data broke
        await _fail(ctx, tenant_path, tid, jid, position, _conflict(exc), started)
    except Exception as exc:
        if attempt >= MAX_ATTEMPTS:
            await _fail(ctx, tenant_path, tid, jid, position, exc, started)
            return
        log.warning(
            "onboarding step %s of job %s failed (attempt %d), retrying: %s", position, job_id, attempt, exc
        )
        await _note(ctx, tenant_path, tid, jid, position, exc)
        raise


def _conflict(exc: IntegrityError) -> Conflict:
    cause = getattr(exc.orig, "__cause__", None)
    rule = getattr(cause, "constraint_name", None) or "a uniqueness or reference rule"
    return Conflict(
        f"the data conflicts with what the tenant already has ({rule}); nothing of this step was kept"
    )


_FINISHED = (StepState.DONE.value, StepState.SKIPPED.value)
_OVER = (JobState.SUCCEEDED.value, JobState.FAILED.value)


async def _step(
    s: AsyncSession, tid: uuid.UUID, jid: uuid.UUID, position: int, *, lock: bool = False
) -> ProvisioningStep | None:
    query = select(ProvisioningStep).where(
        ProvisioningStep.tenant_id == tid,
        ProvisioningStep.job_id == jid,
        ProvisioningStep.position == position,
    )
    return await s.scalar(query.with_for_update() if lock else query)


def prerequisites(names: Sequence[str], i: int) -> list[int]:
    """The positions step ``i`` waits for: every step of the chain before it (a step skipped early
    does not let a later one start before its turn); identity only what precedes the plan's end (it
    runs beside the imports); live everything."""
    name = names[i]
    if name == "live":
        return list(range(i))
    end = names.index(_BESIDE[name]) + 1 if name in _BESIDE else i
    return [j for j in range(end) if names[j] not in _BESIDE]


_BESIDE = {"identity": "plan"}  # steps that run beside the chain, after the step named


async def _advance(
    s: AsyncSession, ctx: JobContext, job_row: ProvisioningJob, target: Tenant, position: int
) -> None:
    """Enqueue every step whose prerequisites are now finished, or finish the job. The job row is
    locked first, so two steps finishing at once see each other's result: one of them enqueues
    what both waited for, and only one (a step enqueued is ``queued``)."""
    await s.execute(
        select(ProvisioningJob.id)
        .where(ProvisioningJob.tenant_id == job_row.tenant_id, ProvisioningJob.id == job_row.id)
        .with_for_update()
    )
    steps = list(
        (
            await s.scalars(
                select(ProvisioningStep)
                .where(ProvisioningStep.tenant_id == job_row.tenant_id, ProvisioningStep.job_id == job_row.id)
                .order_by(ProvisioningStep.position)
                .execution_options(populate_existing=True)
            )
        ).all()
    )
    names = [st.name for st in steps]
    if all(st.state in _FINISHED for st in steps):
        job_row.state = JobState.SUCCEEDED.value
        job_row.finished_at = func.clock_timestamp()
        await audit.record(
            s,
            target.id,
            actor=job_row.requested_by,
            action="onboarding.succeeded",
            subject=f"tenant:{target.code}",
            job=str(job_row.id),
        )
        return
    for i, st in enumerate(steps):
        if st.state == StepState.PENDING.value and all(
            steps[p].state in _FINISHED for p in prerequisites(names, i)
        ):
            st.state = StepState.QUEUED.value
            enqueue(s, target, JOB_NAME, queue=QUEUE, job_id=str(job_row.id), position=st.position)


def _error(exc: BaseException) -> dict[str, Any]:
    if isinstance(exc, CityleadError):
        out: dict[str, Any] = {"title": exc.title, "detail": exc.detail, "status": exc.status}
        if isinstance(exc, InvalidInput):
            out["errors"] = [_problem(p) for p in exc.errors]
        return out
    # unexpected errors: the class only (the log has the rest); never internals in the record
    return {"title": "internal error", "detail": f"{type(exc).__name__}: the step failed; see the worker log"}


def _problem(p: FieldProblem) -> dict[str, Any]:
    out: dict[str, Any] = {"field": p.field, "rule": p.rule}
    if p.value is not None:
        out["value"] = p.value if isinstance(p.value, str | int | float | bool) else str(p.value)
    return out


async def _fail(
    ctx: JobContext,
    path: str,
    tid: uuid.UUID,
    jid: uuid.UUID,
    position: int,
    exc: BaseException,
    started: float,
) -> None:
    error = _error(exc)
    if not isinstance(exc, CityleadError):
        log.exception("onboarding step %s of job %s failed for good", position, jid, exc_info=exc)
    async with ctx.transaction(path) as s:
        step = await _step(s, tid, jid, position, lock=True)
        job_row = await s.get(ProvisioningJob, (tid, jid))
        if step is None or job_row is None:
            return
        step.state = StepState.FAILED.value
        step.finished_at = func.clock_timestamp()
        step.duration_ms = round((time.perf_counter() - started) * 1000)
        step.error = error
        job_row.state = JobState.FAILED.value
        job_row.finished_at = func.clock_timestamp()
        job_row.error = {"step": step.name, **error}
        await forget_password(s, job_row)
        await audit.record(
            s,
            tid,
            actor=job_row.requested_by,
            action="onboarding.failed",
            subject=f"tenant:{path}",
            job=str(jid),
            step=step.name,
            detail=error.get("detail"),
        )


async def _note(
    ctx: JobContext, path: str, tid: uuid.UUID, jid: uuid.UUID, position: int, exc: BaseException
) -> None:
    """Keep a retried step's last error visible while it waits for its next try."""
    async with ctx.transaction(path) as s:
        step = await _step(s, tid, jid, position, lock=True)
        if step is not None and step.state not in _FINISHED:
            step.error = {"retrying": True, **_error(exc)}
