"""The Keycloak realm export shipped with the chart matches the code: realm roles are the Role
enum, client ids and realm are the settings' defaults, and tokens carry what the validator and
Principal read (aud, the full-path groups claim, realm_access.roles)."""

from __future__ import annotations

import json
from typing import Any

from citylead.identity.principal import Role
from citylead.settings import IdentitySettings
from tests.helm.conftest import CHART, Doc, named

REALM_FILE = CHART / "files" / "realm-citylead.json"


def realm() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(REALM_FILE.read_text("utf-8"))
    return loaded


def client(rep: dict[str, Any], client_id: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [c for c in rep["clients"] if c["clientId"] == client_id]
    assert len(found) == 1, client_id
    return found[0]


def defaults() -> IdentitySettings:
    return IdentitySettings.model_construct()  # the field defaults, whatever the environment says


def test_realm_roles_are_the_role_enum_with_their_labels() -> None:
    roles = {r["name"]: r["description"] for r in realm()["roles"]["realm"]}
    assert roles == {r.value: r.label for r in Role}


def test_realm_and_client_ids_are_the_settings_defaults() -> None:
    ident, rep = defaults(), realm()
    assert rep["realm"] == ident.keycloak_realm == "citylead"
    assert {c["clientId"] for c in rep["clients"]} == {
        ident.keycloak_client_id,
        ident.keycloak_admin_client_id,
    }


def test_the_sign_in_client_is_public_and_tokens_carry_audience_groups_and_roles() -> None:
    ident = defaults()
    staff = client(realm(), ident.keycloak_client_id)
    assert staff["publicClient"] is True
    assert staff["directAccessGrantsEnabled"] is True  # the dashboard's /signin: username + password
    mappers = {m["protocolMapper"]: m["config"] for m in staff["protocolMappers"]}
    audience = mappers["oidc-audience-mapper"]
    assert (audience["included.client.audience"], audience["access.token.claim"]) == (
        ident.keycloak_audience,
        "true",
    )
    groups = mappers["oidc-group-membership-mapper"]
    # Principal.from_claims reads "groups" as full paths (/32/3204/320411).
    assert (groups["claim.name"], groups["full.path"], groups["access.token.claim"]) == (
        "groups",
        "true",
        "true",
    )
    assert "roles" in staff["defaultClientScopes"]  # realm_access.roles


def test_the_provisioning_client_may_manage_users_and_groups_only() -> None:
    ident, rep = defaults(), realm()
    admin = client(rep, ident.keycloak_admin_client_id)
    assert (admin["publicClient"], admin["serviceAccountsEnabled"]) == (False, True)
    assert (admin["standardFlowEnabled"], admin["directAccessGrantsEnabled"]) == (False, False)
    assert "secret" not in admin  # set by the operator, never shipped
    (account,) = [u for u in rep["users"] if u.get("serviceAccountClientId") == admin["clientId"]]
    management = set(account["clientRoles"]["realm-management"])
    assert {"manage-users", "view-realm"} <= management  # what provisioning/identity.py asks for
    assert not management & {"realm-admin", "manage-realm", "manage-clients"}


def test_the_realm_config_map_adds_the_province_groups(rendered: dict[str, list[Doc]]) -> None:
    config = named(rendered["ingress-tls"], "ConfigMap", "-realm")
    shipped = json.loads(config["data"]["realm-citylead.json"])
    assert shipped["groups"] == [{"name": "32", "path": "/32"}]
    assert shipped["roles"] == realm()["roles"]
    assert not [d for d in rendered["minimal"] if d["metadata"]["name"].endswith("-realm")]
