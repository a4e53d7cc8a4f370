"""The OpenID Connect endpoints of realm ``{realm}``, at Keycloak's URLs and in its JSON shapes.

``GET realms/{r}``, ``.well-known/openid-configuration``, and under ``protocol/openid-connect``:
``certs``, ``token``, ``userinfo``, ``token/introspect`` and ``logout`` (204).
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post, route
from litestar.di import NamedDependency
from litestar.handlers import HTTPRouteHandler

from citylead.identity.idp import grants
from citylead.identity.idp.errors import IdpError
from citylead.identity.idp.tokens import Idp

__all__ = ["oidc_handlers"]

OIDC = "/realms/{realm:str}/protocol/openid-connect"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


async def _form(request: Request[Any, Any, Any]) -> dict[str, str]:
    """The form body, first value of each field (``application/x-www-form-urlencoded``)."""
    form = await request.form()
    return {k: v[0] for k, v in form.dict().items() if v and isinstance(v[0], str)}


def _bearer(request: Request[Any, Any, Any]) -> str | None:
    header = request.headers.get("authorization") or ""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


@get("/realms/{realm:str}/.well-known/openid-configuration")
async def well_known(idp: NamedDependency[Idp]) -> dict[str, Any]:
    """OpenID Provider Metadata (OpenID Connect Discovery 1.0 §3)."""
    return {
        "issuer": idp.issuer,
        "authorization_endpoint": idp.endpoint("/auth"),
        "token_endpoint": idp.endpoint("/token"),
        "introspection_endpoint": idp.endpoint("/token/introspect"),
        "userinfo_endpoint": idp.endpoint("/userinfo"),
        "end_session_endpoint": idp.endpoint("/logout"),
        "jwks_uri": idp.endpoint("/certs"),
        "grant_types_supported": ["password", "refresh_token", "client_credentials"],
        "response_types_supported": ["token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "userinfo_signing_alg_values_supported": ["none"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "scopes_supported": ["openid", "profile", "email"],
        "claims_supported": [
            "sub",
            "iss",
            "aud",
            "exp",
            "iat",
            "name",
            "given_name",
            "family_name",
            "preferred_username",
            "email",
            "email_verified",
            "groups",
            "realm_access",
        ],
    }


@get("/realms/{realm:str}")
async def realm_info(idp: NamedDependency[Idp]) -> dict[str, Any]:
    """The realm's public page; ``public_key`` is base64 DER SubjectPublicKeyInfo, as Keycloak."""
    pem = idp.keys.key.export_to_pem(private_key=False, password=None).decode("ascii")
    der_b64 = "".join(line for line in pem.splitlines() if line and not line.startswith("-----"))
    return {
        "realm": idp.realm,
        "public_key": der_b64,
        "token-service": f"{idp.issuer}/protocol/openid-connect",
        "account-service": f"{idp.issuer}/account",
        "tokens-not-before": 0,
    }


@get(f"{OIDC}/certs")
async def certs(idp: NamedDependency[Idp]) -> dict[str, Any]:
    """The JWKS (public halves of the signing keys)."""
    return idp.keys.jwks()


@post(f"{OIDC}/token", status_code=200)
async def token(request: Request[Any, Any, Any], idp: NamedDependency[Idp]) -> Response[dict[str, Any]]:
    """RFC 6749 token endpoint: ``password``, ``refresh_token``, ``client_credentials``."""
    body = await grants.grant(idp, await _form(request), request.headers.get("authorization"))
    return Response(body, headers=NO_STORE)


@route(f"{OIDC}/userinfo", http_method=["GET", "POST"], status_code=200)
async def userinfo(request: Request[Any, Any, Any], idp: NamedDependency[Idp]) -> dict[str, Any]:
    """OpenID Connect UserInfo: the profile, ``groups`` and ``realm_access`` of the bearer."""
    token = _bearer(request)
    if token is None and request.method == "POST":
        token = (await _form(request)).get("access_token")
    claims = await grants.active_claims(idp, token) if token else None
    if claims is None:
        raise IdpError(
            401,
            {"error": "invalid_token", "error_description": "Token verification failed"},
            {"WWW-Authenticate": f'Bearer realm="{idp.realm}", error="invalid_token"'},
        )
    info = {k: claims[k] for k in _USERINFO if k in claims}
    info.setdefault("realm_access", {"roles": []})
    info.setdefault("groups", [])
    return info


_USERINFO = (
    "sub",
    "email_verified",
    "name",
    "preferred_username",
    "given_name",
    "family_name",
    "email",
    "groups",
    "realm_access",
    "resource_access",
)


@post(f"{OIDC}/token/introspect", status_code=200)
async def introspect(request: Request[Any, Any, Any], idp: NamedDependency[Idp]) -> dict[str, Any]:
    """RFC 7662 introspection, for confidential clients: ``{"active": false}`` for any bad token."""
    form = await _form(request)
    client = await grants.authenticate_client(
        idp, grants.ClientAuth.of(form, request.headers.get("authorization"))
    )
    grants.require_confidential(client)
    token = form.get("token")
    claims = await grants.active_claims(idp, token, ("Bearer", "Refresh", "ID")) if token else None
    if claims is None:
        return {"active": False}
    return {
        **claims,
        "active": True,
        "client_id": claims.get("azp"),
        "username": claims.get("preferred_username"),
        "token_type": claims.get("typ"),
    }


@post(f"{OIDC}/logout", status_code=204)
async def logout(request: Request[Any, Any, Any], idp: NamedDependency[Idp]) -> None:
    """Back-channel logout with the refresh token: the session ends, its refresh tokens die."""
    await grants.logout(idp, await _form(request), request.headers.get("authorization"))


oidc_handlers: list[HTTPRouteHandler] = [well_known, realm_info, certs, token, userinfo, introspect, logout]
