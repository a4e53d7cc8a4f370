"""Where the identity step finds the Admin API, and how it calls it from the worker's event loop.

- Keycloak mode: the realm's Admin API with the provisioner client of the settings.
- Embedded mode: the platform's own Keycloak-compatible provider, served by this worker process on
  a private 127.0.0.1 port (started on first use, stopped with the worker), so a worker needs no
  running ``citylead up``; the same python-keycloak calls go over HTTP either way.
- Tests put an :class:`~provisioning.identity.IdentityTarget` in ``ctx.extras["identity_target"]``.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import asdict
from typing import Any

from keycloak import KeycloakAdmin

from citylead.identity.principal import Role
from citylead.jobs.registry import JobContext
from provisioning.identity import (
    FirstAdmin,
    IdentityTarget,
    connect,
    provision_identity,
    target_from_settings,
)
from provisioning.templates import Template
from tenants.errors import ServiceUnavailable
from tenants.models import Tenant, TenantLevel

__all__ = ["admin_role", "identity_target", "provision"]

_lock = threading.Lock()


def admin_role(tenant: Tenant) -> Role:
    return Role.CITY_ADMIN if tenant.level is TenantLevel.PREFECTURE_CITY else Role.COUNTY_ADMIN


async def identity_target(ctx: JobContext) -> IdentityTarget:
    found = ctx.extras.get("identity_target")
    if isinstance(found, IdentityTarget):
        return found
    settings = ctx.settings
    if settings is None:
        raise ServiceUnavailable("the worker has no settings: it cannot reach the identity provider")
    if settings.identity.identity == "keycloak":
        return target_from_settings(settings, embedded_server_url=None)
    if "idp_server" not in ctx.extras:
        from citylead.identity.idp.serve import ensure_provisioner_client
        from citylead.runtime import provisioner_secret

        async with ctx.db.transaction(None) as s:  # a database seeded without the demo has none
            await ensure_provisioner_client(s, provisioner_secret(settings))
    return await asyncio.to_thread(_embedded, ctx)


def _embedded(ctx: JobContext) -> IdentityTarget:
    from citylead.identity.idp.serve import EmbeddedIdpServer
    from citylead.identity.keys import SigningKeys

    settings = ctx.settings
    assert settings is not None
    with _lock:
        server = ctx.extras.get("idp_server")
        if server is None:
            url = ctx.db.engine.url.render_as_string(hide_password=False)
            server = EmbeddedIdpServer(
                url,
                keys=SigningKeys.load_or_create(settings.home / "idp"),
                realm=settings.identity.keycloak_realm,
            )
            server_url = server.start()
            ctx.extras["idp_server"] = server
            ctx.extras["idp_server_url"] = server_url
    return target_from_settings(settings, embedded_server_url=str(ctx.extras["idp_server_url"]))


async def provision(
    ctx: JobContext, tenant: Tenant, template: Template, admin_email: str | None, password: str | None
) -> dict[str, Any]:
    """Run the identity provisioning off the event loop; what it did, as the job records it."""
    target = await identity_target(ctx)
    role = admin_role(tenant)
    admin = None
    if admin_email:
        admin = FirstAdmin(
            username=admin_email.lower(),
            email=admin_email.lower(),
            role=role.value,
            temporary_password=password,
            first_name=role.label,
            last_name=tenant.name,
        )
    roles = sorted({*template.roles, role.value})
    try:
        client = await asyncio.to_thread(_client, ctx, target)
        report = await asyncio.to_thread(
            provision_identity,
            target,
            group_path=tenant.path.rstrip("/"),
            roles=roles,
            admin=admin,
            client=client,
        )
    except Exception:
        ctx.extras.pop("identity_client", None)  # a rotated secret or a restarted provider: sign in again
        raise
    return asdict(report)


def _client(ctx: JobContext, target: IdentityTarget) -> KeycloakAdmin:
    """One signed-in admin client per worker process and target: the client-credentials grant (a
    secret check, an Argon2id hash on the embedded provider) once, not once per job; python-keycloak
    refreshes its token before it expires."""
    with _lock:
        found = ctx.extras.get("identity_client")
        if found is not None and found[0] == target:
            return found[1]  # type: ignore[no-any-return]
        client = connect(target)
        ctx.extras["identity_client"] = (target, client)
        return client
