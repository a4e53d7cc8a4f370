"""Liveness and readiness probes."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.datastructures import State

from citylead.api.problems import problem
from citylead.db import Database
from citylead.db.migrate import head_revision, is_known_revision

__all__ = ["health", "ready"]


@get("/health", summary="Liveness: the process answers", sync_to_thread=False)
def health() -> dict[str, str]:
    return {"status": "ok"}


@get("/ready", summary="Readiness: database reachable and migrations at head")
async def ready(request: Request[Any, Any, Any], state: State) -> Response[dict[str, Any]]:
    db: Database = state.db
    head = head_revision()
    try:
        at = await db.ping()
    except Exception:  # any failure to reach the database means "not ready"
        return problem(request, 503, "unavailable", "Not ready", "the database cannot be reached")
    if at is not None and at != head and not is_known_revision(at):
        # A rolling upgrade: the pre-upgrade job migrated for the next release, whose migrations
        # keep the previous release working (docs/operations.md), so this pod keeps serving.
        return Response({"status": "ready", "migrations": at, "code": head, "database": "ahead"})
    if at != head:
        return problem(
            request,
            503,
            "unavailable",
            "Not ready",
            f"the database is at migration {at}, the code expects {head}",
            migrations={"database": at, "code": head},
        )
    return Response({"status": "ready", "migrations": at})
