"""``/api/v1/me``: who the caller is."""

from __future__ import annotations

from litestar import get
from litestar.di import NamedDependency

from citylead.api.schemas import MeOut
from citylead.db import Database
from citylead.identity.principal import Principal
from tenants.errors import NotFound, Unauthenticated
from tenants.service import access_tenant_by_code

__all__ = ["me"]


@get("/me", summary="The signed-in user: roles and tenant", tags=["identity"])
async def me(db: NamedDependency[Database], principal: NamedDependency[Principal]) -> MeOut:
    async with db.transaction(principal.context) as s:
        try:
            tenant = await access_tenant_by_code(s, principal.context, principal.tenant_code)
        except NotFound as exc:  # a valid token for a tenant this installation does not have
            raise Unauthenticated("your tenant is not registered on this platform") from exc
    return MeOut.of(principal, tenant)
