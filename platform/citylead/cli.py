"""The ``citylead`` command: run the platform and administer a province from the shell."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import socket
import time
from typing import TYPE_CHECKING

import click
from rich.table import Table

from citylead.cli_assess import assess
from citylead.cli_geography import geography
from citylead.cli_jobs import worker
from citylead.cli_serve import api, dashboard
from citylead.cli_standards import standards
from citylead.cli_support import console, friendly, load_settings
from citylead.history.cli import demo
from citylead.settings import Settings
from provisioning.cli import onboard_group
from provisioning.cli_lifecycle import tenant

if TYPE_CHECKING:
    from citylead.runtime import Runtime
    from tenants.registry import LoadReport

__all__ = ["main"]


def _check_port_free(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                msg = f"port {port} on {host} is already in use: stop the other process or pass --port"
            else:
                msg = f"cannot listen on {host}:{port}: {exc.strerror}"
            raise click.ClickException(msg) from exc


@click.group()
@click.version_option(package_name="citylead")
def main() -> None:
    """citylead — the city leads its counties (以市带县): digital urban management for a province."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("alembic", "pgserver"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


@main.command()
@click.option("--host", default=None, help="Interface to bind (default 127.0.0.1).")
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="Port (default 8000).")
@friendly
def up(host: str | None, port: int | None) -> None:
    """Run the whole platform on this machine: database, migrations, demo, API, identity provider."""
    import uvicorn

    from citylead.api.app import create_app
    from citylead.jobs.worker import InProcessWorker
    from citylead.runtime import prepare, signing_keys

    started = time.monotonic()
    settings = load_settings(host=host, port=port)
    _check_port_free(settings.server.host, settings.server.port)
    embedded = settings.database.database_url is None
    with console.status("Preparing the database…"):
        runtime = prepare(settings)
    jobs: InProcessWorker | None = None
    try:
        keys = signing_keys(settings) if settings.identity.identity == "embedded" else None
        if settings.server.seed_demo:
            with console.status("Seeding the demo province and its case history (first start only)…"):
                report = asyncio.run(_seed(runtime, settings))
            if report is not None:
                console.print(f"Registered province {report.province}: {report.created} tenants.")
        app = create_app(settings, app_database_url=runtime.urls.app, keys=keys, dashboard=True)
        jobs = InProcessWorker(settings, database_url=runtime.urls.app, app_database_url=runtime.urls.app)
        jobs.start()
        _banner(settings, embedded=embedded, seconds=time.monotonic() - started)
        config = uvicorn.Config(
            app,
            host=settings.server.host,
            port=settings.server.port,
            log_level=settings.server.log_level,
            lifespan="on",
            access_log=False,
        )
        server = uvicorn.Server(config)
        with contextlib.suppress(KeyboardInterrupt):  # uvicorn re-raises the Ctrl-C it handled
            server.run()
        if not server.started:
            raise click.ClickException(
                f"the server could not start on {settings.server.host}:{settings.server.port}"
            )
    finally:
        with console.status("Stopping…"):
            if jobs is not None:
                jobs.stop()
            runtime.stop()
        console.print(
            "citylead stopped; data kept in " + (str(settings.home) if embedded else "the database")
        )


async def _seed(runtime: Runtime, settings: Settings) -> LoadReport | None:
    from citylead.demo import ensure_baselines, seed_demo
    from citylead.runtime import provisioner_secret

    async with runtime.owner_database() as owner:
        report = await seed_demo(owner, provisioner_secret=provisioner_secret(settings))
        await ensure_baselines(owner)  # an older home lacks kinds added since (onboarding templates)
    months = settings.server.demo_history_months
    if report is not None and months:  # a new demo: its live divisions get months of cases, counted
        await _seed_history(runtime.urls.app, months)
    return report


