"""Keycloak admin REST API, the subset citylead's provisioning uses: groups and realm roles here,
users in :mod:`.admin_users`. Prefix ``/admin/realms/{realm}``.

Authorisation as Keycloak's ``realm-management`` client roles in the bearer token:
``realm-admin`` or ``manage-users`` may write; those, ``view-users`` or ``query-groups`` may read.
No or bad token → 401; a valid token without these roles → 403 ``{"error": "unknown_error"}``.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency, Provide
from litestar.handlers import BaseRouteHandler, HTTPRouteHandler
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from citylead.identity.idp import directory, queries
from citylead.identity.idp.models import IdpGroup
from citylead.identity.idp.queries import Page
from citylead.identity.idp.representations import group_rep, role_rep
from citylead.identity.idp.tokens import REALM_MANAGEMENT, Idp, verify_token
from tenants.errors import Forbidden, NotFound, Unauthenticated

__all__ = [
    "ADMIN",
    "admin_dependencies",
    "can_read",
    "can_write",
    "created",
    "group_handlers",
    "role_handlers",
]

ADMIN = "/admin/realms/{realm:str}"
READ_ROLES = frozenset({"realm-admin", "manage-users", "view-users", "query-groups"})
WRITE_ROLES = frozenset({"realm-admin", "manage-users"})


def _caller_roles(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> set[str]:
    idp: Idp = handler.opt["idp"]
    scheme, _, token = (connection.headers.get("authorization") or "").partition(" ")
    claims = verify_token(idp, token.strip()) if scheme.lower() == "bearer" and token.strip() else None
    if claims is None:
        raise Unauthenticated()
    access = claims.get("resource_access")
    client = access.get(REALM_MANAGEMENT) if isinstance(access, dict) else None
    roles = client.get("roles") if isinstance(client, dict) else None
    return {r for r in roles if isinstance(r, str)} if isinstance(roles, list) else set()


def can_read(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    if not _caller_roles(connection, handler) & READ_ROLES:
        raise Forbidden()


def can_write(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    if not _caller_roles(connection, handler) & WRITE_ROLES:
        raise Forbidden()


def _page(first: FromQuery[int] = 0, max_: Annotated[int, QueryParameter(name="max")] = 100) -> Page:
    return Page(first, max_)


admin_dependencies = {"page": Provide(_page, sync_to_thread=False)}


def created(request: Request[Any, Any, Any], idp: Idp, kind: str, ident: str) -> Response[None]:
    """201 with ``Location: .../admin/realms/{realm}/{kind}/{id}`` (clients read the id from it)."""
    path = request.url.path
    base = path[: path.index("/admin/realms/")]
    location = request.url.with_replacements(path=f"{base}/admin/realms/{idp.realm}/{kind}/{ident}", query="")
    return Response(None, status_code=201, headers={"Location": str(location)})


# --- groups ------------------------------------------------------------------------------------


def _name(data: dict[str, Any]) -> str:
    return str(data.get("name") or "").strip()


async def _reps(idp: Idp, groups: list[IdpGroup]) -> list[dict[str, Any]]:
    async with idp.db.transaction(None) as s:
        counts = await queries.child_counts(s, groups)
    return [group_rep(g, counts.get(g.id, 0)) for g in groups]


@get(f"{ADMIN}/groups", guards=[can_read])
async def list_groups(
    idp: NamedDependency[Idp], page: NamedDependency[Page], search: FromQuery[str | None] = None
) -> list[dict[str, Any]]:
    """Top-level groups (``subGroups`` empty; ``subGroupCount`` tells whether to ask for children)."""
    async with idp.db.transaction(None) as s:
        groups = await queries.list_groups(s, None, page, search)
    return await _reps(idp, groups)


@get(f"{ADMIN}/groups/{{group_id:str}}", guards=[can_read])
async def get_group(idp: NamedDependency[Idp], group_id: FromPath[str]) -> dict[str, Any]:
    async with idp.db.transaction(None) as s:
        group = await queries.get_group(s, group_id)
    return (await _reps(idp, [group]))[0]


@get(f"{ADMIN}/groups/{{group_id:str}}/children", guards=[can_read])
async def group_children(
    idp: NamedDependency[Idp],
    group_id: FromPath[str],
    page: NamedDependency[Page],
    search: FromQuery[str | None] = None,
) -> list[dict[str, Any]]:
    async with idp.db.transaction(None) as s:
        parent = await queries.get_group(s, group_id)
        groups = await queries.list_groups(s, parent, page, search)
    return await _reps(idp, groups)


@post(f"{ADMIN}/groups", guards=[can_write])
async def create_group(
    request: Request[Any, Any, Any], idp: NamedDependency[Idp], data: JSONBody[dict[str, Any]]
) -> Response[None]:
    """201 + Location; 409 ``Top level group named 'x' already exists.``"""
    duplicate = f"Top level group named '{_name(data)}' already exists."
    async with queries.conflict_on_duplicate(duplicate), idp.db.transaction(None) as s:
        group = await queries.create_group(s, data.get("name"), None)
    return created(request, idp, "groups", str(group.id))


@post(f"{ADMIN}/groups/{{group_id:str}}/children", guards=[can_write])
async def create_child(
    request: Request[Any, Any, Any],
    idp: NamedDependency[Idp],
    group_id: FromPath[str],
    data: JSONBody[dict[str, Any]],
) -> Response[None]:
    """201 + Location; 409 ``Sibling group named 'x' already exists.``"""
    duplicate = f"Sibling group named '{_name(data)}' already exists."
    async with queries.conflict_on_duplicate(duplicate), idp.db.transaction(None) as s:
        parent = await queries.get_group(s, group_id)
        group = await queries.create_group(s, data.get("name"), parent)
    return created(request, idp, "groups", str(group.id))


@get(f"{ADMIN}/group-by-path/{{path:path}}", guards=[can_read])
async def group_by_path(idp: NamedDependency[Idp], path: FromPath[str]) -> dict[str, Any]:
    async with idp.db.transaction(None) as s:
        group = await directory.get_group_by_path(s, path) if path.strip("/") else None
    if group is None:
        raise NotFound("Group path does not exist")
    return (await _reps(idp, [group]))[0]


group_handlers: list[HTTPRouteHandler] = [
    list_groups,
    get_group,
    group_children,
    create_group,
    create_child,
    group_by_path,
]


# --- realm roles -------------------------------------------------------------------------------


@get(f"{ADMIN}/roles", guards=[can_read])
async def list_roles(
    idp: NamedDependency[Idp], page: NamedDependency[Page], search: FromQuery[str | None] = None
) -> list[dict[str, Any]]:
    async with idp.db.transaction(None) as s:
        roles = await queries.list_roles(s, page, search)
    return [role_rep(r, idp.realm) for r in roles]


@get(f"{ADMIN}/roles/{{role_name:str}}", guards=[can_read])
async def get_role(idp: NamedDependency[Idp], role_name: FromPath[str]) -> dict[str, Any]:
    async with idp.db.transaction(None) as s:
        role = await queries.get_role(s, role_name)
    return role_rep(role, idp.realm)


@post(f"{ADMIN}/roles", guards=[can_write])
async def create_role(
    request: Request[Any, Any, Any], idp: NamedDependency[Idp], data: JSONBody[dict[str, Any]]
) -> Response[None]:
    """201 + Location ending in the role name; 409 if it exists."""
    duplicate = f"Role with name {_name(data)} already exists"
    async with queries.conflict_on_duplicate(duplicate), idp.db.transaction(None) as s:
        role = await queries.create_role(s, data.get("name"), data.get("description"))
    return created(request, idp, "roles", role.name)


role_handlers: list[HTTPRouteHandler] = [list_roles, get_role, create_role]
