"""``citylead onboard``: bring a county or a city live (接入) from the shell, or a whole province.

The command checks the request (``--dry-run`` stops there and prints every problem and the plan),
submits the job, and runs the pipeline in this process's own worker while it shows the progress
(a ``citylead up`` or ``citylead worker`` on the same database may take steps too: either is fine).
It acts as the application role, audited as ``cli:<login>``, in the province's context.
"""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from citylead.cli_support import cli_actor, console, friendly, load_settings
from citylead.db import Database
from citylead.settings import Settings
from provisioning.checks import Checked
from provisioning.inputs import InputFile, OnboardRequest, file_from_path
from provisioning.manifest import Entry, Manifest, Outcome, load_manifest, run_entries
from provisioning.service import JobView, dry_run, get_job, onboard
from tenants.context import TenantContext
from tenants.errors import Conflict, FieldProblem, InvalidInput
from tenants.standards.resolver import Resolver

__all__ = ["onboard_group"]

POLL_SECONDS = 0.1
log = logging.getLogger(__name__)
_FILE = click.Path(exists=True, dir_okay=False, readable=True, path_type=Path)


@dataclass
class _Platform:
    """The database as the application role, a resolver, and (optionally) this process's worker."""

    settings: Settings
    db: Database
    resolver: Resolver

    def scope(self, code: str) -> TenantContext:
        return TenantContext(f"/{code[:2]}/")  # the operator acts for the province


@asynccontextmanager
async def _platform(
    settings: Settings, *, worker_threads: int | None, processes: int = 1
) -> AsyncIterator[_Platform]:
    """``worker_threads``: run a worker in this process too (None: only submit and read);
    ``processes`` > 1: and ``processes - 1`` ``citylead worker`` processes beside it, so the steps
    of many jobs use more than one core (one Python process does not)."""
    from citylead.jobs.worker import InProcessWorker
    from citylead.runtime import prepare

    for noisy in ("dramatiq", "dramatiq_postgres", "citylead.jobs", "citylead.geography"):
        logging.getLogger(noisy).setLevel(logging.WARNING)  # the progress display says what happens
    runtime = await asyncio.to_thread(prepare, settings)
    jobs = None
    helpers: list[subprocess.Popen[bytes]] = []
    db = Database(runtime.urls.app, pool_size=4)
    try:
        if worker_threads is not None:
            settings.jobs = settings.jobs.model_copy(update={"worker_threads": worker_threads})
            jobs = InProcessWorker(settings, database_url=runtime.urls.app, app_database_url=runtime.urls.app)
            await asyncio.to_thread(jobs.start)
            helpers = [
                _worker_process(worker_threads, settings.home / "logs" / f"onboard-worker-{i}.log")
                for i in range(1, processes)
            ]
        yield _Platform(settings, db, Resolver())
    finally:
        await db.dispose()
        for proc in helpers:
            await asyncio.to_thread(_stop_process, proc)
        if jobs is not None:
            await asyncio.to_thread(jobs.stop)
        runtime.stop()


