"""Token contents as Keycloak issues them (access, refresh and ID tokens), and their validation.

Access tokens carry ``realm_access.roles`` and the full-path ``groups`` claim (the citylead client
scope in the production realm adds the same group mapper). Refresh tokens are signed JWTs with
``typ: "Refresh"`` naming the session in ``sid``; whether the session still lives is checked
against the database by the caller, as Keycloak checks its user-session store.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from jwcrypto.common import JWException
from jwcrypto.jwt import JWT

from citylead.db import Database
from citylead.identity.idp.models import IdpUser
from citylead.identity.keys import SigningKeys

__all__ = [
    "REALM_MANAGEMENT",
    "REALM_MANAGEMENT_ROLES",
    "Idp",
    "Subject",
    "granted_scope",
    "sign_tokens",
    "verify_token",
]

REALM_MANAGEMENT = "realm-management"
REALM_MANAGEMENT_ROLES = ("realm-admin", "manage-users", "view-users", "query-groups")
LEEWAY_SECONDS = 10


@dataclass(frozen=True, slots=True)
class Idp:
    """The provider's configuration, shared by every endpoint. ``issuer`` is the realm URL."""

    db: Database
    keys: SigningKeys
    issuer: str
    realm: str
    access_ttl: int
    refresh_ttl: int
    audience: str

    def __deepcopy__(self, memo: dict[int, Any]) -> Idp:
        return self  # shared, immutable: Litestar deep-copies handler ``opt`` on registration

    def endpoint(self, suffix: str) -> str:
        return f"{self.issuer}/protocol/openid-connect{suffix}"


@dataclass(frozen=True, slots=True)
class Subject:
    """Whom a token is about: the user row with its group paths and realm-role names."""

    user: IdpUser
    groups: list[str] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)
    realm_admin: bool = False  # a service account with the realm-management roles

    def profile(self) -> dict[str, Any]:
        """The ``profile`` and ``email`` scope claims (what userinfo and the ID token show)."""
        user = self.user
        claims: dict[str, Any] = {
            "sub": str(user.id),
            "email_verified": False,
            "preferred_username": user.username,
        }
        optional = {
            "name": user.full_name,
            "given_name": user.first_name,
            "family_name": user.last_name,
            "email": user.email,
        }
        claims.update({k: v for k, v in optional.items() if v})
        return claims

    def access_claims(self) -> dict[str, Any]:
        claims = self.profile()
        claims["realm_access"] = {"roles": list(self.roles)}
        claims["groups"] = list(self.groups)
        if self.realm_admin:
            claims["resource_access"] = {REALM_MANAGEMENT: {"roles": list(REALM_MANAGEMENT_ROLES)}}
        return claims


def granted_scope(requested: str | None) -> str:
    """Keycloak grants the default client scopes (``profile email``), plus ``openid`` if asked."""
    scopes = ["profile", "email"]
    if requested and "openid" in requested.split():
        scopes.insert(0, "openid")
    return " ".join(scopes)


def sign_tokens(
    idp: Idp,
    subject: Subject,
    *,
    client_id: str,
    sid: uuid.UUID | None,
    session_expires: int | None,
    scope: str,
) -> dict[str, Any]:
    """The token endpoint's success body (RFC 6749 §5.1 plus Keycloak's extra fields)."""
    now = idp.keys.now()
    sub = str(subject.user.id)
    common: dict[str, Any] = {"iat": now, "iss": idp.issuer, "sub": sub, "azp": client_id}
    if sid is not None:
        common["sid"] = str(sid)
    access = {
        **common,
        **subject.access_claims(),
        "exp": now + idp.access_ttl,
        "jti": str(uuid.uuid4()),
        "aud": idp.audience,
        "typ": "Bearer",
        "scope": scope,
    }
    body: dict[str, Any] = {
        "access_token": idp.keys.sign(access),
        "expires_in": idp.access_ttl,
        "refresh_expires_in": 0,
        "token_type": "Bearer",
        "not-before-policy": 0,
        "scope": scope,
    }
    if sid is not None and session_expires is not None:
        refresh = {**common, "exp": session_expires, "jti": str(uuid.uuid4()), "aud": idp.issuer}
        refresh.update({"typ": "Refresh", "scope": scope})
        body["refresh_token"] = idp.keys.sign(refresh)
        body["refresh_expires_in"] = max(session_expires - now, 0)
        body["session_state"] = str(sid)
    if "openid" in scope.split():
        id_claims = {**common, **subject.profile(), "exp": now + idp.access_ttl, "aud": client_id}
        id_claims.update({"jti": str(uuid.uuid4()), "typ": "ID"})
        body["id_token"] = idp.keys.sign(id_claims)
    return body


def verify_token(idp: Idp, token: str, *, typ: str | tuple[str, ...] = "Bearer") -> dict[str, Any] | None:
    """The claims of a token this provider signed, still valid and of type ``typ``; else None."""
    allowed = (typ,) if isinstance(typ, str) else typ
    jwt = JWT(algs=["RS256"], check_claims={"iss": idp.issuer, "exp": None}, expected_type="JWS")
    jwt.leeway = LEEWAY_SECONDS
    try:
        jwt.deserialize(token, idp.keys.public_jwks)
        data: Any = json.loads(jwt.claims)
    except (JWException, ValueError, TypeError):
        return None
    if not isinstance(data, dict) or data.get("typ") not in allowed or not data.get("sub"):
        return None
    return data
