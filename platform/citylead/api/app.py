"""The app factory: the composition root that assembles one process from the packages."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from keycloak import KeycloakOpenID
from litestar import Litestar, Router
from litestar.datastructures import State
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin, SwaggerRenderPlugin

from citylead import __version__
from citylead.api.assessments import AssessmentController
from citylead.api.auth import BearerAuthentication, provide_principal
from citylead.api.cases import CaseController
from citylead.api.coverage import CoverageController
from citylead.api.geography import GeographyController
from citylead.api.health import health, ready
from citylead.api.intake import HotlineController
from citylead.api.me import me
from citylead.api.notifications import NotificationController
from citylead.api.open311 import Open311ClientController, open311_router
from citylead.api.problems import exception_handlers
from citylead.api.standards import StandardsController
from citylead.api.tenants import TenantController
from citylead.api.units import ComponentController, UnitController
from citylead.blobs import BlobStore, blob_store
from citylead.db import Database
from citylead.geography.index import Locator
from citylead.identity.keys import SigningKeys
from citylead.identity.tokens import JwksSource, TokenValidator, keycloak_jwks
from citylead.settings import Settings
from provisioning.api import OnboardingController, ProvisioningJobController
from provisioning.api_lifecycle import TenantLifecycleController
from tenants.standards.resolver import Resolver

__all__ = ["create_app", "create_dashboard_app"]

log = logging.getLogger("citylead")


def _provide_db(state: State) -> Database:
    db: Database = state.db
    return db


def _provide_resolver(state: State) -> Resolver:
    resolver: Resolver = state.resolver
    return resolver


def _provide_settings(state: State) -> Settings:
    settings: Settings = state.settings
    return settings


def _provide_blobs(state: State) -> BlobStore:
    blobs: BlobStore = state.blobs
    return blobs


def _provide_locator(state: State) -> Locator:
    locator: Locator = state.locator
    return locator


def _identity(settings: Settings, keys: SigningKeys | None) -> tuple[KeycloakOpenID, TokenValidator]:
    """The identity provider's client (sign-in, refresh) and the access-token validator."""
    ident = settings.identity
    embedded = ident.identity == "embedded"
    server_url = f"{settings.public_url}/idp/" if embedded else (ident.keycloak_url or "").rstrip("/") + "/"
    openid = KeycloakOpenID(
        server_url=server_url, realm_name=ident.keycloak_realm, client_id=ident.keycloak_client_id
    )
    if embedded:
        if keys is None:
            raise ValueError("embedded identity needs the provider's signing keys")
        local_keys = keys

        async def local_jwks() -> dict[str, Any]:
            return local_keys.jwks()

        source: JwksSource = local_jwks
    else:
        source = keycloak_jwks(openid)
    validator = TokenValidator(
        openid,
        source,
        issuer=settings.issuer,
        audience=ident.keycloak_audience,
        leeway=ident.token_leeway_seconds,
        refresh_seconds=ident.jwks_refresh_seconds,
    )
    return openid, validator


def _dashboard_handlers(db: Database, resolver: Resolver) -> list[Any]:
    """``/signin``, ``/signout`` and the ``/dashboard`` mount (Dash through a2wsgi)."""
    from dashboard import DatabaseReader, create_dashboard, dashboard_mount
    from dashboard.signin import signin_handlers

    reader = DatabaseReader(db, resolver=resolver)
    return [*signin_handlers(), dashboard_mount(create_dashboard(reader))]


def _lifespan(db: Database) -> Any:
    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await db.dispose()

    return lifespan


def create_dashboard_app(
    settings: Settings, *, app_database_url: str, keys: SigningKeys | None = None
) -> Litestar:
    """``citylead dashboard``: only the dashboard, its sign-in and the probes (scaled apart from the API).

    Tokens are checked exactly as the API checks them; in embedded identity mode the provider
    (and so ``/signin``'s token endpoint) is the API's, at ``CITYLEAD_PUBLIC_URL``."""
    openid, validator = _identity(settings, keys)
    db = Database(app_database_url, pool_size=settings.database.db_pool_size)
    return Litestar(
        route_handlers=[health, ready, *_dashboard_handlers(db, Resolver())],
        exception_handlers=exception_handlers,
        lifespan=[_lifespan(db)],
        state=State({"db": db, "token_validator": validator, "openid": openid, "settings": settings}),
        openapi_config=None,
        debug=False,
    )


def create_app(
    settings: Settings, *, app_database_url: str, keys: SigningKeys | None = None, dashboard: bool = False
) -> Litestar:
    """Build the ASGI app. In embedded identity mode, ``keys`` are the provider's signing keys.
    ``dashboard``: serve the dashboard at ``/dashboard/`` too (``citylead up``; production runs
    ``citylead dashboard`` beside the API instead)."""
    ident = settings.identity
    embedded = ident.identity == "embedded"
    openid, validator = _identity(settings, keys)
    db = Database(app_database_url, pool_size=settings.database.db_pool_size)

    api = Router(
        path="/api/v1",
        route_handlers=[
            me,
            TenantController,
            StandardsController,
            GeographyController,
            CaseController,
            HotlineController,
            UnitController,
            ComponentController,
            Open311ClientController,
            NotificationController,
            OnboardingController,
            ProvisioningJobController,
            TenantLifecycleController,
            CoverageController,
            AssessmentController,
        ],
        dependencies={"principal": Provide(provide_principal)},
        middleware=[DefineMiddleware(BearerAuthentication)],
    )
    handlers: list[Any] = [health, ready, api, open311_router()]
    resolver = Resolver()  # one standards cache for the API and the dashboard
    if dashboard:
        handlers.extend(_dashboard_handlers(db, resolver))
    if embedded:
        from citylead.identity.idp.router import create_idp_router

        assert keys is not None
        handlers.append(
            create_idp_router(
                db=db,
                keys=keys,
                issuer=settings.issuer,
                realm=ident.keycloak_realm,
                access_ttl=ident.access_token_ttl_seconds,
                refresh_ttl=ident.refresh_token_ttl_seconds,
                audience=ident.keycloak_audience,
            )
        )
    return Litestar(
        route_handlers=handlers,
        dependencies={
            "db": Provide(_provide_db, sync_to_thread=False),
            "resolver": Provide(_provide_resolver, sync_to_thread=False),
            "settings": Provide(_provide_settings, sync_to_thread=False),
            "blobs": Provide(_provide_blobs, sync_to_thread=False),
            "locator": Provide(_provide_locator, sync_to_thread=False),
        },
        exception_handlers=exception_handlers,
        lifespan=[_lifespan(db)],
        state=State(
            {
                "db": db,
                "resolver": resolver,
                "locator": Locator(),
                "blobs": blob_store(settings),
                "token_validator": validator,
                "openid": openid,
                "settings": settings,
            }
        ),
        request_max_body_size=settings.blobs.photo_max_bytes * settings.blobs.photos_per_report + 1024 * 1024,
        openapi_config=OpenAPIConfig(
            title="citylead",
            version=__version__,
            description="Provincial multi-tenant digital urban management (数字城管) platform API.",
            path="/schema",
            render_plugins=[ScalarRenderPlugin(), SwaggerRenderPlugin(path="/swagger")],
        ),
        debug=False,
    )