def _worker_process(threads: int, log_file: Path) -> subprocess.Popen[bytes]:
    """A ``citylead worker`` with this command's settings (its environment), logging to a file."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as out:
        return subprocess.Popen(  # noqa: S603 - this interpreter, a fixed command
            [sys.executable, "-m", "citylead", "worker", "--threads", str(threads)],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def _stop_process(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM (a running step gets a few seconds, then is delivered again elsewhere), then kill."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def _progress(*, transient: bool) -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=transient,
    )


def _files(**paths: Path | None) -> dict[str, InputFile]:
    out = {}
    for name, path in paths.items():
        if path is not None:
            try:
                out[name] = file_from_path(name, path)
            except ValueError as exc:
                raise click.BadParameter(str(exc), param_hint=f"--{name}") from exc
    return out


def _problems_table(problems: list[FieldProblem], *, title: str) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("where")
    table.add_column("rule")
    table.add_column("value", overflow="fold")
    for p in problems:
        table.add_row(p.field, p.rule, "" if p.value is None else str(p.value)[:80])
    return table


def _print_plan(checked: Checked) -> None:
    plan = checked.plan
    if not plan:
        return
    target, template = plan["target"], plan.get("template") or {}
    console.print(
        f"Plan for {target['name']} ({target['code']}, {target['level']}, now {target['status']}): "
        f"template {template.get('name')} — {template.get('label')}",
        soft_wrap=True,
    )
    table = Table(show_header=False, box=None, padding=(0, 2))
    geo = plan.get("geography") or {}
    if "grids" in geo:
        table.add_row(
            "geography",
            f"{geo['streets']} streets/towns, {geo['communities']} communities, {geo['grids']} grids, "
            f"{geo['area_km2']} km²",
        )
    elif "kept" in geo:
        table.add_row("geography", f"kept ({geo['kept']} streets)")
    units = plan.get("units") or {}
    table.add_row("units", ", ".join(f"{k} {v}" for k, v in units.items()))
    table.add_row("components", str(plan.get("components", 0)))
    ident = plan.get("identity") or {}
    table.add_row(
        "identity",
        f"group {ident.get('group')}, roles {', '.join(ident.get('roles') or [])}, "
        f"first admin {ident.get('admin') or '—'}",
    )
    table.add_row("modes", f"supervision {template.get('supervision')}, command {template.get('command')}")
    overrides = plan.get("standards") or {}
    table.add_row(
        "standards", ", ".join(f"{k}: {n} entries" for k, n in overrides.items()) or "inherited as they are"
    )
    console.print(table)


def _print_job(view: JobView) -> None:
    table = Table(title=f"Job {view.job.id}", title_justify="left")
    table.add_column("step")
    table.add_column("state")
    table.add_column("ms", justify="right")
    table.add_column("result", overflow="fold")
    for st in view.steps:
        result = st.error.get("detail", "") if st.error else _brief(st.detail)
        table.add_row(
            f"{st.name} {st.label}", st.state, "" if st.duration_ms is None else str(st.duration_ms), result
        )
    console.print(table)
    for problem in (view.job.error or {}).get("errors", [])[:50]:
        console.print(f"  {problem['field']}: {problem['rule']}", markup=False, soft_wrap=True)


def _brief(detail: dict[str, Any] | None) -> str:
    if not detail:
        return ""
    return ", ".join(f"{k}={v}" for k, v in detail.items() if not isinstance(v, dict | list))[:120]


async def _wait(
    platform: _Platform, scope: TenantContext, job_id: uuid.UUID, on_change: Callable[[JobView], None]
) -> JobView:
    while True:
        view = await get_job(platform.db, scope, job_id)
        on_change(view)
        if view.done:
            return view
        await asyncio.sleep(POLL_SECONDS)


def _one(request: OnboardRequest, *, dry: bool) -> None:
    settings = load_settings()

    async def go() -> int:
        async with _platform(
            settings, worker_threads=None if dry else settings.jobs.worker_threads
        ) as platform:
            scope = platform.scope(request.code)
            checked = await dry_run(platform.db, platform.resolver, scope, request)
            if checked.problems:
                console.print(
                    _problems_table(
                        checked.problems, title=f"{len(checked.problems)} problem(s); nothing was changed"
                    )
                )
                return 1
            _print_plan(checked)
            if dry:
                console.print("[green]Dry run: no problems.[/] Nothing was changed.")
                return 0
            started = time.monotonic()
            submitted = await onboard(
                platform.db, platform.resolver, scope, request, acting_user=cli_actor(), checked=checked
            )
            with _progress(transient=True) as progress:
                task = progress.add_task("queued", total=None)

                def show(view: JobView) -> None:
                    finished = sum(st.state in ("done", "skipped") for st in view.steps)
                    running = next((st for st in view.steps if st.state == "running"), None)
                    label = f"{running.name} {running.label}" if running else view.job.state
                    progress.update(task, total=len(view.steps), completed=finished, description=label)

                view = await _wait(platform, scope, submitted.job.id, show)
            _print_job(view)
            seconds = time.monotonic() - started
            if view.job.state != "succeeded":
                console.print(
                    f"[bold red]Onboarding {request.code} failed[/] after {seconds:.1f} s", soft_wrap=True
                )
                return 1
            console.print(
                f"[bold green]{view.name} ({view.code}) is live[/] — {seconds:.1f} s", soft_wrap=True
            )
            if submitted.admin_username:
                console.print(
                    f"First administrator: {submitted.admin_username}, one-time password "
                    f"[bold]{submitted.temporary_password}[/] (shown once)",
                    soft_wrap=True,
                )
            return 0

    raise SystemExit(asyncio.run(go()))


@click.group("onboard")
def onboard_group() -> None:
    """Onboard cities and counties (接入): one command, seconds, from templates."""


@onboard_group.command("county")
@click.argument("code")
@click.option("--city", required=True, help="The county's city (six digits).")
@click.option("--template", required=True, help="district, county-city, county, or a city's own.")
@click.option("--grids", type=_FILE, help="Streets, communities and grids (GeoJSON).")
@click.option("--units", type=_FILE, help="Units (CSV or JSON).")
@click.option("--components", type=_FILE, help="Component inventory (CSV or GeoJSON).")
@click.option("--admin", help="E-mail of the first administrator (county_admin).")
@click.option("--dry-run", is_flag=True, help="Check and plan only; change nothing.")
@friendly
def county(
    code: str,
    city: str,
    template: str,
    grids: Path | None,
    units: Path | None,
    components: Path | None,
    admin: str | None,
    dry_run: bool,
) -> None:
    """Bring county-level division CODE of CITY live."""
    files = _files(grids=grids, units=units, components=components)
    _one(OnboardRequest("county", code, city, template, admin, files), dry=dry_run)


@onboard_group.command("city")
@click.argument("code")
@click.option("--template", default="city", show_default=True)
@click.option("--units", type=_FILE, help="City-level units (CSV or JSON).")
@click.option("--admin", help="E-mail of the first administrator (city_admin).")
@click.option("--dry-run", is_flag=True, help="Check and plan only; change nothing.")
@friendly
def city(code: str, template: str, units: Path | None, admin: str | None, dry_run: bool) -> None:
    """Bring city CODE live, ready to onboard its own divisions."""
    province = code[:2] + "0000"
    _one(OnboardRequest("city", code, province, template, admin, _files(units=units)), dry=dry_run)


@onboard_group.command("manifest")
@click.argument("file", type=_FILE)
@click.option("--dry-run", is_flag=True, help="Check every entry and change nothing.")
@click.option(
    "--concurrency", type=click.IntRange(1, 16), default=None, help="Jobs at once (default: the manifest's)."
)
@click.option(
    "--processes",
    type=click.IntRange(1, 16),
    default=1,
    show_default=True,
    help="Worker processes running the steps (one per core helps; this command is one of them).",
)
@friendly
def manifest(file: Path, dry_run: bool, concurrency: int | None, processes: int) -> None:
    """Onboard the cities and counties of a province manifest (YAML)."""
    loaded = load_manifest(file)
    if concurrency is not None:
        loaded.concurrency = concurrency
    raise SystemExit(asyncio.run(_manifest(loaded, dry=dry_run, processes=processes)))


async def _manifest(loaded: Manifest, *, dry: bool, processes: int = 1) -> int:
    settings = load_settings()
    threads = max(settings.jobs.worker_threads, -(-loaded.concurrency // processes))
    planned = {e.request.code for e in loaded.cities if e.request}
    async with _platform(settings, worker_threads=None if dry else threads, processes=processes) as platform:
        scope = TenantContext(f"/{loaded.province[:2]}/")
        checks = {}
        with console.status(f"Checking {len(loaded.entries)} entries…"):
            for entry in loaded.entries:
                if entry.request is not None and not entry.problems:
                    checked = await dry_run(
                        platform.db,
                        platform.resolver,
                        scope,
                        entry.request,
                        parent_planned=entry.request.parent in planned,
                    )
                    entry.problems += checked.problems
                    checks[entry.where] = checked
        invalid = [e for e in loaded.entries if e.request is None or e.problems]
        if dry or invalid:
            outcomes = [
                Outcome(e, "invalid" if e.request is None or e.problems else "ok", problems=e.problems)
                for e in loaded.entries
            ]
            _summary(outcomes, checks)
            if invalid:
                console.print(
                    f"[bold red]{len(invalid)} of {len(loaded.entries)} entries have problems[/]; "
                    "nothing was changed."
                )
                return 1
            console.print(
                f"[green]Dry run: all {len(loaded.entries)} entries are ready.[/] Nothing was changed."
            )
            return 0
        started = time.monotonic()
        with _progress(transient=False) as progress:
            task = progress.add_task("onboarding", total=len(loaded.entries))

            def done(outcome: Outcome) -> None:
                progress.advance(task)
                request = outcome.entry.request
                mark = {"succeeded": "[green]✓[/]", "skipped": "[yellow]–[/]"}.get(outcome.state, "[red]✗[/]")
                where = request.code if request else outcome.entry.where
                progress.console.print(
                    f"{mark} {where} {outcome.extra.get('name', '')} "
                    f"{outcome.state} {outcome.seconds:.1f} s {outcome.detail}",
                    soft_wrap=True,
                )

            async def run(entry: Entry) -> Outcome:
                assert entry.request is not None
                try:
                    submitted = await onboard(
                        platform.db,
                        platform.resolver,
                        scope,
                        entry.request,
                        acting_user=cli_actor(),
                        checked=checks.get(entry.where),  # checked a moment ago, with every other entry
                    )
                except (InvalidInput, Conflict) as exc:
                    problems = exc.errors if isinstance(exc, InvalidInput) else []
                    return Outcome(entry, "failed", problems=problems, detail=exc.detail)
                except Exception as exc:  # one entry's failure never stops the others
                    log.exception("onboarding %s could not be submitted", entry.request.code)
                    return Outcome(entry, "failed", detail=f"{type(exc).__name__}: see the log")
                t0 = time.monotonic()
                view = await _wait(platform, scope, submitted.job.id, lambda _: None)
                slowest = max(view.steps, key=lambda st: st.duration_ms or 0)
                error = (view.job.error or {}).get("detail", "")
                return Outcome(
                    entry,
                    view.job.state,
                    seconds=time.monotonic() - t0,
                    job_id=str(view.job.id),
                    slowest=f"{slowest.name} {slowest.duration_ms} ms",
                    detail=error,
                    extra={
                        "name": view.name,
                        "admin": submitted.admin_username,
                        "password": submitted.temporary_password,
                    },
                )

            outcomes = await run_entries(loaded, run, on_done=done)
        _summary(outcomes, checks)
        ok = sum(o.state == "succeeded" for o in outcomes)
        console.print(
            f"{ok} of {len(outcomes)} onboarded in {time.monotonic() - started:.1f} s", soft_wrap=True
        )
        return 0 if ok == len(outcomes) else 1


def _summary(outcomes: list[Outcome], checks: dict[str, Checked]) -> None:
    table = Table(title="Summary", title_justify="left")
    for col in ("entry", "code", "name", "template", "state", "s", "slowest step", "problems / error"):
        table.add_column(col, overflow="fold")
    for o in outcomes:
        req = o.entry.request
        checked = checks.get(o.entry.where)
        name = o.extra.get("name") or (
            checked.plan.get("target", {}).get("name") if checked and checked.plan else ""
        )
        problems = "; ".join(f"{p.field}: {p.rule}" for p in o.problems[:3])
        if len(o.problems) > 3:
            problems += f" (+{len(o.problems) - 3} more)"
        table.add_row(
            o.entry.where,
            req.code if req else "",
            name or "",
            req.template if req else "",
            o.state,
            f"{o.seconds:.1f}" if o.seconds else "",
            o.slowest or "",
            problems or o.detail,
        )
    console.print(table)
    credentials = [o for o in outcomes if o.extra.get("admin")]
    if credentials:
        console.print("First administrators (one-time passwords, shown once):")
        for o in credentials:
            code = o.entry.request.code if o.entry.request else ""
            console.print(
                f"  {code} {o.extra['admin']} {o.extra['password']}",
                markup=False,
            )


@onboard_group.command("status")
@click.argument("code")
@friendly
def status(code: str) -> None:
    """Show the latest onboarding job of tenant CODE: each step's state, timings and errors."""
    from sqlalchemy import select

    from provisioning.models import ProvisioningJob
    from tenants.models import Tenant

    async def go() -> None:
        async with _platform(load_settings(), worker_threads=None) as platform:
            scope = platform.scope(code)
            async with platform.db.transaction(scope) as s:
                job_id = await s.scalar(
                    select(ProvisioningJob.id)
                    .join(Tenant, Tenant.id == ProvisioningJob.tenant_id)
                    .where(Tenant.code == code)
                    .order_by(ProvisioningJob.created_at.desc())
                    .limit(1)
                )
            if job_id is None:
                raise InvalidInput(f"{code} has no onboarding job")
            _print_job(await get_job(platform.db, scope, job_id))

    asyncio.run(go())


