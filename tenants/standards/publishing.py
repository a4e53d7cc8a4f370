"""Preview and publish (预览与发布): what a draft changes below, and making it the version in force.

A preview lists, for the tenant and every descendant it affects, the effective values that would
change (old → new) and the descendants' overrides the draft would make invalid. Publishing refuses
(409, listing them) unless the request resolves each one: ``drop`` removes the override (as a new
version of the descendant's layer, in the same transaction), ``keep`` leaves it and records an
exemption for exactly that value, so the draft's policy locks nothing there.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

from tenants import audit
from tenants.context import TenantContext, acting_as
from tenants.errors import Conflict, InvalidInput
from tenants.models import Tenant
from tenants.standards.drafts import Draft, get_draft, latest_version, problems_of
from tenants.standards.layers import Layer, Source, Violation, fold, validate_layer
from tenants.standards.models import StandardDraft, StandardVersion
from tenants.standards.paths import Kind
from tenants.standards.resolver import Resolver

__all__ = ["Change", "Impact", "Resolution", "TenantImpact", "do_publish", "preview"]


class Resolution(enum.StrEnum):
    DROP = "drop"  # remove the descendant's override
    KEEP = "keep"  # keep it; the new policy does not apply to it


@dataclass(frozen=True)
class Change:
    path: str
    old: Any
    new: Any


@dataclass
class TenantImpact:
    code: str
    name: str
    changes: list[Change] = field(default_factory=list)
    invalid: list[Violation] = field(default_factory=list)


@dataclass
class Impact:
    kind: Kind
    draft: Draft
    tenants: list[TenantImpact]

    @property
    def invalid(self) -> list[Violation]:
        return [v for t in self.tenants for v in t.invalid]


_ABSENT: Any = None


def _value_at(chain: Sequence[Layer], path: str) -> Any:
    for layer in reversed(chain):
        if path in layer.values:
            return layer.values[path]
        if path in layer.removed:
            return _ABSENT
    return _ABSENT


async def _subtree_layers(
    session: AsyncSession, tenant: Tenant, kind: Kind
) -> tuple[list[Tenant], dict[str, Layer]]:
    """The strict descendants (tree order) and their latest published layers."""
    below = list(
        await session.scalars(
            select(Tenant)
            .where(Tenant.path.op("^@")(tenant.path), Tenant.id != tenant.id)
            .order_by(Tenant.path)
        )
    )
    rows = await session.execute(
        select(StandardVersion.tenant_id, StandardVersion.number, StandardVersion.content)
        .ext(distinct_on(StandardVersion.tenant_id))
        .where(StandardVersion.tenant_id.in_([t.id for t in below]), StandardVersion.kind == kind.value)
        .order_by(StandardVersion.tenant_id, StandardVersion.number.desc())
    )
    by_id = {t.id: t for t in below}
    layers = {by_id[tid].code: Layer.of(Source(by_id[tid].code, n), c) for tid, n, c in rows.all()}
    return below, layers


async def preview(session: AsyncSession, resolver: Resolver, tenant: Tenant, kind: Kind) -> Impact:
    """What publishing the tenant's current draft would change, for itself and every descendant."""
    draft = await get_draft(session, tenant, kind)
    lineage, vector = await resolver.head(session, tenant, kind)
    return await _impact(session, resolver, tenant, kind, draft, lineage, vector)


async def _impact(
    session: AsyncSession,
    resolver: Resolver,
    tenant: Tenant,
    kind: Kind,
    draft: Draft,
    lineage: Sequence[Tenant],
    vector: tuple[Source, ...],
) -> Impact:
    chain = await resolver.layers(session, lineage, kind, vector)
    above, old = chain[:-1], chain[-1]
    new = draft.layer
    candidates = sorted(old.touched() | new.touched())
    below, layers = await _subtree_layers(session, tenant, kind)
    with_layers = sorted((t for t in below if t.code in layers), key=lambda t: len(t.path))

    def chain_to(t: Tenant) -> list[Layer]:
        """Layers strictly between ``tenant`` and ``t``, then ``t``'s own."""
        return [layers[anc.code] for anc in with_layers if t.path.startswith(anc.path)]

    impacts = []
    for t in [tenant, *below]:
        between = chain_to(t) if t is not tenant else []
        impact = TenantImpact(t.code, t.name)
        for path in candidates:
            before = _value_at([*above, old, *between], path)
            after = _value_at([*above, new, *between], path)
            if before != after:
                impact.changes.append(Change(path, before, after))
        if t is not tenant and t.code in layers:
            mid = between[:-1]
            was = validate_layer(t.code, layers[t.code], fold(kind, [*above, old, *mid]), kind)
            now = validate_layer(t.code, layers[t.code], fold(kind, [*above, new, *mid]), kind)
            known = {(v.path, v.rule) for v in was}
            impact.invalid = [v for v in now if (v.path, v.rule) not in known]
        if impact.changes or impact.invalid:
            impacts.append(impact)
    return Impact(kind, draft, impacts)


async def _serialize(session: AsyncSession, lineage: Sequence[Tenant], kind: Kind) -> None:
    """A publish holds its own layer exclusively and its ancestors' shared, so a county's publish is
    checked against a city version that cannot change under it."""
    *upper, own = lineage
    for t in upper:
        await session.execute(
            text("SELECT pg_advisory_xact_lock_shared(hashtext(:k))"), {"k": f"{kind}:{t.code}"}
        )
    await session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": f"{kind}:{own.code}"})


