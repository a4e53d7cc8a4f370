"""Liveness and readiness probes."""

from __future__ import annotations

from typing import Any

from litestar import Response, get
from litestar.datastructures import State

from citylead.db import Database
from citylead.db.migrate import head_revision

__all__ = ["health", "ready"]


@get("/health", summary="Liveness: the process answers", include_in_schema=True, sync_to_thread=False)
def health() -> dict[str, str]:
    return {"status": "ok"}


@get("/ready", summary="Readiness: database reachable and migrations at head")
async def ready(state: State) -> Response[dict[str, Any]]:
    db: Database = state.db
    head = head_revision()
    try:
        at = await db.ping()
    except Exception as exc:  # any failure to reach the database means "not ready"
        return Response(
            {"status": "unavailable", "database": "unreachable", "detail": type(exc).__name__},
            status_code=503,
        )
    if at != head:
        return Response(
            {"status": "unavailable", "migrations": {"database": at, "code": head}}, status_code=503
        )
    return Response({"status": "ready", "migrations": at})
