"""Request and response shapes of ``/api/v1/tenants/{code}/standards``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from tenants.standards.drafts import Draft
from tenants.standards.layers import Effective, Policy, Source
from tenants.standards.models import StandardVersion
from tenants.standards.paths import Kind
from tenants.standards.publishing import Impact, Resolution
from tenants.standards.resolver import format_vector

__all__ = [
    "DraftIn",
    "DraftOut",
    "DraftPatchIn",
    "EffectiveOut",
    "ImpactOut",
    "PublishIn",
    "VersionListOut",
    "VersionOut",
]


class SourceOut(msgspec.Struct, kw_only=True):
    code: str
    version: int

    @classmethod
    def of(cls, s: Source) -> SourceOut:
        return cls(code=s.code, version=s.version)


class EntryOut(msgspec.Struct, kw_only=True):
    path: str
    value: Any
    set_by: SourceOut
    policy: Policy
    policy_label: str
    policy_set_by: SourceOut | None


class EffectiveOut(msgspec.Struct, kw_only=True):
    tenant: str
    kind: Kind
    kind_label: str
    vector: str
    at: str | None
    total: int
    entries: list[EntryOut]

    @classmethod
    def of(cls, code: str, doc: Effective, *, prefix: str, at: str | None) -> EffectiveOut:
        entries = [
            EntryOut(
                path=path,
                value=e.value,
                set_by=SourceOut.of(e.source),
                policy=e.policy,
                policy_label=e.policy.label,
                policy_set_by=SourceOut.of(e.policy_source) if e.policy_source else None,
            )
            for path, e in doc.entries(prefix).items()
        ]
        return cls(
            tenant=code,
            kind=doc.kind,
            kind_label=doc.kind.label,
            vector=format_vector(doc.vector),
            at=at,
            total=len(entries),
            entries=entries,
        )


class DraftIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The whole draft. ``version`` is the draft version you read (0 for a first edit)."""

    values: dict[str, Any] = {}
    removed: list[str] = []
    policies: dict[str, str] = {}
    version: int | None = None


class DraftPatchIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """``set`` values, ``remove`` inherited entries, ``revert`` your own change, set or lift
    (``null``) ``policies``. ``version`` is the draft version you read."""

    set: dict[str, Any] = {}
    remove: list[str] = []
    revert: list[str] = []
    policies: dict[str, str | None] = {}
    version: int | None = None


class DraftOut(msgspec.Struct, kw_only=True):
    tenant: str
    kind: Kind
    version: int
    based_on: int
    published: int
    pending: bool
    updated_by: str | None
    values: dict[str, Any]
    removed: list[str]
    policies: dict[str, str]
    exemptions: dict[str, dict[str, Any]]

    @classmethod
    def of(cls, code: str, kind: Kind, draft: Draft) -> DraftOut:
        content = draft.layer.content()
        return cls(
            tenant=code,
            kind=kind,
            version=draft.version,
            based_on=draft.based_on,
            published=draft.published,
            pending=draft.pending,
            updated_by=draft.updated_by,
            **content,
        )


class ChangeOut(msgspec.Struct, kw_only=True):
    path: str
    old: Any
    new: Any


class InvalidOverrideOut(msgspec.Struct, kw_only=True):
    tenant: str
    path: str
    rule: str
    detail: str
    value: Any
    upper: Any


class TenantImpactOut(msgspec.Struct, kw_only=True):
    code: str
    name: str
    changes: list[ChangeOut]
    invalid_overrides: list[InvalidOverrideOut]


class ImpactOut(msgspec.Struct, kw_only=True):
    tenant: str
    kind: Kind
    draft_version: int
    pending: bool
    affected: int
    tenants: list[TenantImpactOut]

    @classmethod
    def of(cls, code: str, impact: Impact) -> ImpactOut:
        tenants = [
            TenantImpactOut(
                code=t.code,
                name=t.name,
                changes=[ChangeOut(path=c.path, old=c.old, new=c.new) for c in t.changes],
                invalid_overrides=[
                    InvalidOverrideOut(
                        tenant=v.code, path=v.path, rule=v.rule, detail=v.detail, value=v.value, upper=v.upper
                    )
                    for v in t.invalid
                ],
            )
            for t in impact.tenants
        ]
        return cls(
            tenant=code,
            kind=impact.kind,
            draft_version=impact.draft.version,
            pending=impact.draft.pending,
            affected=len(tenants),
            tenants=tenants,
        )


class ResolutionIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    tenant: str
    path: str
    action: Resolution


class PublishIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """``version``: the draft version you previewed. ``resolutions``: one per invalidated override."""

    version: int | None = None
    note: str | None = None
    resolutions: list[ResolutionIn] = []


class VersionOut(msgspec.Struct, kw_only=True):
    tenant: str
    kind: Kind
    number: int
    published_at: datetime
    published_by: str
    note: str | None

    @classmethod
    def of(cls, code: str, row: StandardVersion) -> VersionOut:
        return cls(
            tenant=code,
            kind=Kind(row.kind),
            number=row.number,
            published_at=row.published_at,
            published_by=row.published_by,
            note=row.note,
        )


class VersionListOut(msgspec.Struct, kw_only=True):
    items: list[VersionOut]
