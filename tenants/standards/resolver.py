"""Resolving the effective standards of a tenant (有效标准), now or at a past moment.

One query finds the version vector of the tenant's lineage (the latest published version of each
ancestor and of the tenant, or those in force at ``at``). Published versions never change, so the
fold of a vector is cached by the vector itself and never needs invalidating: a publish creates a
new vector, and the next read anywhere below sees it. The query runs in the caller's transaction,
so row-level security decides which versions exist for it.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tenants.errors import InvalidInput, NotFound
from tenants.models import Tenant
from tenants.standards.layers import Effective, Layer, Source, fold
from tenants.standards.models import StandardVersion
from tenants.standards.paths import Kind

__all__ = ["VECTOR", "At", "Resolver", "format_vector", "parse_at"]

VECTOR = re.compile(r"^\d{6}:\d+(,\d{6}:\d+)*$")
"""A version vector's text (``320000:3,320400:2``); also valid as a PostgreSQL regular expression."""


@dataclass(frozen=True, slots=True)
class At:
    """``at=``: either a moment or an explicit version vector (``320000:3,320400:2,320411:0``)."""

    moment: datetime | None = None
    vector: tuple[Source, ...] | None = None


def parse_at(text: str | None) -> At | None:
    """``at=`` text → :class:`At` (None for empty); a version vector is parsed once per text (the
    assessment roll-ups parse every stored row's vector)."""
    if not text:
        return None
    if VECTOR.match(text):
        return _vector(text)
    return _moment(text)


@lru_cache(maxsize=4096)
def _vector(text: str) -> At:
    return At(vector=tuple(Source(c, int(n)) for c, n in (part.split(":") for part in text.split(","))))


def _moment(text: str) -> At:
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


class Resolver:
    """Folds and caches effective documents by version vector. One per process; thread-unsafe by
    design (one event loop)."""

    def __init__(self, *, max_documents: int = 512, max_layers: int = 2048) -> None:
        self._documents: OrderedDict[tuple[Kind, tuple[Source, ...]], Effective] = OrderedDict()
        self._layers: OrderedDict[tuple[Kind, Source], Layer] = OrderedDict()
        self.max_documents = max_documents
        self.max_layers = max_layers

    async def head(
        self, session: AsyncSession, tenant: Tenant, kind: Kind, *, moment: datetime | None = None
    ) -> tuple[list[Tenant], tuple[Source, ...]]:
        """The tenant's lineage (province first) and its version vector, in one query: the latest
        version of each, or the one in force at ``moment`` (0 = nothing published)."""
        joined = and_(StandardVersion.tenant_id == Tenant.id, StandardVersion.kind == kind.value)
        if moment is not None:
            joined = and_(joined, StandardVersion.published_at <= moment)
        rows = (
            await session.execute(
                select(Tenant, func.coalesce(func.max(StandardVersion.number), 0))
                .outerjoin(StandardVersion, joined)
                .where(func.starts_with(tenant.path, Tenant.path))
                .group_by(Tenant.id)
                .order_by(func.length(Tenant.path))
            )
        ).all()
        return [t for t, _ in rows], tuple(Source(t.code, n) for t, n in rows)

    async def pin(
        self, session: AsyncSession, tenant: Tenant, kinds: Sequence[Kind]
    ) -> dict[Kind, Effective]:
        """The effective documents of several kinds now, with one query for all their vectors (what
        a case pins at intake: its deadlines never change when the standards do)."""
        rows = (
            await session.execute(
                select(Tenant, StandardVersion.kind, func.max(StandardVersion.number))
                .outerjoin(
                    StandardVersion,
                    and_(
                        StandardVersion.tenant_id == Tenant.id,
                        StandardVersion.kind.in_([k.value for k in kinds]),
                    ),
                )
                .where(func.starts_with(tenant.path, Tenant.path))
                .group_by(Tenant.id, StandardVersion.kind)
                .order_by(func.length(Tenant.path))
            )
        ).all()
        lineage: dict[str, Tenant] = {}
        numbers: dict[tuple[str, str], int] = {}
        for t, kind, number in rows:
            lineage[t.code] = t
            if kind is not None:
                numbers[(t.code, kind)] = number
        tenants = list(lineage.values())
        return {
            kind: await self.fold(
                session,
                tenants,
                kind,
                tuple(Source(t.code, numbers.get((t.code, kind.value), 0)) for t in tenants),
            )
            for kind in kinds
        }

    async def effective(
        self, session: AsyncSession, tenant: Tenant, kind: Kind, *, at: At | None = None
    ) -> Effective:
        """The effective document of ``tenant``: now, at a moment, or for an explicit vector."""
        lineage, vector = await self.head(session, tenant, kind, moment=at.moment if at else None)
        if at is not None and at.vector is not None:
            codes = [t.code for t in lineage]
            if [s.code for s in at.vector] != codes:
                raise InvalidInput(
                    f"the version vector must name {', '.join(codes)} in that order", field="at"
                )
            vector = at.vector
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
