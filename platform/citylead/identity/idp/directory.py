"""The embedded provider's directory: users, the group tree, realm roles and clients.

Async functions over an :class:`AsyncSession` the caller opened (``db.transaction(None)``).
The ``ensure_*`` functions are idempotent (create or bring up to date), for seeding; the rest
are the lookups the OIDC and admin endpoints share. Usernames are lower-cased, as Keycloak does.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from citylead.identity.idp.models import IdpClient, IdpGroup, IdpRealmRole, IdpUser, UserGroup, UserRealmRole
from citylead.identity.passwords import hash_password, verify_password
from tenants.errors import InvalidInput, NotFound

__all__ = [
    "SERVICE_ACCOUNT_PREFIX",
    "add_user_groups",
    "add_user_roles",
    "count_users",
    "ensure_client",
    "ensure_group_path",
    "ensure_realm_role",
    "ensure_user",
    "find_user",
    "get_client",
    "get_group_by_path",
    "get_user",
    "normalize_group_path",
    "remove_user_roles",
    "roles_by_name",
    "service_account_user",
    "user_group_paths",
    "user_groups",
    "user_roles",
]

SERVICE_ACCOUNT_PREFIX = "service-account-"


# --- seeding API -------------------------------------------------------------------------------


async def ensure_realm_role(session: AsyncSession, name: str, description: str | None = None) -> uuid.UUID:
    """The id of realm role ``name``, created if missing (its description updated when given)."""
    role = await session.scalar(select(IdpRealmRole).where(IdpRealmRole.name == name))
    if role is None:
        role = IdpRealmRole(name=name, description=description)
        session.add(role)
        await session.flush()
    elif description is not None and role.description != description:
        role.description = description
    return role.id


async def ensure_group_path(session: AsyncSession, path: str) -> uuid.UUID:
    """The id of the group at ``path`` (``/32/3204/320411``), creating missing ancestors."""
    path = normalize_group_path(path)
    found = await get_group_by_path(session, path)
    if found is not None:
        return found.id
    parent: IdpGroup | None = None
    prefix = ""
    for name in path.strip("/").split("/"):
        prefix = f"{prefix}/{name}"
        group = await get_group_by_path(session, prefix)
        if group is None:
            group = IdpGroup(name=name, parent_id=parent.id if parent else None, path=prefix)
            session.add(group)
            await session.flush()
        parent = group
    assert parent is not None
    return parent.id


async def ensure_user(
    session: AsyncSession,
    username: str,
    *,
    password_hash: str | None,
    email: str | None = None,
    first_name: str | None = None,
    last_name: str | None = None,
    groups: Sequence[str] = (),
    roles: Sequence[str] = (),
    enabled: bool = True,
) -> uuid.UUID:
    """Create or update ``username`` so that it has exactly these attributes, groups and roles.

    ``password_hash`` is stored as given (hash once, share it between many users); group paths
    are created when missing; every role must already exist (:class:`NotFound` otherwise).
    """
    username = _username(username)
    role_rows = await roles_by_name(session, roles)
    user = await find_user(session, username)
    if user is None:
        user = IdpUser(username=username)
        session.add(user)
    user.password_hash = password_hash
    user.email = email
    user.first_name = first_name
    user.last_name = last_name
    user.enabled = enabled
    await session.flush()
    group_ids = [await ensure_group_path(session, p) for p in groups]
    await session.execute(delete(UserGroup).where(UserGroup.user_id == user.id))
    await add_user_groups(session, user.id, group_ids)
    await session.execute(delete(UserRealmRole).where(UserRealmRole.user_id == user.id))
    await add_user_roles(session, user.id, role_rows)
    return user.id


async def ensure_client(
    session: AsyncSession,
    client_id: str,
    *,
    public: bool,
    secret: str | None = None,
    direct_access_grants: bool = True,
    service_account_roles: Sequence[str] = (),
    service_account_admin: bool = False,
) -> None:
    """Create or update an OAuth client; a confidential one needs ``secret`` and gets its
    service-account user (``service-account-<client_id>``) now rather than on first use."""
    if not public and not secret:
        raise InvalidInput(f"confidential client {client_id!r} needs a secret")
    await roles_by_name(session, service_account_roles)  # they must exist
    client = await get_client(session, client_id)
    if client is None:
        client = IdpClient(client_id=client_id)
        session.add(client)
    if public:
        client.secret_hash = None
    elif secret and not (client.secret_hash and verify_password(client.secret_hash, secret)):
        client.secret_hash = hash_password(secret)
    client.public = public
    client.direct_access_grants = direct_access_grants
    client.service_account_roles = list(dict.fromkeys(service_account_roles))
    client.service_account_admin = service_account_admin and not public
    await session.flush()
    if not public:
        await service_account_user(session, client)


async def count_users(session: AsyncSession) -> int:
    """Number of users, not counting service accounts (Keycloak's user count neither does)."""
    stmt = select(func.count()).select_from(IdpUser).where(IdpUser.service_account_client_id.is_(None))
    return int(await session.scalar(stmt) or 0)


# --- lookups -----------------------------------------------------------------------------------


def normalize_group_path(path: str) -> str:
    """``32/3204/`` or ``/32/3204`` → ``/32/3204``; empty segments are refused."""
    parts = path.strip().strip("/").split("/")
    if not all(p.strip() for p in parts):
        raise InvalidInput(f"not a group path: {path!r}")
    return "/" + "/".join(parts)


def _username(username: str) -> str:
    name = username.strip().lower()
    if not name:
        raise InvalidInput("User name is missing")
    return name


async def find_user(session: AsyncSession, username: str) -> IdpUser | None:
    return await session.scalar(select(IdpUser).where(IdpUser.username == username.strip().lower()))


async def get_user(session: AsyncSession, user_id: uuid.UUID) -> IdpUser | None:
    return await session.get(IdpUser, user_id)


async def get_client(session: AsyncSession, client_id: str) -> IdpClient | None:
    return await session.scalar(select(IdpClient).where(IdpClient.client_id == client_id))


async def get_group_by_path(session: AsyncSession, path: str) -> IdpGroup | None:
    return await session.scalar(select(IdpGroup).where(IdpGroup.path == normalize_group_path(path)))


async def service_account_user(session: AsyncSession, client: IdpClient) -> IdpUser:
    """The client's service-account user, created on first use (as Keycloak does)."""
    stmt = select(IdpUser).where(IdpUser.service_account_client_id == client.client_id)
    user = await session.scalar(stmt)
    if user is None:
        user = IdpUser(
            username=_username(SERVICE_ACCOUNT_PREFIX + client.client_id),
            service_account_client_id=client.client_id,
            enabled=True,
        )
        session.add(user)
        await session.flush()
    return user


async def roles_by_name(session: AsyncSession, names: Sequence[str]) -> list[IdpRealmRole]:
    """The named realm roles, in the order given; :class:`NotFound` if one does not exist."""
    wanted = list(dict.fromkeys(names))
    if not wanted:
        return []
    rows = {
        r.name: r for r in await session.scalars(select(IdpRealmRole).where(IdpRealmRole.name.in_(wanted)))
    }
    missing = [n for n in wanted if n not in rows]
    if missing:
        raise NotFound(f"Could not find role: {missing[0]}")
    return [rows[n] for n in wanted]


async def user_groups(session: AsyncSession, user_id: uuid.UUID) -> list[IdpGroup]:
    stmt = (
        select(IdpGroup)
        .join(UserGroup, UserGroup.group_id == IdpGroup.id)
        .where(UserGroup.user_id == user_id)
        .order_by(IdpGroup.path)
    )
    return list(await session.scalars(stmt))


async def user_group_paths(session: AsyncSession, user_id: uuid.UUID) -> list[str]:
    """The ``groups`` claim: full paths of the user's direct groups."""
    return [g.path for g in await user_groups(session, user_id)]


async def user_roles(session: AsyncSession, user_id: uuid.UUID) -> list[IdpRealmRole]:
    stmt = (
        select(IdpRealmRole)
        .join(UserRealmRole, UserRealmRole.role_id == IdpRealmRole.id)
        .where(UserRealmRole.user_id == user_id)
        .order_by(IdpRealmRole.name)
    )
    return list(await session.scalars(stmt))


async def add_user_groups(session: AsyncSession, user_id: uuid.UUID, group_ids: Sequence[uuid.UUID]) -> None:
    """Join groups; joining one twice is not an error (Keycloak answers 204 either way)."""
    rows = [{"user_id": user_id, "group_id": g} for g in dict.fromkeys(group_ids)]
    if rows:
        await session.execute(insert(UserGroup).values(rows).on_conflict_do_nothing())


async def add_user_roles(session: AsyncSession, user_id: uuid.UUID, roles: Sequence[IdpRealmRole]) -> None:
    rows = [{"user_id": user_id, "role_id": r.id} for r in {r.id: r for r in roles}.values()]
    if rows:
        await session.execute(insert(UserRealmRole).values(rows).on_conflict_do_nothing())


async def remove_user_roles(session: AsyncSession, user_id: uuid.UUID, roles: Sequence[IdpRealmRole]) -> None:
    ids = [r.id for r in roles]
    if ids:
        stmt = delete(UserRealmRole).where(UserRealmRole.user_id == user_id, UserRealmRole.role_id.in_(ids))
        await session.execute(stmt)
