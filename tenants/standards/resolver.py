"""Resolving the effective standards of a tenant (有效标准), now or at a past moment.

One query finds the version vector of the tenant's lineage (the latest published version of each
ancestor and of the tenant, or those in force at ``at``). Published versions never change, so the
fold of a vector is cached by the vector itself and never needs invalidating: a publish creates a
new vector, and the next read anywhere below sees it. The query runs in the caller's transaction,
so row-level security decides which versions exist for it.
"""

from __future__ import annotations

import re
import uuid
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tenants.errors import InvalidInput, NotFound
from tenants.models import Tenant
from tenants.standards.layers import Effective, Layer, Source, fold
from tenants.standards.models import StandardVersion
from tenants.standards.paths import Kind

__all__ = ["At", "Resolver", "lineage_of", "parse_at"]

_VECTOR = re.compile(r"^\d{6}:\d+(,\d{6}:\d+)*$")


@dataclass(frozen=True, slots=True)
class At:
    """``at=``: either a moment or an explicit version vector (``320000:3,320400:2,320411:0``)."""

    moment: datetime | None = None
    vector: tuple[Source, ...] | None = None


def parse_at(text: str | None) -> At | None:
    if not text:
        return None
    if _VECTOR.match(text):
        return At(vector=tuple(Source(c, int(n)) for c, n in (part.split(":") for part in text.split(","))))
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise InvalidInput(
            "at must be a version vector such as 320000:3,320400:2 or an ISO timestamp with a UTC offset",
            field="at",
        )
    return At(moment=moment)


def format_vector(vector: Sequence[Source]) -> str:
    return ",".join(f"{s.code}:{s.version}" for s in vector)


async def lineage_of(session: AsyncSession, tenant: Tenant) -> list[Tenant]:
    """The tenant's ancestors and itself, province first."""
    rows = await session.scalars(
        select(Tenant).where(func.starts_with(tenant.path, Tenant.path)).order_by(func.length(Tenant.path))
    )
    return list(rows)


class Resolver:
    """Folds and caches effective documents by version vector. One per process; thread-unsafe by
    design (one event loop)."""

    def __init__(self, *, max_documents: int = 512, max_layers: int = 2048) -> None:
        self._documents: OrderedDict[tuple[Kind, tuple[Source, ...]], Effective] = OrderedDict()
        self._layers: OrderedDict[tuple[Kind, Source], Layer] = OrderedDict()
        self.max_documents = max_documents
        self.max_layers = max_layers

    async def vector(
        self, session: AsyncSession, lineage: Sequence[Tenant], kind: Kind, *, moment: datetime | None = None
    ) -> tuple[Source, ...]:
        ids = [t.id for t in lineage]
        query = (
            select(StandardVersion.tenant_id, func.max(StandardVersion.number))
            .where(StandardVersion.tenant_id.in_(ids), StandardVersion.kind == kind.value)
            .group_by(StandardVersion.tenant_id)
        )
        if moment is not None:
            query = query.where(StandardVersion.published_at <= moment)
        latest: dict[uuid.UUID, int] = {row[0]: row[1] for row in await session.execute(query)}
        return tuple(Source(t.code, latest.get(t.id, 0)) for t in lineage)

    async def effective(
        self, session: AsyncSession, tenant: Tenant, kind: Kind, *, at: At | None = None
    ) -> Effective:
        """The effective document of ``tenant``: now, at a moment, or for an explicit vector."""
        lineage = await lineage_of(session, tenant)
        if at is not None and at.vector is not None:
            vector = at.vector
            codes = [t.code for t in lineage]
            if [s.code for s in vector] != codes:
                raise InvalidInput(
                    f"the version vector must name {', '.join(codes)} in that order", field="at"
                )
        else:
            vector = await self.vector(session, lineage, kind, moment=at.moment if at else None)
        return await self.fold(session, lineage, kind, vector)

    async def fold(
        self, session: AsyncSession, lineage: Sequence[Tenant], kind: Kind, vector: tuple[Source, ...]
    ) -> Effective:
        key = (kind, vector)
        if (doc := self._documents.get(key)) is not None:
            self._documents.move_to_end(key)
            return doc
        layers = await self.layers(session, lineage, kind, vector)
        doc = fold(kind, layers)
        self._documents[key] = doc
        if len(self._documents) > self.max_documents:
            self._documents.popitem(last=False)
        return doc

    async def layers(
        self, session: AsyncSession, lineage: Sequence[Tenant], kind: Kind, vector: Sequence[Source]
    ) -> list[Layer]:
        """The published layers of a vector, top-down (version 0 = nothing published)."""
        by_code = {t.code: t for t in lineage}
        wanted = [s for s in vector if s.version > 0 and (kind, s) not in self._layers]
        if wanted:
            query = select(StandardVersion).where(
                StandardVersion.kind == kind.value,
                func.row(StandardVersion.tenant_id, StandardVersion.number).in_(
                    [func.row(by_code[s.code].id, s.version) for s in wanted]
                ),
            )
            found = {(r.tenant_id, r.number): r for r in await session.scalars(query)}
            for s in wanted:
                row = found.get((by_code[s.code].id, s.version))
                if row is None:
                    raise NotFound(f"{kind.value} version {s.version} of {s.code} does not exist")
                self._remember(kind, s, Layer.of(s, row.content))
        return [self._layers[(kind, s)] if s.version else Layer(s) for s in vector]

    def _remember(self, kind: Kind, source: Source, layer: Layer) -> None:
        self._layers[(kind, source)] = layer
        if len(self._layers) > self.max_layers:
            self._layers.popitem(last=False)

    def cached(self, kind: Kind, vector: tuple[Source, ...]) -> Effective | None:
        """A folded document already in memory, without touching the database (hot paths)."""
        return self._documents.get((kind, vector))


def content_of(effective: Effective) -> dict[str, Any]:
    return {path: value for path, (value, _) in effective.values.items()}
