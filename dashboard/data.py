"""What the dashboard reads (数据读取): coverage roll-ups and the registry's boundaries.

The dashboard never queries tables of its own: a reader wraps ``citylead.coverage.get_coverage``
and the registry's boundaries, always in the caller's tenant context, so row-level security keeps
a city administrator inside their city. Pages take a ``CoverageReader``; tests pass a fake.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select

from citylead.coverage import Coverage, get_coverage
from citylead.db import Database
from citylead.identity.principal import Principal
from tenants.models import Tenant

__all__ = ["CoverageReader", "DatabaseReader"]


class CoverageReader(Protocol):
    async def coverage(self, principal: Principal, *, now: datetime, city: str | None) -> Coverage: ...

    async def boundaries(self, principal: Principal, codes: Sequence[str]) -> dict[str, dict[str, Any]]: ...


class DatabaseReader:
    """The real reader: one short transaction per call, in the principal's own context."""

    def __init__(self, db: Database, *, months: int = 12) -> None:
        self._db = db
        self._months = months

    async def coverage(self, principal: Principal, *, now: datetime, city: str | None) -> Coverage:
        async with self._db.transaction(principal.context) as s:
            return await get_coverage(s, principal.context, now=now, months=self._months, city=city)

    async def boundaries(self, principal: Principal, codes: Sequence[str]) -> dict[str, dict[str, Any]]:
        """GeoJSON geometries of ``codes`` inside the principal's subtree (others are left out)."""
        if not codes:
            return {}
        scope = principal.context
        query = select(Tenant.code, Tenant.boundary).where(
            Tenant.path.op("^@")(scope.path), Tenant.code.in_(list(codes)), Tenant.boundary.is_not(None)
        )
        async with self._db.transaction(scope) as s:
            rows = (await s.execute(query)).all()
        return {code: boundary for code, boundary in rows}  # noqa: C416 (rows are Row tuples)
