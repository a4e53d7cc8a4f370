"""What the token, logout and introspection endpoints do, as Keycloak does it.

- Client authentication (``client_secret_post`` or ``client_secret_basic``): unknown client or
  bad secret → 401 ``invalid_client``; public clients need no secret.
- ``password``: bad username and bad password are the same 401 ``invalid_grant`` "Invalid user
  credentials"; an unknown user costs one Argon2 verification all the same (no timing oracle).
- ``refresh_token``: the session must be live and the user enabled; the session is extended.
- ``client_credentials``: confidential clients only; the subject is ``service-account-<client>``.
"""

from __future__ import annotations

import base64
import binascii
import functools
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote_plus

from anyio import to_thread
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from citylead.identity.idp import directory
from citylead.identity.idp.errors import IdpError, oauth_error
from citylead.identity.idp.models import IdpClient, IdpSession, IdpUser
from citylead.identity.idp.tokens import Idp, Subject, granted_scope, sign_tokens, verify_token
from citylead.identity.passwords import hash_password, verify_password

__all__ = [
    "ClientAuth",
    "active_claims",
    "authenticate_client",
    "grant",
    "load_subject",
    "logout",
    "require_confidential",
]

INVALID_CREDENTIALS = "Invalid user credentials"
INVALID_REFRESH = "Invalid refresh token"


@dataclass(frozen=True, slots=True)
class ClientAuth:
    """The client credentials of a request: from the form, or from an HTTP Basic header."""

    client_id: str | None
    secret: str | None

    @classmethod
    def of(cls, form: Mapping[str, str], authorization: str | None) -> ClientAuth:
        if authorization and authorization[:6].lower() == "basic ":
            try:
                raw = base64.b64decode(authorization[6:].strip(), validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError) as exc:
                raise oauth_error(401, "invalid_client", "Invalid client credentials") from exc
            cid, sep, secret = raw.partition(":")
            if not sep:
                raise oauth_error(401, "invalid_client", "Invalid client credentials")
            return cls(unquote_plus(cid), unquote_plus(secret))  # RFC 6749 §2.3.1
        return cls(form.get("client_id") or None, form.get("client_secret") or None)


@functools.cache
def _dummy_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))


async def _verify(password_hash: str | None, password: str) -> bool:
    """Argon2 off the event loop; a missing hash still costs one verification."""
    ok = await to_thread.run_sync(verify_password, password_hash or _dummy_hash(), password)
    return ok and password_hash is not None


async def authenticate_client(idp: Idp, auth: ClientAuth) -> IdpClient:
    """The client, if it exists and (when confidential) its secret is right; else 401."""
    if not auth.client_id:
        raise oauth_error(401, "invalid_client", "Missing parameter: client_id")
    async with idp.db.transaction(None) as s:
        client = await directory.get_client(s, auth.client_id)
    if client is None:
        await _verify(None, auth.secret or "")
        raise oauth_error(401, "invalid_client", "Invalid client or Invalid client credentials")
    if not client.public and not await _verify(client.secret_hash, auth.secret or ""):
        raise oauth_error(401, "invalid_client", "Invalid client or Invalid client credentials")
    return client


async def load_subject(s: AsyncSession, user: IdpUser, client: IdpClient | None = None) -> Subject:
    """The user with its groups and roles; a service account adds its client's configured roles."""
    roles = [r.name for r in await directory.user_roles(s, user.id)]
    admin = False
    if client is not None and user.service_account_client_id == client.client_id:
        roles = sorted({*roles, *client.service_account_roles})
        admin = client.service_account_admin
    return Subject(user, await directory.user_group_paths(s, user.id), roles, admin)


async def grant(idp: Idp, form: Mapping[str, str], authorization: str | None) -> dict[str, Any]:
    """The token endpoint: dispatch on ``grant_type``."""
    grant_type = form.get("grant_type")
    if not grant_type:
        raise oauth_error(400, "invalid_request", "Missing form parameter: grant_type")
    handler = _GRANTS.get(grant_type)
    if handler is None:
        raise oauth_error(400, "unsupported_grant_type", "Unsupported grant_type")
    client = await authenticate_client(idp, ClientAuth.of(form, authorization))
    return await handler(idp, client, form)


