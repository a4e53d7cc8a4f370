"""Identity provisioning (身份开通): a tenant's group, its realm roles and its first administrator.

Everything goes through python-keycloak's Admin API, so the same code runs against a real
Keycloak and against the embedded provider (``citylead.identity.idp.serve``). Synchronous, as
python-keycloak is: the caller runs :func:`provision_identity` in a thread.

Convergent: each step reads first and creates only what is missing, and a ``409`` from a
concurrent creator is answered by reading again. Calling it twice, from two threads at once, or
again after a crash half-way ends with one group per path, one user, one membership and the role
mapped. Errors are :mod:`tenants.errors`: ``ServiceUnavailable`` when the server cannot be reached
or fails (retry later), ``Forbidden`` / ``InvalidInput`` / ``Conflict`` when retrying cannot help.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from keycloak import (
    KeycloakAdmin,
    KeycloakConnectionError,
    KeycloakError,
    KeycloakGetError,
    KeycloakOpenIDConnection,
    KeycloakPostError,
)

from citylead.identity.idp.serve import PROVISIONER_CLIENT
from citylead.identity.principal import Role
from citylead.runtime import provisioner_secret
from citylead.settings import Settings
from tenants.errors import Conflict, Forbidden, InvalidInput, ServiceUnavailable

__all__ = [
    "FirstAdmin",
    "IdentityReport",
    "IdentityTarget",
    "connect",
    "provision_identity",
    "target_from_settings",
]

SETTINGS_TO_CHECK = "CITYLEAD_KEYCLOAK_ADMIN_CLIENT_SECRET (CITYLEAD_IDP_PROVISIONER_SECRET when embedded)"


@dataclass(frozen=True)
class IdentityTarget:
    """How to reach the Admin API: a confidential client whose service account has the
    ``realm-management`` roles (manage-users, view-realm)."""

    server_url: str  # ends with "/": "http://127.0.0.1:8000/idp/", "https://sso.example/"
    realm: str
    client_id: str
    client_secret: str = field(repr=False)
    timeout_seconds: int = 15  # per HTTP request


@dataclass(frozen=True)
class FirstAdmin:
    """The tenant's first administrator (首位管理员)."""

    username: str
    email: str
    role: str  # "county_admin" or "city_admin"
    # set (temporary) only when the user is created; an existing user's password is never changed
    temporary_password: str | None = field(repr=False)
    first_name: str | None = None
    last_name: str | None = None


@dataclass(frozen=True)
class IdentityReport:
    group_path: str  # "/32/3204/320411"
    group_id: str
    groups_created: list[str]  # paths this call created, ancestors included
    roles_created: list[str]
    user_id: str | None
    user_created: bool


def target_from_settings(settings: Settings, *, embedded_server_url: str | None) -> IdentityTarget:
    """Keycloak mode: ``CITYLEAD_KEYCLOAK_URL`` and the admin client; embedded mode: the provider
    at ``embedded_server_url`` (an ``EmbeddedIdpServer``) and its ``citylead-provisioner``."""
    ident = settings.identity
    if ident.identity == "keycloak":
        assert ident.keycloak_url  # the settings refuse keycloak mode without it
        if ident.keycloak_admin_client_secret is None:
            raise ServiceUnavailable(
                "identity provisioning needs CITYLEAD_KEYCLOAK_ADMIN_CLIENT_SECRET, the secret of "
                f"Keycloak client {ident.keycloak_admin_client_id}"
            )
        return IdentityTarget(
            server_url=ident.keycloak_url.rstrip("/") + "/",
            realm=ident.keycloak_realm,
            client_id=ident.keycloak_admin_client_id,
            client_secret=ident.keycloak_admin_client_secret.get_secret_value(),
        )
    if not embedded_server_url:
        raise InvalidInput("embedded identity needs the URL of a running EmbeddedIdpServer")
    return IdentityTarget(
        server_url=embedded_server_url.rstrip("/") + "/",
        realm=ident.keycloak_realm,
        client_id=PROVISIONER_CLIENT,
        client_secret=provisioner_secret(settings),
    )


