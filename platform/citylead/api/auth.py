"""Bearer authentication for ``/api``: every request there carries a valid access token."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection, Request
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from citylead.identity.principal import Principal
from citylead.identity.tokens import TokenValidator
from tenants.errors import Unauthenticated

__all__ = ["BearerAuthentication", "provide_principal"]


class BearerAuthentication(AbstractAuthenticationMiddleware):
    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        header = connection.headers.get("authorization")
        if not header:
            raise Unauthenticated("an Authorization: Bearer token is required")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("the Authorization header must be 'Bearer <token>'")
        validator: TokenValidator = connection.app.state.token_validator
        principal = await validator.principal(token.strip())
        return AuthenticationResult(user=principal, auth=token)


async def provide_principal(request: Request[Any, Any, Any]) -> Principal:
    principal = request.user
    assert isinstance(principal, Principal)
    return principal
