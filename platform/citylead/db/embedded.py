"""The embedded PostgreSQL server (PyPI ``pgserver``) that ``citylead up`` runs when no URL is set."""

from __future__ import annotations

import logging
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tenants.errors import ServiceUnavailable

__all__ = ["EmbeddedPostgres", "start_embedded"]

log = logging.getLogger(__name__)


@dataclass
class EmbeddedPostgres:
    datadir: Path
    server: Any

    @property
    def admin_url(self) -> str:
        """Superuser URL over the server's unix socket."""
        return str(self.server.get_uri())

    def stop(self) -> None:
        """Stop the server (data stays in ``datadir``)."""
        self.server.cleanup()


def _check_home(home: Path) -> None:
    try:
        home.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ServiceUnavailable(f"cannot create the data directory {home}: {exc.strerror}") from exc
    if not os.access(home, os.W_OK | os.X_OK):
        raise ServiceUnavailable(f"the data directory {home} is not writable")
    pgdata = home / "pgdata"
    if pgdata.exists() and any(pgdata.iterdir()) and not (pgdata / "PG_VERSION").exists():
        raise ServiceUnavailable(
            f"{pgdata} exists but is not a PostgreSQL data directory; move it away or set CITYLEAD_HOME"
        )


def start_embedded(home: Path, *, stop_on_exit: bool = True) -> EmbeddedPostgres:
    """Start (or attach to) the embedded server in ``home/pgdata``; ~1 s the first time."""
    _check_home(home)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(home))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver  # heavy import: only when embedded mode is used

    try:
        server = pgserver.get_server(  # type: ignore[attr-defined]
            home / "pgdata", cleanup_mode="stop" if stop_on_exit else None
        )
    except Exception as exc:  # pgserver raises CalledProcessError, TimeoutExpired, AssertionError ...
        log_path = home / "pgdata" / "log"
        hint = f" (see {log_path})" if log_path.exists() else ""
        raise ServiceUnavailable(
            f"the embedded PostgreSQL in {home / 'pgdata'} did not start{hint}: {exc}"
        ) from exc
    return EmbeddedPostgres(home / "pgdata", server)