async def _seed_history(app_url: str, months: int) -> None:
    """``months`` months of generated cases (demo history) for the dashboard, counted at once:
    their roll-ups (months, quarters, years) and monthly volumes."""
    from citylead.db import Database
    from citylead.demo import DEMO_PROVINCE
    from citylead.history.count import count_history
    from citylead.history.generate import seed_demo_history
    from tenants.context import TenantContext

    db = Database(app_url, pool_size=2)
    try:
        history = await seed_demo_history(db, months=months)
        if history is not None:
            await count_history(db, TenantContext(f"/{DEMO_PROVINCE[:2]}/"), history.months)
    finally:
        await db.dispose()


def _banner(settings: Settings, *, embedded: bool, seconds: float) -> None:
    url = settings.public_url
    console.print(f"\n[bold green]citylead is up[/] in {seconds:.1f} s — {url}")
    table = Table(show_header=False, box=None, padding=(0, 2))
    table.add_row("API", f"{url}/api/v1/  (OpenAPI: {url}/schema)")
    table.add_row("Dashboard", f"{url}/dashboard/  (看板: sign in as a province supervisor or an admin)")
    table.add_row("Health", f"{url}/health  {url}/ready")
    if settings.identity.identity == "embedded":
        table.add_row(
            "Sign in", f"{url}/idp/realms/{settings.identity.keycloak_realm}/protocol/openid-connect/token"
        )
    table.add_row(
        "Database",
        f"embedded PostgreSQL in {settings.home / 'pgdata'}" if embedded else "CITYLEAD_DATABASE_URL",
    )
    console.print(table)
    if settings.server.seed_demo and settings.identity.identity == "embedded":
        console.print(
            "\nDemo logins — password [bold]citylead-demo[/], client_id [bold]citylead[/]:\n"
            "  province_admin@320000   province_supervisor@320000   city_admin@320400\n"
            "  county_admin@320411     dispatcher@320411            supervisor@320411\n"
            "  every role as ROLE@CODE at 320400 and its six divisions (README lists them)\n",
            soft_wrap=True,
        )
    console.print("Press Ctrl-C to stop.\n")


@main.command()
@friendly
def migrate() -> None:
    """Create the roles if needed and bring the schema to head (the Helm pre-upgrade job)."""
    from citylead.runtime import prepare

    runtime = prepare(load_settings())
    runtime.stop()
    console.print("migrations at head")


@main.group()
def registry() -> None:
    """The administrative-division registry (行政区划名录)."""


@registry.command("load")
@click.argument("code")
@friendly
def registry_load(code: str) -> None:
    """Register province CODE (e.g. 340000), its cities and county-level divisions."""
    from sqlalchemy import select

    from citylead.runtime import prepare
    from tenants.context import TenantContext
    from tenants.models import Tenant
    from tenants.registry import load_province
    from tenants.standards.paths import Kind
    from tenants.standards.resolver import Resolver
    from tenants.standards.seeding import seed_baseline

    runtime = prepare(load_settings())

    async def run() -> tuple[LoadReport, dict[Kind, int]]:
        async with runtime.owner_database() as owner:
            async with owner.transaction(None) as s:
                report = await load_province(s, code)
                province = await s.scalar(select(Tenant).where(Tenant.code == code))
            assert province is not None
            async with owner.transaction(TenantContext(province.path)) as s:
                return report, await seed_baseline(s, Resolver(), province)

    try:
        with console.status(f"Loading province {code}…"):
            report, baseline = asyncio.run(run())
    finally:
        runtime.stop()
    console.print(f"Province {code}: {report.created} registered, {report.updated} refreshed", soft_wrap=True)
    table = Table()
    table.add_column("level")
    table.add_column("count", justify="right")
    for level, n in sorted(report.by_level.items()):
        table.add_row(level, str(n))
    console.print(table)
    if baseline:
        kinds = ", ".join(f"{k.value} v{n}" for k, n in baseline.items())
        console.print(f"National standards baseline published: {kinds}", soft_wrap=True)


main.add_command(standards)
main.add_command(worker)
main.add_command(api)
main.add_command(dashboard)
main.add_command(geography)
main.add_command(onboard_group)
main.add_command(tenant)
main.add_command(assess)
main.add_command(demo)