@onboard_group.command("samples")
@click.argument("code")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option("--grids", default=300, show_default=True, type=click.IntRange(1, 5000))
@click.option("--units", default=40, show_default=True, type=click.IntRange(1, 2000))
@click.option("--components", default=20_000, show_default=True, type=click.IntRange(0, 200_000))
@friendly
def samples(code: str, out_dir: Path, grids: int, units: int, components: int) -> None:
    """Write sample input files for division CODE (grids, units, components) to try onboarding."""
    from sqlalchemy import select
    from sqlalchemy.orm import undefer

    from provisioning.samples import write_sample_inputs
    from tenants.models import Tenant

    async def go() -> dict[str, Path]:
        async with (
            _platform(load_settings(), worker_threads=None) as platform,
            platform.db.transaction(platform.scope(code)) as s,
        ):
            tenant = await s.scalar(
                select(Tenant).where(Tenant.code == code).options(undefer(Tenant.boundary))
            )
        if tenant is None or not tenant.level.is_division:
            raise InvalidInput(f"no county-level division {code} in the registry")
        return await asyncio.to_thread(
            write_sample_inputs, tenant, out_dir, grids=grids, units=units, components=components
        )

    for name, path in asyncio.run(go()).items():
        console.print(f"{name}: {path} ({path.stat().st_size:,} bytes)", soft_wrap=True)
