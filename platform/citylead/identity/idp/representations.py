"""Keycloak admin-API representations (``GroupRepresentation``, ``UserRepresentation``,
``RoleRepresentation``) of the directory rows."""

from __future__ import annotations

from typing import Any

from citylead.identity.idp.models import IdpGroup, IdpRealmRole, IdpUser

__all__ = ["group_rep", "role_rep", "user_rep"]


def group_rep(group: IdpGroup, sub_group_count: int = 0) -> dict[str, Any]:
    """Keycloak ≥ 23 shape: children are fetched with ``/children``, ``subGroups`` stays empty."""
    rep: dict[str, Any] = {
        "id": str(group.id),
        "name": group.name,
        "path": group.path,
        "subGroupCount": sub_group_count,
        "subGroups": [],
        "attributes": {},
        "realmRoles": [],
        "clientRoles": {},
        "access": {"view": True, "manage": True, "manageMembership": True},
    }
    if group.parent_id is not None:
        rep["parentId"] = str(group.parent_id)
    return rep


def user_rep(user: IdpUser) -> dict[str, Any]:
    rep: dict[str, Any] = {
        "id": str(user.id),
        "username": user.username,
        "enabled": user.enabled,
        "emailVerified": False,
        "createdTimestamp": int(user.created_at.timestamp() * 1000) if user.created_at else None,
        "totp": False,
        "disableableCredentialTypes": [],
        "requiredActions": [],
        "notBefore": 0,
        "access": {
            "manageGroupMembership": True,
            "view": True,
            "mapRoles": True,
            "impersonate": False,
            "manage": True,
        },
    }
    for key, value in (("firstName", user.first_name), ("lastName", user.last_name), ("email", user.email)):
        if value is not None:
            rep[key] = value
    if user.service_account_client_id:
        rep["serviceAccountClientId"] = user.service_account_client_id
    return rep


def role_rep(role: IdpRealmRole, realm: str) -> dict[str, Any]:
    return {
        "id": str(role.id),
        "name": role.name,
        "description": role.description,
        "composite": False,
        "clientRole": False,
        "containerId": realm,
    }
