"""``citylead api`` and ``citylead dashboard``: the production web processes (what the Helm chart
runs), N uvicorn workers each.

Unlike ``citylead up`` it needs ``CITYLEAD_DATABASE_URL`` (no embedded database), does not migrate
(``citylead migrate``, the pre-upgrade job, does; an older schema stops it with that advice),
seeds nothing and runs no jobs (``citylead worker`` does). Production signs in with Keycloak
(``CITYLEAD_IDENTITY=keycloak``); in embedded identity mode every worker loads the provider's
signing key from ``CITYLEAD_HOME``, so run ``citylead up`` once on a home to seed the demo, then
``citylead api`` on the same home and database.
"""

from __future__ import annotations

import asyncio
import os

import click
from litestar import Litestar

from citylead.cli_support import console, friendly, load_settings
from citylead.identity.keys import SigningKeys
from citylead.settings import Settings
from tenants.errors import ServiceUnavailable

__all__ = ["api", "create_dashboard_worker_app", "create_worker_app", "dashboard"]

workers_option = click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    envvar="CITYLEAD_WEB_CONCURRENCY",
    show_envvar=True,
    help="Worker processes (default 1).",
)


@click.command()
@click.option("--host", default=None, help="Interface to bind (default 127.0.0.1; in a pod: 0.0.0.0).")
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="Port (default 8000).")
@workers_option
@friendly
def api(host: str | None, port: int | None, workers: int) -> None:
    """Serve the API in production: an existing, migrated database; no demo, no jobs."""
    import uvicorn

    settings = load_settings(host=host, port=port)
    _prepare_serving(settings, "`citylead api`")
    os.environ["CITYLEAD_HOST"] = settings.server.host
    os.environ["CITYLEAD_PORT"] = str(settings.server.port)
    console.print(
        f"citylead api on http://{settings.server.host}:{settings.server.port} with {workers} worker(s)"
    )
    uvicorn.run(
        "citylead.cli_serve:create_worker_app",
        factory=True,
        host=settings.server.host,
        port=settings.server.port,
        workers=workers,
        log_level=settings.server.log_level,
        access_log=False,
        lifespan="on",
    )


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind (in a pod: 0.0.0.0).")
@click.option("--port", type=click.IntRange(1, 65535), default=8050, show_default=True, help="Port.")
@workers_option
@friendly
def dashboard(host: str, port: int, workers: int) -> None:
    """Serve the dashboard in production (/dashboard/, /signin): an existing, migrated database.

    It binds HOST:PORT; CITYLEAD_PUBLIC_URL stays the platform's address (the API's, where the
    embedded identity provider signs in), so tokens are checked exactly as the API checks them."""
    import uvicorn

    settings = load_settings()
    _prepare_serving(settings, "`citylead dashboard`")
    os.environ["CITYLEAD_PUBLIC_URL"] = settings.public_url
    console.print(f"citylead dashboard on http://{host}:{port}/dashboard/ with {workers} worker(s)")
    uvicorn.run(
        "citylead.cli_serve:create_dashboard_worker_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=settings.server.log_level,
        access_log=False,
        lifespan="on",
    )


def _prepare_serving(settings: Settings, command: str) -> None:
    """What ``citylead api`` and ``citylead dashboard`` check before serving, and hand to workers."""
    from citylead.db.migrate import head_revision
    from citylead.runtime import prepare, signing_keys

    if settings.database.database_url is None:
        raise click.ClickException(
            f"CITYLEAD_DATABASE_URL is required: {command} serves an existing database "
            "(`citylead up` runs an embedded one)"
        )
    runtime = prepare(settings, migrate=False)
    revision = asyncio.run(_revision(runtime.urls.app))
    if revision != head_revision():
        raise ServiceUnavailable(
            f"the database schema is at {revision or 'nothing'}, {command} needs {head_revision()}: "
            "run `citylead migrate` first"
        )
    if settings.identity.identity == "embedded":
        signing_keys(settings)  # created here once, loaded by every worker
    # Worker processes build their app from the environment: hand them what was settled here.
    os.environ["CITYLEAD_APP_DATABASE_URL"] = runtime.urls.app


def _worker_settings() -> tuple[Settings, str, SigningKeys | None]:
    from citylead.runtime import signing_keys

    settings = Settings()
    url = settings.database.app_database_url
    if url is None:
        raise RuntimeError(
            "CITYLEAD_APP_DATABASE_URL is unset: start with `citylead api` or `citylead dashboard`"
        )
    keys = signing_keys(settings) if settings.identity.identity == "embedded" else None
    return settings, url.get_secret_value(), keys


def create_dashboard_worker_app() -> Litestar:
    """The app of one ``citylead dashboard`` worker process."""
    from citylead.api.app import create_dashboard_app

    settings, url, keys = _worker_settings()
    return create_dashboard_app(settings, app_database_url=url, keys=keys)


def create_worker_app() -> Litestar:
    """The app of one worker process, from the environment ``citylead api`` prepared."""
    from citylead.api.app import create_app

    settings, url, keys = _worker_settings()
    return create_app(settings, app_database_url=url, keys=keys)


async def _revision(url: str) -> str | None:
    from citylead.db import Database

    db = Database(url, pool_size=1)
    try:
        return await db.ping()
    finally:
        await db.dispose()
