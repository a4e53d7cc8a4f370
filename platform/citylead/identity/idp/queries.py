"""Directory queries and changes behind the admin REST API (Keycloak's ``UsersResource``,
``GroupsResource`` and ``RoleContainerResource``), with Keycloak's conflict messages."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from citylead.identity.idp.models import IdpGroup, IdpRealmRole, IdpUser, UserGroup
from tenants.errors import Conflict, InvalidInput, NotFound

__all__ = [
    "Page",
    "UserFilter",
    "child_counts",
    "conflict_on_duplicate",
    "count_matching_users",
    "create_group",
    "create_role",
    "get_group",
    "get_role",
    "list_groups",
    "list_roles",
    "list_user_groups",
    "remove_user_group",
    "require_user",
    "search_users",
]


@dataclass(frozen=True, slots=True)
class Page:
    """Keycloak's ``first``/``max`` query parameters."""

    first: int = 0
    max: int = 100

    def apply(self, stmt: Select[Any]) -> Select[Any]:
        return stmt.offset(max(self.first, 0)).limit(min(max(self.max, 0), 1000))


@dataclass(frozen=True, slots=True)
class UserFilter:
    """``GET /users`` filters: substring matches, or equality when ``exact``."""

    search: str | None = None
    username: str | None = None
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    enabled: bool | None = None
    exact: bool = False

    def where(self) -> list[ColumnElement[bool]]:
        conds: list[ColumnElement[bool]] = [IdpUser.service_account_client_id.is_(None)]
        for column, value in (
            (IdpUser.username, self.username),
            (IdpUser.email, self.email),
            (IdpUser.first_name, self.first_name),
            (IdpUser.last_name, self.last_name),
        ):
            if value:
                if self.exact:
                    conds.append(func.lower(column) == value.lower())
                else:
                    conds.append(column.icontains(value, autoescape=True))
        if self.search and self.search != "*":
            term = self.search.strip("*")
            cols = (IdpUser.username, IdpUser.email, IdpUser.first_name, IdpUser.last_name)
            conds.append(or_(*(c.icontains(term, autoescape=True) for c in cols)))
        if self.enabled is not None:
            conds.append(IdpUser.enabled.is_(self.enabled))
        return conds


@asynccontextmanager
async def conflict_on_duplicate(message: str) -> AsyncIterator[None]:
    """Around a whole transaction: a unique violation is a 409 ``message``, as in Keycloak.

    The existence checks cannot see a concurrent creator's uncommitted row; the unique index
    makes the second insert wait for it and then fail, which this turns into the same 409.
    """
    try:
        yield
    except IntegrityError as exc:
        if getattr(exc.orig, "sqlstate", None) != "23505":  # unique_violation
            raise
        raise Conflict(message) from exc


async def search_users(s: AsyncSession, flt: UserFilter, page: Page) -> list[IdpUser]:
    """Users by filter, ordered by username; service accounts are never listed."""
    stmt = select(IdpUser).where(*flt.where()).order_by(IdpUser.username)
    return list(await s.scalars(page.apply(stmt)))


async def count_matching_users(s: AsyncSession, flt: UserFilter) -> int:
    return int(await s.scalar(select(func.count()).select_from(IdpUser).where(*flt.where())) or 0)


async def require_user(s: AsyncSession, user_id: str) -> IdpUser:
    user = await s.get(IdpUser, _uuid(user_id, "User not found"))
    if user is None:
        raise NotFound("User not found")
    return user


async def get_group(s: AsyncSession, group_id: str) -> IdpGroup:
    group = await s.get(IdpGroup, _uuid(group_id, "Could not find group by id"))
    if group is None:
        raise NotFound("Could not find group by id")
    return group


async def list_groups(
    s: AsyncSession, parent: IdpGroup | None, page: Page, search: str | None = None
) -> list[IdpGroup]:
    """Top-level groups (``parent=None``) or a group's children, by name."""
    parent_cond = IdpGroup.parent_id.is_(None) if parent is None else IdpGroup.parent_id == parent.id
    stmt = select(IdpGroup).where(parent_cond).order_by(IdpGroup.name)
    if search:
        stmt = stmt.where(IdpGroup.name.icontains(search, autoescape=True))
    return list(await s.scalars(page.apply(stmt)))


async def child_counts(s: AsyncSession, groups: Sequence[IdpGroup]) -> dict[uuid.UUID, int]:
    """``subGroupCount`` of each group."""
    ids = [g.id for g in groups]
    if not ids:
        return {}
    stmt = (
        select(IdpGroup.parent_id, func.count())
        .where(IdpGroup.parent_id.in_(ids))
        .group_by(IdpGroup.parent_id)
    )
    counts = {pid: int(n) for pid, n in await s.execute(stmt) if pid is not None}
    return {i: counts.get(i, 0) for i in ids}


async def create_group(s: AsyncSession, name: str | None, parent: IdpGroup | None) -> IdpGroup:
    """A new group under ``parent``; a sibling of the same name is a 409, as in Keycloak."""
    name = (name or "").strip()
    if not name or "/" in name:
        raise InvalidInput("Group name is missing" if not name else "Group name cannot contain '/'")
    path = f"{parent.path if parent else ''}/{name}"
    if await s.scalar(select(IdpGroup.id).where(IdpGroup.path == path)) is not None:
        if parent is None:
            raise Conflict(f"Top level group named '{name}' already exists.")
        raise Conflict(f"Sibling group named '{name}' already exists.")
    group = IdpGroup(name=name, parent_id=parent.id if parent else None, path=path)
    s.add(group)
    await s.flush()
    return group


async def list_user_groups(s: AsyncSession, user: IdpUser, page: Page) -> list[IdpGroup]:
    stmt = (
        select(IdpGroup)
        .join(UserGroup, UserGroup.group_id == IdpGroup.id)
        .where(UserGroup.user_id == user.id)
        .order_by(IdpGroup.path)
    )
    return list(await s.scalars(page.apply(stmt)))


async def list_roles(s: AsyncSession, page: Page, search: str | None = None) -> list[IdpRealmRole]:
    stmt = select(IdpRealmRole).order_by(IdpRealmRole.name)
    if search:
        stmt = stmt.where(IdpRealmRole.name.icontains(search, autoescape=True))
    return list(await s.scalars(page.apply(stmt)))


async def get_role(s: AsyncSession, name: str) -> IdpRealmRole:
    role = await s.scalar(select(IdpRealmRole).where(IdpRealmRole.name == name))
    if role is None:
        raise NotFound("Could not find role")
    return role


async def create_role(s: AsyncSession, name: str | None, description: str | None) -> IdpRealmRole:
    name = (name or "").strip()
    if not name:
        raise InvalidInput("Role name is missing")
    if await s.scalar(select(IdpRealmRole.id).where(IdpRealmRole.name == name)) is not None:
        raise Conflict(f"Role with name {name} already exists")
    role = IdpRealmRole(name=name, description=description)
    s.add(role)
    await s.flush()
    return role


def _uuid(value: str, not_found: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound(not_found) from None


async def remove_user_group(s: AsyncSession, user_id: uuid.UUID, group_id: uuid.UUID) -> None:
    await s.execute(delete(UserGroup).where(UserGroup.user_id == user_id, UserGroup.group_id == group_id))
