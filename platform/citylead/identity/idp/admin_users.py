"""Keycloak admin REST API for users: search, create, update, password, groups, realm roles.

``POST /users`` takes a ``UserRepresentation`` with ``credentials`` and ``groups`` (paths); like
Keycloak it ignores ``realmRoles`` there (use ``role-mappings/realm``) and answers 409
``User exists with same username`` / ``... same email``. Service accounts are never listed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from anyio import to_thread
from litestar import Request, Response, delete, get, post, put
from litestar.di import NamedDependency, Provide
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from citylead.identity.idp import directory, queries
from citylead.identity.idp.admin import ADMIN, can_read, can_write, created
from citylead.identity.idp.models import IdpUser
from citylead.identity.idp.queries import Page, UserFilter
from citylead.identity.idp.representations import group_rep, role_rep, user_rep
from citylead.identity.idp.tokens import Idp
from citylead.identity.passwords import hash_password
from tenants.errors import Conflict, InvalidInput

__all__ = ["user_handlers"]

USER = f"{ADMIN}/users/{{user_id:str}}"
SAME_USERNAME = "User exists with same username"


def _flag(value: str | None) -> bool | None:
    return None if value is None else value.strip().lower() == "true"


def _user_filter(
    search: FromQuery[str | None] = None,
    username: FromQuery[str | None] = None,
    email: FromQuery[str | None] = None,
    first_name: Annotated[str | None, QueryParameter(name="firstName")] = None,
    last_name: Annotated[str | None, QueryParameter(name="lastName")] = None,
    enabled: FromQuery[str | None] = None,
    exact: FromQuery[str | None] = None,
) -> UserFilter:
    return UserFilter(search, username, email, first_name, last_name, _flag(enabled), bool(_flag(exact)))


async def _password_hash(credentials: Any) -> str | None:
    """The hash of the password credential in a representation, if any (Argon2 off the loop)."""
    if not credentials:
        return None
    if not isinstance(credentials, list):
        raise InvalidInput("credentials must be a list")
    for cred in credentials:
        if isinstance(cred, dict) and cred.get("type", "password") == "password":
            value = cred.get("value")
            if not isinstance(value, str) or not value:
                raise InvalidInput("Password is missing")
            return await to_thread.run_sync(hash_password, value)
    return None


async def _check_email(s: AsyncSession, email: Any, user: IdpUser | None) -> None:
    if not email:
        return
    stmt = select(IdpUser.id).where(func.lower(IdpUser.email) == str(email).lower())
    other = await s.scalar(stmt.limit(1))
    if other is not None and (user is None or other != user.id):
        raise Conflict("User exists with same email")


def _apply(user: IdpUser, data: JSONBody[dict[str, Any]]) -> None:
    """Copy the fields a representation sets (absent fields stay as they are, as in Keycloak)."""
    for key, attr in (("email", "email"), ("firstName", "first_name"), ("lastName", "last_name")):
        if key in data:
            setattr(user, attr, str(data[key]) if data[key] not in (None, "") else None)
    if data.get("enabled") is not None:
        user.enabled = bool(data["enabled"])


@get(f"{ADMIN}/users", guards=[can_read], dependencies={"flt": Provide(_user_filter, sync_to_thread=False)})
async def list_users(
    idp: NamedDependency[Idp], flt: NamedDependency[UserFilter], page: NamedDependency[Page]
) -> list[dict[str, Any]]:
    """``?username=&exact=true``, ``?search=``, ``?email=``, paged by ``first``/``max``."""
    async with idp.db.transaction(None) as s:
        users = await queries.search_users(s, flt, page)
    return [user_rep(u) for u in users]


@get(
    f"{ADMIN}/users/count",
    guards=[can_read],
    dependencies={"flt": Provide(_user_filter, sync_to_thread=False)},
)
async def count_users(idp: NamedDependency[Idp], flt: NamedDependency[UserFilter]) -> int:
    async with idp.db.transaction(None) as s:
        return await queries.count_matching_users(s, flt)


@get(USER, guards=[can_read])
async def get_user(idp: NamedDependency[Idp], user_id: FromPath[str]) -> dict[str, Any]:
    async with idp.db.transaction(None) as s:
        return user_rep(await queries.require_user(s, user_id))


@post(f"{ADMIN}/users", guards=[can_write])
async def create_user(
    request: Request[Any, Any, Any], idp: NamedDependency[Idp], data: JSONBody[dict[str, Any]]
) -> Response[None]:
    """201 + Location; 409 on a taken username or email."""
    username = str(data.get("username") or "").strip().lower()
    if not username:
        raise InvalidInput("User name is missing")
    password_hash = await _password_hash(data.get("credentials"))
    paths = data.get("groups") or []
    if not isinstance(paths, list):
        raise InvalidInput("groups must be a list of group paths")
    async with queries.conflict_on_duplicate(SAME_USERNAME), idp.db.transaction(None) as s:
        if await directory.find_user(s, username) is not None:
            raise Conflict(SAME_USERNAME)
        await _check_email(s, data.get("email"), None)
        group_ids = []
        for path in paths:
            group = await directory.get_group_by_path(s, str(path))
            if group is None:
                raise InvalidInput(f"Group {path} not found")
            group_ids.append(group.id)
        user = IdpUser(username=username, password_hash=password_hash, enabled=True)
        _apply(user, data)
        s.add(user)
        await s.flush()
        await directory.add_user_groups(s, user.id, group_ids)
    return created(request, idp, "users", str(user.id))


@put(USER, guards=[can_write], status_code=204)
async def update_user(
    idp: NamedDependency[Idp], user_id: FromPath[str], data: JSONBody[dict[str, Any]]
) -> None:
    """Update email, names, ``enabled`` and (given ``credentials``) the password; the username
    is read-only, as with Keycloak's default ``editUsernameAllowed=false``."""
    password_hash = await _password_hash(data.get("credentials"))
    async with idp.db.transaction(None) as s:
        user = await queries.require_user(s, user_id)
        new_name = data.get("username")
        if new_name is not None and str(new_name).strip().lower() != user.username:
            raise InvalidInput("error-user-attribute-read-only")
        await _check_email(s, data.get("email"), user)
        _apply(user, data)
        if password_hash is not None:
            user.password_hash = password_hash


