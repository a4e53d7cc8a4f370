"""Editing a layer's draft (草稿): only the owning tenant, only what the levels above allow.

The caller's transaction must be in the owning tenant's own context (row-level security lets a
tenant write only its own rows). Every write is checked against the ancestors' current effective
document; a violation is a 422 naming the path, the rule and the upper value, and nothing is saved.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tenants import audit
from tenants.errors import Conflict, FieldProblem, InvalidInput
from tenants.models import Tenant
from tenants.standards.layers import Effective, Layer, Policy, Source, Violation, validate_layer
from tenants.standards.models import StandardDraft, StandardVersion
from tenants.standards.paths import Kind
from tenants.standards.resolver import Resolver

__all__ = ["Draft", "DraftPatch", "do_patch_draft", "do_replace_draft", "get_draft", "problems_of"]


@dataclass(frozen=True)
class Draft:
    layer: Layer
    version: int  # 0 = never edited
    based_on: int  # the published version the draft started from
    published: int  # the latest published version
    updated_by: str | None = None
    pending: bool = False  # the draft differs from the latest published version


@dataclass(frozen=True)
class DraftPatch:
    """Changes to a draft: ``set`` values, ``remove`` inherited entries, ``revert`` this layer's own
    change (back to inherited), and ``policies`` (``None`` lifts this layer's policy)."""

    set: Mapping[str, Any]
    remove: Sequence[str] = ()
    revert: Sequence[str] = ()
    policies: Mapping[str, str | None] | None = None


async def latest_version(session: AsyncSession, tenant: Tenant, kind: Kind) -> StandardVersion | None:
    return await session.scalar(
        select(StandardVersion)
        .where(StandardVersion.tenant_id == tenant.id, StandardVersion.kind == kind.value)
        .order_by(StandardVersion.number.desc())
        .limit(1)
    )


async def get_draft(session: AsyncSession, tenant: Tenant, kind: Kind, *, lock: bool = False) -> Draft:
    """The tenant's draft; if it never edited one, its latest published layer (version 0)."""
    query = select(StandardDraft).where(
        StandardDraft.tenant_id == tenant.id, StandardDraft.kind == kind.value
    )
    row = await session.scalar(query.with_for_update() if lock else query)
    published = await latest_version(session, tenant, kind)
    number = published.number if published else 0
    if row is None:
        content = published.content if published else {}
        return Draft(Layer.of(Source(tenant.code, number), content), 0, number, number)
    layer = Layer.of(Source(tenant.code, number + 1), row.content)
    changed = published is None or Layer.of(layer.source, published.content).content() != layer.content()
    return Draft(layer, row.version, row.based_on, number, row.updated_by, changed)


def problems_of(violations: Sequence[Violation]) -> list[FieldProblem]:
    return [
        FieldProblem(
            field=v.path,
            rule=v.detail,
            value=v.value,
            upper=v.upper,
            set_by=f"{v.set_by.code} v{v.set_by.version}" if v.set_by else None,
        )
        for v in violations
    ]


async def upper_of(session: AsyncSession, resolver: Resolver, tenant: Tenant, kind: Kind) -> Effective:
    """The ancestors' current effective document: what ``tenant``'s layer is checked against."""
    lineage, vector = await resolver.head(session, tenant, kind)
    return await resolver.fold(session, lineage[:-1], kind, vector[:-1])


async def _save(
    session: AsyncSession,
    resolver: Resolver,
    tenant: Tenant,
    kind: Kind,
    draft: Draft,
    layer: Layer,
    *,
    expected_version: int | None,
    acting_user: str,
    action: str,
    changes: dict[str, Any],
) -> Draft:
    if expected_version is not None and expected_version != draft.version:
        raise Conflict(
            f"the {kind.value} draft was changed by someone else (version {draft.version}, "
            f"you sent {expected_version})",
            current_version=draft.version,
        )
    violations = validate_layer(tenant.code, layer, await upper_of(session, resolver, tenant, kind), kind)
    if violations:
        one = len(violations) == 1
        raise InvalidInput(
            f"{len(violations)} {'entry' if one else 'entries'} of the {kind.value} draft "
            f"{'breaks' if one else 'break'} the rules of the levels above or the path grammar",
            errors=problems_of(violations),
        )
    row = await session.get(StandardDraft, (tenant.id, kind.value))
    if row is None:
        row = StandardDraft(tenant_id=tenant.id, kind=kind.value, based_on=draft.published, version=1)
        session.add(row)
    else:
        row.version = draft.version + 1
        row.based_on = draft.published
    row.content = layer.content()
    row.updated_by = acting_user
    row.updated_at = func.now()
    try:
        await session.flush()
    except IntegrityError as exc:  # a concurrent first edit won the insert race
        raise Conflict(f"the {kind.value} draft was created by someone else at the same time") from exc
    await audit.record(
        session,
        tenant.id,
        actor=acting_user,
        action=action,
        subject=f"standards:{tenant.code}:{kind.value}",
        version=row.version,
        **changes,
    )
    return await get_draft(session, tenant, kind)


async def do_replace_draft(
    session: AsyncSession,
    resolver: Resolver,
    tenant: Tenant,
    kind: Kind,
    content: Mapping[str, Any],
    *,
    expected_version: int | None,
    acting_user: str,
) -> Draft:
    """Replace the whole draft (PUT). Exemptions granted at earlier publishes are kept."""
    draft = await get_draft(session, tenant, kind, lock=True)
    layer = _layer(draft.layer.source, content, exemptions=draft.layer.exemptions)
    changes = {"paths": len(layer.values), "removed": len(layer.removed), "policies": len(layer.policies)}
    return await _save(
        session,
        resolver,
        tenant,
        kind,
        draft,
        layer,
        expected_version=expected_version,
        acting_user=acting_user,
        action="standards.draft_replaced",
        changes=changes,
    )


async def do_patch_draft(
    session: AsyncSession,
    resolver: Resolver,
    tenant: Tenant,
    kind: Kind,
    patch: DraftPatch,
    *,
    expected_version: int | None,
    acting_user: str,
) -> Draft:
    """Apply a patch to the draft (PATCH)."""
    draft = await get_draft(session, tenant, kind, lock=True)
    values = dict(draft.layer.values)
    removed = set(draft.layer.removed)
    policies: dict[str, Any] = {p: r.value for p, r in draft.layer.policies.items()}
    for path in patch.revert:
        values.pop(path, None)
        removed.discard(path)
    for path in patch.remove:
        values.pop(path, None)
        removed.add(path)
    for path, value in patch.set.items():
        values[path] = value
        removed.discard(path)
    for path, rule in (patch.policies or {}).items():
        if rule is None:
            policies.pop(path, None)
        else:
            policies[path] = rule
    content = {"values": values, "removed": sorted(removed), "policies": policies}
    layer = _layer(draft.layer.source, content, exemptions=draft.layer.exemptions)
    changes = {
        "set": sorted(patch.set),
        "remove": sorted(patch.remove),
        "revert": sorted(patch.revert),
        "policies": dict(patch.policies or {}),
    }
    return await _save(
        session,
        resolver,
        tenant,
        kind,
        draft,
        layer,
        expected_version=expected_version,
        acting_user=acting_user,
        action="standards.draft_patched",
        changes=changes,
    )


def _layer(source: Source, content: Mapping[str, Any], *, exemptions: Mapping[str, Any]) -> Layer:
    problems = []
    policies: dict[str, Policy] = {}
    for path, rule in dict(content.get("policies") or {}).items():
        try:
            policies[path] = Policy(rule)
        except ValueError:
            problems.append(FieldProblem(f"policies/{path}", "must be locked, tighten_only or free", rule))
    if problems:
        raise InvalidInput("unknown policy", errors=problems)
    return Layer(
        source=source,
        values=dict(content.get("values") or {}),
        removed=frozenset(content.get("removed") or ()),
        policies=policies,
        exemptions=dict(exemptions),
    )