async def _password(idp: Idp, client: IdpClient, form: Mapping[str, str]) -> dict[str, Any]:
    if not client.direct_access_grants:
        raise oauth_error(400, "unauthorized_client", "Client not allowed for direct access grants")
    username, password = form.get("username") or "", form.get("password") or ""
    async with idp.db.transaction(None) as s:
        user = await directory.find_user(s, username) if username.strip() else None
    ok = await _verify(user.password_hash if user else None, password)
    if not ok or user is None or not user.enabled or user.service_account_client_id is not None:
        raise oauth_error(401, "invalid_grant", INVALID_CREDENTIALS)
    expires = datetime.now(UTC) + timedelta(seconds=idp.refresh_ttl)
    async with idp.db.transaction(None) as s:
        session = IdpSession(user_id=user.id, client_id=client.client_id, expires_at=expires)
        s.add(session)
        await s.flush()
        subject = await load_subject(s, user)
    return sign_tokens(
        idp,
        subject,
        client_id=client.client_id,
        sid=session.id,
        session_expires=int(expires.timestamp()),
        scope=granted_scope(form.get("scope")),
    )


async def _refresh(idp: Idp, client: IdpClient, form: Mapping[str, str]) -> dict[str, Any]:
    token = form.get("refresh_token")
    if not token:
        raise oauth_error(400, "invalid_request", "Missing parameter: refresh_token")
    claims = _refresh_claims(idp, token, client)
    expires = datetime.now(UTC) + timedelta(seconds=idp.refresh_ttl)
    async with idp.db.transaction(None) as s:
        session = await _live_session(s, claims, lock=True)
        if session is None:
            raise oauth_error(400, "invalid_grant", "Session not active")
        user = await directory.get_user(s, session.user_id)
        if user is None or not user.enabled:
            raise oauth_error(400, "invalid_grant", "User disabled")
        session.expires_at = expires
        subject = await load_subject(s, user)
    return sign_tokens(
        idp,
        subject,
        client_id=client.client_id,
        sid=session.id,
        session_expires=int(expires.timestamp()),
        scope=str(claims.get("scope") or granted_scope(None)),
    )


async def _client_credentials(idp: Idp, client: IdpClient, form: Mapping[str, str]) -> dict[str, Any]:
    if client.public:
        raise oauth_error(401, "unauthorized_client", "Public client not allowed to retrieve service account")
    async with idp.db.transaction(None) as s:
        user = await directory.service_account_user(s, client)
        subject = await load_subject(s, user, client)
    if not user.enabled:
        raise oauth_error(400, "invalid_grant", "User disabled")
    scope = granted_scope(form.get("scope"))
    return sign_tokens(idp, subject, client_id=client.client_id, sid=None, session_expires=None, scope=scope)


_GRANTS = {"password": _password, "refresh_token": _refresh, "client_credentials": _client_credentials}


def _refresh_claims(idp: Idp, token: str, client: IdpClient) -> dict[str, Any]:
    claims = verify_token(idp, token, typ="Refresh")
    if claims is None:
        raise oauth_error(400, "invalid_grant", INVALID_REFRESH)
    if claims.get("azp") != client.client_id:
        raise oauth_error(
            400, "invalid_grant", "Invalid refresh token. Token client and authorized client don't match"
        )
    return claims


async def _live_session(
    s: AsyncSession, claims: Mapping[str, Any], *, lock: bool = False
) -> IdpSession | None:
    """The token's session if it is neither revoked nor expired."""
    try:
        sid = uuid.UUID(str(claims.get("sid")))
    except ValueError:
        return None
    stmt = select(IdpSession).where(
        IdpSession.id == sid,
        IdpSession.revoked_at.is_(None),
        IdpSession.expires_at > datetime.now(UTC),
    )
    if lock:
        stmt = stmt.with_for_update()
    return await s.scalar(stmt)


async def logout(idp: Idp, form: Mapping[str, str], authorization: str | None) -> None:
    """Revoke the refresh token's session (Keycloak's back-channel logout endpoint)."""
    client = await authenticate_client(idp, ClientAuth.of(form, authorization))
    token = form.get("refresh_token")
    if not token:
        raise oauth_error(400, "invalid_request", "Missing parameter: refresh_token")
    claims = _refresh_claims(idp, token, client)
    async with idp.db.transaction(None) as s:
        session = await _live_session(s, claims, lock=True)
        if session is None:
            raise oauth_error(400, "invalid_grant", "Session not active")
        session.revoked_at = datetime.now(UTC)


async def active_claims(idp: Idp, token: str, typ: str | tuple[str, ...] = "Bearer") -> dict[str, Any] | None:
    """Claims of a token whose signature, expiry, session and user are all still good."""
    claims = verify_token(idp, token, typ=typ)
    if claims is None:
        return None
    async with idp.db.transaction(None) as s:
        if claims.get("sid") and await _live_session(s, claims) is None:
            return None
        try:
            user = await directory.get_user(s, uuid.UUID(str(claims["sub"])))
        except ValueError:
            return None
    return claims if user is not None and user.enabled else None


def require_confidential(client: IdpClient) -> None:
    """Token introspection is for confidential clients only."""
    if client.public:
        raise IdpError(403, {"error": "invalid_request", "error_description": "Client not allowed."})
