"""Serving the dashboard world as production does: the home's embedded PostgreSQL kept running in
the test process, ``citylead api`` (the identity provider's token endpoint, ``/api/v1/me``) and
``citylead dashboard`` (``/dashboard/``, one worker) as subprocesses on free ports, both on that
server (``CITYLEAD_DATABASE_URL``) and the home's signing key. No scheduler runs: nothing
refreshes roll-ups while the callbacks are timed (``citylead up`` would run the hourly refresh)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from citylead.db.embedded import start_embedded
from citylead.db.roles import DatabaseUrls, bootstrap
from tests.benchmarks.cases_server import ApiServer, BenchDatabase, free_port
from tests.benchmarks.onboarding_home import APP_ROLE, DATABASE, OWNER_ROLE, Home

__all__ = ["DashboardServer", "Embedded", "Servers", "embedded", "served"]


@dataclass(frozen=True)
class Embedded:
    admin: str  # superuser URL of the citylead database: what the commands are given
    urls: DatabaseUrls


@contextlib.contextmanager
def embedded(home: Home) -> Iterator[Embedded]:
    """The home's embedded server, started here and kept until the block ends (a ``citylead``
    command run meanwhile attaches to it instead of starting its own)."""
    before = os.environ.get("XDG_RUNTIME_DIR")
    server = start_embedded(home.path)
    try:
        urls = asyncio.run(
            bootstrap(server.admin_url, owner_role=OWNER_ROLE, app_role=APP_ROLE, database=DATABASE)
        )
        admin = make_url(server.admin_url).set(database=DATABASE).render_as_string(hide_password=False)
        yield Embedded(admin, urls)
    finally:
        server.stop()
        if before is None:
            os.environ.pop("XDG_RUNTIME_DIR", None)


class DashboardServer(ApiServer):
    """``citylead dashboard`` (one worker) on a free port; ready, stopped and logged as the API is.
    Its tokens are the API's: ``CITYLEAD_PUBLIC_URL`` is the API's address (their issuer)."""

    def __init__(self, home: Path, admin: str, api: ApiServer) -> None:
        self.port, self.workers, self.pool_size = free_port(), 1, None
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = home / f"dashboard-{self.port}.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("CITYLEAD_")}
        env.update(
            CITYLEAD_HOME=str(home),
            CITYLEAD_DATABASE_URL=admin,
            CITYLEAD_LOG_LEVEL="warning",
            CITYLEAD_PUBLIC_URL=api.base,
        )
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "citylead", "dashboard", "--port", str(self.port)],
            env=env,
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )


@dataclass(frozen=True)
class Servers:
    api: ApiServer
    dashboard: DashboardServer

    def token(self, username: str) -> str:
        """A password sign-in at the token endpoint (client ``citylead``): the access token."""
        return str(self.api.user_token(username))


@contextlib.contextmanager
def served(home: Home, database: Embedded) -> Iterator[Servers]:
    """``citylead api`` then ``citylead dashboard`` on the world's database, stopped after."""
    bench = BenchDatabase(DATABASE, database.admin, database.urls)
    api = ApiServer(bench, home.path, workers=1)
    dashboard: DashboardServer | None = None
    try:
        api.wait_ready()
        dashboard = DashboardServer(home.path, database.admin, api)
        dashboard.wait_ready()
        yield Servers(api, dashboard)
    finally:
        for server in (dashboard, api):
            if server is not None:
                server.stop()