def provision_identity(
    target: IdentityTarget,
    *,
    group_path: str,
    roles: Sequence[str],
    admin: FirstAdmin | None,
    client: KeycloakAdmin | None = None,
) -> IdentityReport:
    """Ensure the group at ``group_path`` (and its ancestors), the realm ``roles`` (and
    ``admin.role``), and the first administrator in that group with that role. ``client``: an
    admin client from :func:`connect` kept by the caller (its token is reused and refreshed)."""
    path = _normalize(group_path)
    wanted = list(dict.fromkeys([*roles, *([admin.role] if admin else [])]))
    if not all(isinstance(r, str) and r.strip() == r and r for r in wanted):
        raise InvalidInput(f"not realm role names: {wanted!r}")
    kc = client if client is not None else connect(target)
    with _translated(target):
        group_id, groups_created = _ensure_groups(kc, path)
        roles_created = [name for name in wanted if _ensure_role(kc, name)]
        user_id, user_created = _ensure_admin(kc, target, path, group_id, admin) if admin else (None, False)
    return IdentityReport(path, group_id, groups_created, roles_created, user_id, user_created)


def _normalize(group_path: str) -> str:
    """``/32/3204/320411/`` (a tenant path) or ``/32/3204/320411`` → ``/32/3204/320411``."""
    parts = group_path.strip().rstrip("/").split("/")
    if len(parts) < 2 or parts[0] != "" or not all(p and p == p.strip() for p in parts[1:]):
        raise InvalidInput(f"not a group path: {group_path!r}")
    return "/".join(parts)


# --- talking to the Admin API ------------------------------------------------------------------


def connect(target: IdentityTarget) -> KeycloakAdmin:
    """An admin client signed in with client credentials (sign-in errors name what to fix)."""
    connection = KeycloakOpenIDConnection(
        server_url=target.server_url,
        realm_name=target.realm,
        user_realm_name=target.realm,
        client_id=target.client_id,
        client_secret_key=target.client_secret,
        grant_type="client_credentials",
        timeout=target.timeout_seconds,
    )
    with _translated(target, signing_in=True):
        connection.get_token()
    return KeycloakAdmin(connection=connection)


def _message(exc: KeycloakError) -> str:
    """Keycloak's own words for an error (``errorMessage``, ``error_description``, ``error``)."""
    try:
        body: Any = json.loads(exc.response_body or b"")
    except ValueError:
        body = None
    if isinstance(body, dict):
        for key in ("errorMessage", "error_description", "error", "message"):
            if isinstance(body.get(key), str):
                return str(body[key])
    return "no details"


def _unreachable(exc: KeycloakConnectionError, timeout: int) -> str:
    """Why a request got no answer, in a few words (requests wraps urllib3's reason)."""
    error = exc.__cause__
    reason = getattr(error.args[0], "reason", None) if error is not None and error.args else None
    if any("Timeout" in type(e).__name__ for e in (error, reason)):
        return f"no answer within {timeout} s"
    if "refused" in f"{error} {reason}".lower():
        return "connection refused"
    return type(reason or error).__name__ if error is not None else "no answer"


@contextmanager
def _translated(target: IdentityTarget, *, signing_in: bool = False) -> Iterator[None]:
    """python-keycloak's errors as :mod:`tenants.errors`, with what to fix; no secrets in them."""
    url, client, realm = target.server_url, target.client_id, target.realm
    try:
        yield
    except KeycloakConnectionError as exc:
        cause = _unreachable(exc, target.timeout_seconds)
        raise ServiceUnavailable(f"identity provider {url} could not be reached ({cause})") from exc
    except KeycloakError as exc:
        code = exc.response_code
        if code is None or code >= 500:
            raise ServiceUnavailable(f"identity provider {url} failed (HTTP {code})") from exc
        if code == 401 or (signing_in and code == 400):
            raise Forbidden(
                f"client {client} was refused by {url} (realm {realm}): {_message(exc)}; check "
                f"{SETTINGS_TO_CHECK} and that the client is confidential with service accounts enabled"
            ) from exc
        if code == 403:
            raise Forbidden(
                f"client {client} may not manage realm {realm} at {url}: give its service account "
                "the realm-management roles manage-users and view-realm (or realm-admin)"
            ) from exc
        if signing_in and code == 404:
            raise InvalidInput(
                f"no realm {realm} at {url}: check CITYLEAD_KEYCLOAK_URL and CITYLEAD_KEYCLOAK_REALM"
            ) from exc
        raise InvalidInput(f"identity provider {url} refused a request: {_message(exc)}") from exc


