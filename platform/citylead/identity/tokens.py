"""Bearer-token validation through python-keycloak, with a cached JWKS.

``KeycloakOpenID.decode_token`` fetches the JWKS on every call unless given ``key=``; here the key
set is cached and refreshed at most every ``jwks_refresh_seconds`` — and once early when a token
names an unknown ``kid`` (key rotation), never more often than that (no fetch storm).
Issuer, audience and expiry are always checked.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from jwcrypto import jwk, jws, jwt
from jwcrypto.common import JWException
from keycloak import KeycloakOpenID

from citylead.identity.principal import Principal
from tenants.errors import Unauthenticated

__all__ = ["JwksSource", "TokenValidator", "keycloak_jwks"]

log = logging.getLogger(__name__)

JwksSource = Callable[[], Awaitable[dict[str, Any]]]

_MIN_REFETCH_SECONDS = 10.0


def keycloak_jwks(openid: KeycloakOpenID) -> JwksSource:
    """Fetch the realm's JWKS from its ``certs`` endpoint (a real Keycloak, or the embedded one)."""

    async def fetch() -> dict[str, Any]:
        certs: dict[str, Any] = await openid.a_certs()
        return certs

    return fetch


class TokenValidator:
    def __init__(
        self,
        openid: KeycloakOpenID,
        jwks_source: JwksSource,
        *,
        issuer: str,
        audience: str,
        leeway: int = 10,
        refresh_seconds: int = 300,
    ) -> None:
        self.openid = openid
        self._source = jwks_source
        self.issuer = issuer
        self.audience = audience
        self.leeway = leeway
        self.refresh_seconds = refresh_seconds
        self._keys: jwk.JWKSet | None = None
        self._kids: set[str] = set()
        self._fetched_at = 0.0
        self._lock = asyncio.Lock()

    async def _key_set(self, kid: str | None) -> jwk.JWKSet:
        now = time.monotonic()
        stale = now - self._fetched_at > self.refresh_seconds
        unknown = kid is not None and kid not in self._kids and now - self._fetched_at > _MIN_REFETCH_SECONDS
        if self._keys is None or stale or unknown:
            async with self._lock:
                if self._keys is None or time.monotonic() - self._fetched_at > _MIN_REFETCH_SECONDS:
                    try:
                        doc = await self._source()
                    except Exception as exc:
                        if self._keys is None:
                            log.warning("cannot fetch the identity provider's keys: %s", exc)
                            raise Unauthenticated("the identity provider's keys are unavailable") from exc
                        log.warning("keeping cached keys; refresh failed: %s", exc)
                    else:
                        keys = jwk.JWKSet()
                        for k in doc.get("keys", []):
                            if k.get("use", "sig") == "sig":
                                keys.add(jwk.JWK(**k))
                        self._keys = keys
                        self._kids = {k.get("kid") for k in doc.get("keys", [])}
                    self._fetched_at = time.monotonic()
        assert self._keys is not None
        return self._keys

    async def claims(self, token: str) -> dict[str, Any]:
        """Validated claims of an access token, or :class:`Unauthenticated` saying why not."""
        try:
            header = jws.JWS()
            header.deserialize(token)
            kid = header.jose_header.get("kid")
            alg = header.jose_header.get("alg")
        except (JWException, ValueError) as exc:
            raise Unauthenticated("the bearer token is malformed") from exc
        if alg != "RS256":
            raise Unauthenticated("the bearer token is not signed with RS256")
        keys = await self._key_set(kid)
        if kid not in self._kids:
            raise Unauthenticated("the bearer token is signed by an unknown key")
        try:
            claims: dict[str, Any] = self.openid.decode_token(
                token,
                key=keys,
                leeway=self.leeway,
                algs=["RS256"],
                check_claims={"iss": self.issuer, "aud": self.audience, "exp": None},
            )
        except jwt.JWTExpired as exc:
            raise Unauthenticated("the bearer token has expired") from exc
        except jwt.JWTInvalidClaimValue as exc:
            raise Unauthenticated(f"the bearer token is not for this service: {_claim_of(exc)}") from exc
        except (JWException, ValueError) as exc:
            raise Unauthenticated("the bearer token's signature or claims are invalid") from exc
        if claims.get("typ", "Bearer") != "Bearer":
            raise Unauthenticated("the token is not an access token")
        return claims

    async def principal(self, token: str) -> Principal:
        claims = await self.claims(token)
        principal = Principal.from_claims(claims)
        if principal is None:
            raise Unauthenticated("the token carries no tenant group")
        return principal


def _claim_of(exc: Exception) -> str:
    text = str(exc)
    for claim in ("iss", "aud"):
        if f"'{claim}'" in text or f" {claim} " in text or text.startswith(claim):
            return {"iss": "wrong issuer", "aud": "wrong audience"}[claim]
    return "claim mismatch"
