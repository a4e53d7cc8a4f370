"""``/api/v1/tenants/{code}/standards/{kind}``: effective standards, drafts, preview and publish.

Readers are the tenant's subtree and its ancestors; drafts are read by the tenant's and its
ancestors' admins; only the owning tenant's admins write its layer (a city never writes a county's).
"""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, patch, post, put
from litestar.di import NamedDependency
from litestar.params import JSONBody, PathParameter, QueryParameter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from citylead.api.standards_schemas import (
    DraftIn,
    DraftOut,
    DraftPatchIn,
    EffectiveOut,
    ImpactOut,
    PublishIn,
    VersionListOut,
    VersionOut,
)
from citylead.db import Database
from citylead.identity.policy import require_admin_over, require_owner_admin
from citylead.identity.principal import Principal
from tenants.models import Tenant
from tenants.service import access_tenant_by_code
from tenants.standards.drafts import DraftPatch, do_patch_draft, do_replace_draft, get_draft
from tenants.standards.models import StandardVersion
from tenants.standards.paths import Kind
from tenants.standards.publishing import do_publish, preview
from tenants.standards.resolver import Resolver, parse_at

__all__ = ["StandardsController"]

Code = Annotated[str, PathParameter(pattern=r"^[0-9]{6}$", description="GB/T 2260 code, six digits")]
KindOf = Annotated[Kind, PathParameter(description="catalog, manual, assessment or calendar")]
Db = NamedDependency[Database]
Caller = NamedDependency[Principal]
Resolve = NamedDependency[Resolver]


class StandardsController(Controller):
    path = "/tenants/{code:str}/standards/{kind:str}"
    tags = ["standards"]  # noqa: RUF012

    @get("/", summary="The effective standards, with provenance and policy per entry")
    async def effective(
        self,
        db: Db,
        principal: Caller,
        resolver: Resolve,
        code: Code,
        kind: KindOf,
        at: Annotated[
            str | None,
            QueryParameter(
                description="a version vector (320000:3,320400:2) or an ISO timestamp with offset"
            ),
        ] = None,
        prefix: Annotated[str, QueryParameter(description="only paths starting with this")] = "",
    ) -> EffectiveOut:
        moment = parse_at(at)
        async with db.transaction(principal.context) as s:
            target = (await access_tenant_by_code(s, principal.context, code, ancestors=True)).tenant
            doc = await resolver.effective(s, target, kind, at=moment)
        return EffectiveOut.of(code, doc, prefix=prefix, at=at)

    @get("/versions", summary="Published versions of the tenant's own layer")
    async def versions(self, db: Db, principal: Caller, code: Code, kind: KindOf) -> VersionListOut:
        async with db.transaction(principal.context) as s:
            target = (await access_tenant_by_code(s, principal.context, code, ancestors=True)).tenant
            rows = await s.scalars(
                select(StandardVersion)
                .where(StandardVersion.tenant_id == target.id, StandardVersion.kind == kind.value)
                .order_by(StandardVersion.number.desc())
            )
            return VersionListOut(items=[VersionOut.of(code, r) for r in rows])

    @get("/draft", summary="The tenant's draft (its admins and its ancestors' admins)")
    async def draft(self, db: Db, principal: Caller, code: Code, kind: KindOf) -> DraftOut:
        async with db.transaction(principal.context) as s:
            target = await _own_or_below(s, principal, code)
            require_admin_over(principal, target)
            return DraftOut.of(code, kind, await get_draft(s, target, kind))

    @put("/draft", summary="Replace the draft (send the draft version you read)")
    async def replace(
        self, db: Db, principal: Caller, resolver: Resolve, code: Code, kind: KindOf, data: JSONBody[DraftIn]
    ) -> DraftOut:
        async with db.transaction(principal.context) as s:
            target = await _owned(s, principal, code)
            content = {"values": data.values, "removed": data.removed, "policies": data.policies}
            draft = await do_replace_draft(
                s,
                resolver,
                target,
                kind,
                content,
                expected_version=data.version,
                acting_user=principal.username,
            )
            return DraftOut.of(code, kind, draft)

    @patch("/draft", summary="Change part of the draft (send the draft version you read)")
    async def change(
        self,
        db: Db,
        principal: Caller,
        resolver: Resolve,
        code: Code,
        kind: KindOf,
        data: JSONBody[DraftPatchIn],
    ) -> DraftOut:
        async with db.transaction(principal.context) as s:
            target = await _owned(s, principal, code)
            change = DraftPatch(set=data.set, remove=data.remove, revert=data.revert, policies=data.policies)
            draft = await do_patch_draft(
                s,
                resolver,
                target,
                kind,
                change,
                expected_version=data.version,
                acting_user=principal.username,
            )
            return DraftOut.of(code, kind, draft)

    @post("/preview", status_code=200, summary="What publishing the draft would change below")
    async def preview(
        self, db: Db, principal: Caller, resolver: Resolve, code: Code, kind: KindOf
    ) -> ImpactOut:
        async with db.transaction(principal.context) as s:
            target = await _owned(s, principal, code)
            return ImpactOut.of(code, await preview(s, resolver, target, kind))

    @post("/publish", status_code=201, summary="Publish the draft as the next version")
    async def publish(
        self,
        db: Db,
        principal: Caller,
        resolver: Resolve,
        code: Code,
        kind: KindOf,
        data: JSONBody[PublishIn],
    ) -> VersionOut:
        resolutions = {(r.tenant, r.path): r.action for r in data.resolutions}
        async with db.transaction(principal.context) as s:
            target = await _owned(s, principal, code)
            row = await do_publish(
                s,
                resolver,
                target,
                kind,
                resolutions=resolutions,
                expected_version=data.version,
                note=data.note,
                acting_user=principal.username,
            )
            return VersionOut.of(code, row)


async def _own_or_below(s: AsyncSession, principal: Principal, code: str) -> Tenant:
    return (await access_tenant_by_code(s, principal.context, code)).tenant


async def _owned(s: AsyncSession, principal: Principal, code: str) -> Tenant:
    target = await _own_or_below(s, principal, code)
    require_owner_admin(principal, target)
    return target