# --- the steps ---------------------------------------------------------------------------------


def _find_group(kc: KeycloakAdmin, path: str) -> str | None:
    try:
        group = kc.get_group_by_path(path.lstrip("/"))  # no "//" in the URL; Keycloak strips it anyway
    except KeycloakGetError as exc:
        if exc.response_code == 404:
            return None
        raise
    return str(group["id"])


def _ensure_groups(kc: KeycloakAdmin, path: str) -> tuple[str, list[str]]:
    """The group's id and the paths created, each segment a group named by its code."""
    found = _find_group(kc, path)
    if found is not None:
        return found, []
    created: list[str] = []
    parent: str | None = None
    prefix = ""
    for name in path.strip("/").split("/"):
        prefix = f"{prefix}/{name}"
        group_id = _find_group(kc, prefix)
        if group_id is None:
            try:
                group_id = kc.create_group({"name": name}, parent=parent)
                created.append(prefix)
            except KeycloakPostError as exc:
                if exc.response_code != 409:
                    raise
                group_id = _find_group(kc, prefix)  # a concurrent creator won
            if not group_id:
                raise Conflict(f"group {prefix} was created but cannot be read back")
        parent = group_id
    assert parent is not None
    return parent, created


def _ensure_role(kc: KeycloakAdmin, name: str) -> bool:
    """Whether realm role ``name`` had to be created (described by its Chinese label)."""
    try:
        kc.get_realm_role(name)
        return False
    except KeycloakGetError as exc:
        if exc.response_code != 404:
            raise
    description = Role(name).label if name in Role._value2member_map_ else None
    try:
        kc.create_realm_role({"name": name, "description": description})
    except KeycloakPostError as exc:
        if exc.response_code != 409:
            raise
        return False
    return True


def _find_user(kc: KeycloakAdmin, username: str) -> str | None:
    users = kc.get_users({"username": username, "exact": True, "max": 2})
    ids = [str(u["id"]) for u in users if str(u.get("username", "")).lower() == username]
    return ids[0] if ids else None


def _create_user(kc: KeycloakAdmin, target: IdentityTarget, path: str, admin: FirstAdmin) -> tuple[str, bool]:
    username = admin.username.strip().lower()
    rep: dict[str, Any] = {"username": username, "email": admin.email, "enabled": True, "groups": [path]}
    if admin.first_name:
        rep["firstName"] = admin.first_name
    if admin.last_name:
        rep["lastName"] = admin.last_name
    if admin.temporary_password:
        rep["credentials"] = [{"type": "password", "value": admin.temporary_password, "temporary": True}]
    try:
        return kc.create_user(rep), True
    except KeycloakPostError as exc:
        if exc.response_code != 409:
            raise
        user_id = _find_user(kc, username)  # a concurrent creator won, or the email is taken
        if user_id is None:
            raise Conflict(
                f"user {username} cannot be created at {target.server_url}: {_message(exc)}"
            ) from exc
        return user_id, False


def _ensure_admin(
    kc: KeycloakAdmin, target: IdentityTarget, path: str, group_id: str, admin: FirstAdmin
) -> tuple[str, bool]:
    """The user, created if missing, in the tenant's group only, with ``admin.role`` mapped."""
    username = admin.username.strip().lower()
    if not username:
        raise InvalidInput("the first administrator needs a username")
    user_id = _find_user(kc, username)
    created = False
    if user_id is None:
        user_id, created = _create_user(kc, target, path, admin)
    paths = {str(g.get("path")) for g in kc.get_user_groups(user_id)}
    others = sorted(paths - {path})
    if others:  # a second tenant group would give the user another tenant (or lock it out)
        raise Conflict(f"user {username} already belongs to {', '.join(others)}, not only to {path}")
    if path not in paths:
        kc.group_user_add(user_id, group_id)
    if admin.role not in {r.get("name") for r in kc.get_realm_roles_of_user(user_id)}:
        kc.assign_realm_roles(user_id, [kc.get_realm_role(admin.role)])
    return user_id, created
