"""The admin REST subset through python-keycloak's ``KeycloakAdmin`` (client-credentials login)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from jwcrypto import jwk
from keycloak import (
    KeycloakAdmin,
    KeycloakError,
    KeycloakGetError,
    KeycloakOpenID,
    KeycloakOpenIDConnection,
    KeycloakPostError,
)

from citylead.identity.principal import Role
from tests.integration.idp import PASSWORD, REALM, IdpServer, unique


def _claims(oidc: KeycloakOpenID, server: IdpServer, username: str, password: str) -> dict[str, Any]:
    token = oidc.token(username, password)
    key = jwk.JWKSet.from_json(json.dumps(oidc.certs()))
    claims: dict[str, Any] = oidc.decode_token(
        token["access_token"], key=key, check_claims={"iss": server.issuer, "aud": "citylead", "exp": None}
    )
    return claims


def _group(admin: KeycloakAdmin, name: str, parent: str | None = None) -> str:
    group_id = admin.create_group({"name": name}, parent=parent)
    assert group_id is not None
    return group_id


def _body(exc: KeycloakError) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(exc.response_body or b"{}")
    return body


def test_group_tree(admin: KeycloakAdmin) -> None:
    top = unique("g")
    top_id = _group(admin, top)
    assert top_id is not None
    child_id = _group(admin, "3204", top_id)
    grandchild_id = _group(admin, "320411", child_id)

    found = admin.get_group_by_path(f"/{top}/3204/320411")
    assert found["id"] == grandchild_id
    assert found["path"] == f"/{top}/3204/320411"
    assert found["name"] == "320411"

    group = admin.get_group(top_id)
    assert (group["name"], group["path"], group["subGroupCount"]) == (top, f"/{top}", 1)
    assert [g["id"] for g in group["subGroups"]] == [child_id]  # python-keycloak fetched /children
    assert [g["path"] for g in admin.get_group_children(child_id)] == [f"/{top}/3204/320411"]
    assert top in {g["name"] for g in admin.get_groups()}


def test_duplicate_groups_are_409(admin: KeycloakAdmin) -> None:
    top = unique("dup")
    top_id = _group(admin, top)
    _group(admin, "kid", top_id)

    with pytest.raises(KeycloakPostError) as info:
        admin.create_group({"name": top})
    assert info.value.response_code == 409
    assert _body(info.value) == {"errorMessage": f"Top level group named '{top}' already exists."}

    with pytest.raises(KeycloakPostError) as info:
        admin.create_group({"name": "kid"}, parent=top_id)
    assert info.value.response_code == 409
    assert admin.create_group({"name": top}, skip_exists=True) is None


def test_unknown_group_path_is_404(admin: KeycloakAdmin) -> None:
    with pytest.raises(KeycloakGetError) as info:
        admin.get_group_by_path(f"/{unique('nowhere')}")
    assert info.value.response_code == 404


def test_created_user_signs_in_with_groups_and_roles(
    admin: KeycloakAdmin, oidc: KeycloakOpenID, idp_server: IdpServer
) -> None:
    top = unique("t")
    county_id = _group(admin, "320411", _group(admin, top))
    extra_id = _group(admin, unique("extra"))
    username = unique("User")
    user_id = admin.create_user(
        {
            "username": username,
            "email": f"{username}@example.org",
            "firstName": "Wei",
            "lastName": "Li",
            "enabled": True,
            "credentials": [{"type": "password", "value": "n3w-pass", "temporary": False}],
            "groups": [f"/{top}/320411"],
        }
    )
    admin.group_user_add(user_id, extra_id)
    admin.assign_realm_roles(user_id, [admin.get_realm_role(Role.SHIFT_LEAD.value)])

    users = admin.get_users({"username": username, "exact": True})
    assert [(u["id"], u["username"], u["firstName"]) for u in users] == [(user_id, username.lower(), "Wei")]
    assert {g["id"] for g in admin.get_user_groups(user_id)} == {county_id, extra_id}
    assert [r["name"] for r in admin.get_realm_roles_of_user(user_id)] == [Role.SHIFT_LEAD.value]

    claims = _claims(oidc, idp_server, username, "n3w-pass")
    assert claims["sub"] == user_id
    assert claims["name"] == "Wei Li"
    assert sorted(claims["groups"]) == sorted([f"/{top}/320411", admin.get_group(extra_id)["path"]])
    assert claims["realm_access"] == {"roles": [Role.SHIFT_LEAD.value]}


def test_duplicate_user_is_409(admin: KeycloakAdmin) -> None:
    username = unique("twin")
    admin.create_user({"username": username, "email": f"{username}@example.org"})
    with pytest.raises(KeycloakPostError) as info:
        admin.create_user({"username": username.upper()})
    assert info.value.response_code == 409
    assert _body(info.value) == {"errorMessage": "User exists with same username"}
    with pytest.raises(KeycloakPostError) as info:
        admin.create_user({"username": unique("other"), "email": f"{username}@example.org"})
    assert _body(info.value) == {"errorMessage": "User exists with same email"}


def test_exact_and_substring_user_search(admin: KeycloakAdmin) -> None:
    base = unique("find")
    first = admin.create_user({"username": base})
    second = admin.create_user({"username": base + "-2"})
    assert [u["id"] for u in admin.get_users({"username": base, "exact": True})] == [first]
    assert [u["id"] for u in admin.get_users({"username": base})] == [first, second]
    assert [u["id"] for u in admin.get_users({"search": base, "max": 1})] == [first]
    assert admin.get_user_id(base) == first
    assert admin.users_count({"search": base}) == 2
    assert all(not u["username"].startswith("service-account-") for u in admin.get_users({"search": "c"}))


def test_password_reset_disable_and_group_removal(
    admin: KeycloakAdmin, oidc: KeycloakOpenID, idp_server: IdpServer
) -> None:
    username = unique("reset")
    group_id = _group(admin, unique("leave"))
    user_id = admin.create_user(
        {"username": username, "credentials": [{"type": "password", "value": "first-pass"}]}
    )
    admin.group_user_add(user_id, group_id)
    admin.set_user_password(user_id, "second-pass", temporary=False)
    with pytest.raises(KeycloakError):
        oidc.token(username, "first-pass")
    refresh = oidc.token(username, "second-pass")["refresh_token"]

    admin.group_user_remove(user_id, group_id)
    assert _claims(oidc, idp_server, username, "second-pass")["groups"] == []

    admin.update_user(user_id, {"enabled": False, "firstName": "Gone"})
    assert admin.get_user(user_id)["enabled"] is False
    assert admin.get_user(user_id)["firstName"] == "Gone"
    with pytest.raises(KeycloakError) as disabled:
        oidc.token(username, "second-pass")
    assert disabled.value.response_code == 401
    with pytest.raises(KeycloakPostError) as refused:
        oidc.refresh_token(refresh)
    assert refused.value.response_code == 400


def test_realm_roles(admin: KeycloakAdmin) -> None:
    name = unique("role")
    assert admin.create_realm_role({"name": name, "description": "a test role"}) == name
    assert admin.get_realm_role(name)["description"] == "a test role"
    with pytest.raises(KeycloakPostError) as info:
        admin.create_realm_role({"name": name})
    assert info.value.response_code == 409
    assert {r.value for r in Role} <= {r["name"] for r in admin.get_realm_roles()}
    with pytest.raises(KeycloakGetError) as missing:
        admin.get_realm_role(unique("missing"))
    assert missing.value.response_code == 404


def test_role_mapping_removal(admin: KeycloakAdmin) -> None:
    user_id = admin.create_user({"username": unique("roles")})
    intake, dispatcher = admin.get_realm_role("intake"), admin.get_realm_role("dispatcher")
    admin.assign_realm_roles(user_id, [intake, dispatcher])
    admin.delete_realm_roles_of_user(user_id, [intake])
    assert [r["name"] for r in admin.get_realm_roles_of_user(user_id)] == ["dispatcher"]


def test_token_without_admin_roles_is_403(idp_server: IdpServer) -> None:
    connection = KeycloakOpenIDConnection(
        server_url=idp_server.server_url,
        realm_name=REALM,
        client_id="citylead",
        username="alice",
        password=PASSWORD,
        user_realm_name=REALM,
    )
    plain = KeycloakAdmin(connection=connection)
    with pytest.raises(KeycloakGetError) as info:
        plain.get_groups()
    assert info.value.response_code == 403
    assert _body(info.value) == {"error": "unknown_error"}
    with pytest.raises(KeycloakPostError) as write:
        plain.create_group({"name": unique("nope")})
    assert write.value.response_code == 403


def test_no_or_forged_token_is_401(idp_server: IdpServer) -> None:
    url = f"{idp_server.server_url}admin/realms/{REALM}/groups"
    assert httpx.get(url).status_code == 401
    assert httpx.get(url, headers={"Authorization": "Bearer not.a.token"}).status_code == 401