async def do_publish(
    session: AsyncSession,
    resolver: Resolver,
    tenant: Tenant,
    kind: Kind,
    *,
    resolutions: Mapping[tuple[str, str], Resolution],
    expected_version: int | None,
    note: str | None,
    acting_user: str,
) -> StandardVersion:
    """Publish the draft as the next immutable version; ``resolutions`` maps (code, path) of each
    invalidated descendant override to drop or keep."""
    lineage, _ = await resolver.head(session, tenant, kind)
    await _serialize(session, lineage, kind)
    draft = await get_draft(session, tenant, kind, lock=True)
    if expected_version is not None and expected_version != draft.version:
        raise Conflict(
            f"the {kind.value} draft was changed by someone else (version {draft.version}, you sent "
            f"{expected_version}); preview it again",
            current_version=draft.version,
        )
    if not draft.pending:
        raise Conflict(f"the {kind.value} draft has no changes to publish", current_version=draft.version)
    _, vector = await resolver.head(session, tenant, kind)  # read under the locks: nothing moves now
    upper = await resolver.fold(session, lineage[:-1], kind, vector[:-1])
    if own := validate_layer(tenant.code, draft.layer, upper, kind):
        raise InvalidInput("the draft breaks the rules of the levels above", errors=problems_of(own))
    impact = await _impact(session, resolver, tenant, kind, draft, lineage, vector)
    invalid = {(v.code, v.path): v for v in impact.invalid}
    if unknown := [f"{c}:{p}" for c, p in resolutions if (c, p) not in invalid]:
        raise InvalidInput(
            "resolutions name overrides this publish does not invalidate: " + ", ".join(sorted(unknown)),
            field="resolutions",
        )
    if unresolved := [v for key, v in invalid.items() if key not in resolutions]:
        raise Conflict(
            f"publishing would invalidate {len(unresolved)} override(s) below; resolve each with "
            "drop or keep",
            conflicts=[_conflict(v) for v in unresolved],
        )
    exemptions = {p: dict(e) for p, e in draft.layer.exemptions.items()}
    for (code, path), how in resolutions.items():
        if how is Resolution.KEEP:
            exemptions.setdefault(path, {})[code] = invalid[(code, path)].value
    content = {**draft.layer.content(), "exemptions": dict(sorted(exemptions.items()))}
    number = draft.published + 1
    version = StandardVersion(
        tenant_id=tenant.id,
        kind=kind.value,
        number=number,
        content=content,
        published_by=acting_user,
        note=note,
    )
    session.add(version)
    row = await session.get(StandardDraft, (tenant.id, kind.value))
    assert row is not None  # a pending draft has a row
    row.content, row.based_on, row.version = content, number, row.version + 1
    await audit.record(
        session,
        tenant.id,
        actor=acting_user,
        action="standards.published",
        subject=f"standards:{tenant.code}:{kind.value}",
        version=number,
        note=note,
        affected=[t.code for t in impact.tenants],
        resolutions={f"{c}:{p}": r.value for (c, p), r in resolutions.items()},
    )
    await session.flush()
    drops: dict[str, list[str]] = {}
    for (code, path), how in resolutions.items():
        if how is Resolution.DROP:
            drops.setdefault(code, []).append(path)
    for code, paths in sorted(drops.items()):
        below = await session.scalar(select(Tenant).where(Tenant.code == code))
        assert below is not None
        async with acting_as(session, TenantContext(below.path), then=TenantContext(tenant.path)):
            await _drop_overrides(
                session, below, kind, paths, because=f"{tenant.code} v{number}", actor=acting_user
            )
    await session.refresh(version)
    return version


async def _drop_overrides(
    session: AsyncSession, tenant: Tenant, kind: Kind, paths: Sequence[str], *, because: str, actor: str
) -> None:
    """Remove overrides from a descendant's layer: a new version of it, and the same in its draft."""
    draft = await get_draft(session, tenant, kind, lock=True)
    latest = await latest_version(session, tenant, kind)
    assert latest is not None  # an override exists only in a published layer
    content = _without(latest.content, paths)
    number = latest.number + 1
    session.add(
        StandardVersion(
            tenant_id=tenant.id,
            kind=kind.value,
            number=number,
            content=content,
            published_by=actor,
            note=f"overrides dropped by {because}: " + ", ".join(paths),
        )
    )
    row = await session.get(StandardDraft, (tenant.id, kind.value))
    if row is not None:
        row.content = _without(row.content, paths)
        row.version = draft.version + 1
        row.based_on = number
        row.updated_at = func.now()
    await audit.record(
        session,
        tenant.id,
        actor=actor,
        action="standards.overrides_dropped",
        subject=f"standards:{tenant.code}:{kind.value}",
        version=number,
        paths=list(paths),
        because=because,
    )
    await session.flush()


def _without(content: Mapping[str, Any], paths: Sequence[str]) -> dict[str, Any]:
    layer = Layer.of(Source("", 0), content)
    values = {p: v for p, v in layer.values.items() if p not in paths}
    removed = layer.removed - set(paths)
    return Layer(layer.source, values, removed, layer.policies, layer.exemptions).content()


def _conflict(v: Violation) -> dict[str, Any]:
    return {
        "tenant": v.code,
        "path": v.path,
        "rule": v.rule,
        "detail": v.detail,
        "value": v.value,
        "upper": v.upper,
    }