@delete(USER, guards=[can_write], status_code=204)
async def delete_user(idp: NamedDependency[Idp], user_id: FromPath[str]) -> None:
    async with idp.db.transaction(None) as s:
        await s.delete(await queries.require_user(s, user_id))


@put(f"{USER}/reset-password", guards=[can_write], status_code=204)
async def reset_password(
    idp: NamedDependency[Idp], user_id: FromPath[str], data: JSONBody[dict[str, Any]]
) -> None:
    """``{"type": "password", "value": ..., "temporary": false}``."""
    password_hash = await _password_hash([data])
    if password_hash is None:
        raise InvalidInput("Password is missing")
    async with idp.db.transaction(None) as s:
        (await queries.require_user(s, user_id)).password_hash = password_hash


@get(f"{USER}/groups", guards=[can_read])
async def user_groups(
    idp: NamedDependency[Idp], user_id: FromPath[str], page: NamedDependency[Page]
) -> list[dict[str, Any]]:
    async with idp.db.transaction(None) as s:
        groups = await queries.list_user_groups(s, await queries.require_user(s, user_id), page)
        counts = await queries.child_counts(s, groups)
    return [group_rep(g, counts[g.id]) for g in groups]


@put(f"{USER}/groups/{{group_id:str}}", guards=[can_write], status_code=204)
async def join_group(idp: NamedDependency[Idp], user_id: FromPath[str], group_id: FromPath[str]) -> None:
    async with idp.db.transaction(None) as s:
        user = await queries.require_user(s, user_id)
        group = await queries.get_group(s, group_id)
        await directory.add_user_groups(s, user.id, [group.id])


@delete(f"{USER}/groups/{{group_id:str}}", guards=[can_write], status_code=204)
async def leave_group(idp: NamedDependency[Idp], user_id: FromPath[str], group_id: FromPath[str]) -> None:
    async with idp.db.transaction(None) as s:
        user = await queries.require_user(s, user_id)
        group = await queries.get_group(s, group_id)
        await queries.remove_user_group(s, user.id, group.id)


def _role_names(data: Sequence[Any]) -> list[str]:
    """Role representations are resolved by name, as Keycloak does."""
    names = [r.get("name") for r in data if isinstance(r, dict)]
    if len(names) != len(data) or not all(isinstance(n, str) and n for n in names):
        raise InvalidInput("role representations need a name")
    return [str(n) for n in names]


@get(f"{USER}/role-mappings/realm", guards=[can_read])
async def user_realm_roles(idp: NamedDependency[Idp], user_id: FromPath[str]) -> list[dict[str, Any]]:
    async with idp.db.transaction(None) as s:
        roles = await directory.user_roles(s, (await queries.require_user(s, user_id)).id)
    return [role_rep(r, idp.realm) for r in roles]


@post(f"{USER}/role-mappings/realm", guards=[can_write], status_code=204)
async def add_realm_roles(
    idp: NamedDependency[Idp], user_id: FromPath[str], data: JSONBody[list[Any]]
) -> None:
    async with idp.db.transaction(None) as s:
        user = await queries.require_user(s, user_id)
        await directory.add_user_roles(s, user.id, await directory.roles_by_name(s, _role_names(data)))


@delete(f"{USER}/role-mappings/realm", guards=[can_write], status_code=204)
async def remove_realm_roles(
    idp: NamedDependency[Idp], user_id: FromPath[str], data: JSONBody[list[Any]]
) -> None:
    async with idp.db.transaction(None) as s:
        user = await queries.require_user(s, user_id)
        await directory.remove_user_roles(s, user.id, await directory.roles_by_name(s, _role_names(data)))


user_handlers: list[HTTPRouteHandler] = [
    list_users,
    count_users,
    get_user,
    create_user,
    update_user,
    delete_user,
    reset_password,
    user_groups,
    join_group,
    leave_group,
    user_realm_roles,
    add_realm_roles,
    remove_realm_roles,
]
