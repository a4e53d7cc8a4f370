"""The embedded, Keycloak-compatible identity provider as one Litestar router at ``/idp``.

python-keycloak works against it unchanged with ``server_url=".../idp/"``: the OIDC endpoints of
:mod:`.oidc` and the admin REST subset of :mod:`.admin` / :mod:`.admin_users` sit at Keycloak's
paths under ``/idp``. Any other realm name answers 404 ``{"error": "Realm does not exist"}``.
"""

from __future__ import annotations

from typing import Any

from litestar import Router
from litestar.connection import ASGIConnection
from litestar.di import Provide
from litestar.handlers import BaseRouteHandler

from citylead.db import Database
from citylead.identity.idp.admin import admin_dependencies, group_handlers, role_handlers
from citylead.identity.idp.admin_users import user_handlers
from citylead.identity.idp.errors import IdpError, exception_handlers
from citylead.identity.idp.oidc import oidc_handlers
from citylead.identity.idp.tokens import Idp
from citylead.identity.keys import SigningKeys

__all__ = ["create_idp_router", "realm_issuer"]


def realm_issuer(issuer: str, realm: str) -> str:
    """The realm's issuer URL (``iss``): ``issuer`` itself, or ``{issuer}/realms/{realm}`` when
    ``issuer`` is the server URL (``http://host/idp``) rather than the realm URL."""
    base = issuer.rstrip("/")
    suffix = f"/realms/{realm}"
    return base if base.endswith(suffix) else base + suffix


def _known_realm(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    idp: Idp = handler.opt["idp"]
    if connection.path_params.get("realm") != idp.realm:
        raise IdpError(404, {"error": "Realm does not exist"})


def create_idp_router(
    *,
    db: Database,
    keys: SigningKeys,
    issuer: str,
    realm: str = "citylead",
    access_ttl: int,
    refresh_ttl: int,
    audience: str = "citylead",
) -> Router:
    """A router at ``/idp`` serving realm ``realm``.

    ``issuer`` is the public realm URL put in ``iss`` (``https://host/idp/realms/citylead``; a
    bare ``https://host/idp`` is completed); ``audience`` goes in access tokens' ``aud``.
    TTLs are in seconds: ``refresh_ttl`` is the idle lifetime of a session, renewed by a refresh.
    """
    idp = Idp(
        db=db,
        keys=keys,
        issuer=realm_issuer(issuer, realm),
        realm=realm,
        access_ttl=access_ttl,
        refresh_ttl=refresh_ttl,
        audience=audience,
    )
    return Router(
        path="/idp",
        route_handlers=[*oidc_handlers, *group_handlers, *role_handlers, *user_handlers],
        dependencies={"idp": Provide(lambda: idp, sync_to_thread=False), **admin_dependencies},
        guards=[_known_realm],
        exception_handlers=exception_handlers,
        opt={"idp": idp},
        include_in_schema=False,
    )
