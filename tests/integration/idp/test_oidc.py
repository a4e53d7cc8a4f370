"""OIDC endpoints through python-keycloak's ``KeycloakOpenID``, over real HTTP."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_der_public_key
from jwcrypto import jwk
from keycloak import (
    KeycloakAuthenticationError,
    KeycloakError,
    KeycloakGetError,
    KeycloakOpenID,
    KeycloakPostError,
)

from citylead.identity.keys import SigningKeys
from citylead.identity.principal import Principal, Role
from tests.integration.idp import (
    ALICE_GROUP,
    BACKEND,
    BACKEND_SECRET,
    PASSWORD,
    PROVISIONER,
    REALM,
    IdpServer,
)


def _jwks(oidc: KeycloakOpenID) -> jwk.JWKSet:
    return jwk.JWKSet.from_json(json.dumps(oidc.certs()))


def _decode(oidc: KeycloakOpenID, server: IdpServer, token: str) -> dict[str, object]:
    checks = {"iss": server.issuer, "aud": "citylead", "exp": None}
    return oidc.decode_token(token, key=_jwks(oidc), check_claims=checks)


def _error(exc: KeycloakError) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(exc.response_body or b"{}")
    return body


def test_password_grant_issues_keycloak_shaped_tokens(oidc: KeycloakOpenID, idp_server: IdpServer) -> None:
    token = oidc.token("Alice", PASSWORD)
    claims = _decode(oidc, idp_server, token["access_token"])

    assert token["token_type"] == "Bearer"
    assert token["expires_in"] == 300
    assert 1790 <= token["refresh_expires_in"] <= 1800
    assert token["not-before-policy"] == 0
    assert token["scope"].split() == ["openid", "profile", "email"]
    assert token["session_state"] == claims["sid"]
    assert claims["preferred_username"] == "alice"
    assert claims["typ"] == "Bearer"
    assert claims["azp"] == "citylead"
    assert claims["aud"] == "citylead"
    assert claims["name"] == "Alice Zhang"
    assert claims["email"] == "alice@example.org"
    assert claims["groups"] == [ALICE_GROUP]
    assert sorted(claims["realm_access"]["roles"]) == ["dispatcher", "intake"]  # type: ignore[index]
    assert "resource_access" not in claims

    principal = Principal.from_claims(claims)
    assert principal is not None
    assert principal.tenant_path == "/32/3204/320411/"
    assert principal.roles == {Role.INTAKE, Role.DISPATCHER}

    id_claims = oidc.decode_token(token["id_token"], key=_jwks(oidc), check_claims={"aud": "citylead"})
    assert id_claims["typ"] == "ID"
    assert id_claims["sub"] == claims["sub"]


def test_bad_password_unknown_user_and_disabled_user_look_the_same(oidc: KeycloakOpenID) -> None:
    bodies = []
    for username, password in (("alice", "wrong"), ("nobody-here", PASSWORD), ("carol", PASSWORD)):
        with pytest.raises(KeycloakAuthenticationError) as info:
            oidc.token(username, password)
        assert info.value.response_code == 401
        bodies.append(_error(info.value))
    assert bodies == [{"error": "invalid_grant", "error_description": "Invalid user credentials"}] * 3


def test_refresh_renews_tokens_in_the_same_session(oidc: KeycloakOpenID, idp_server: IdpServer) -> None:
    first = oidc.token("alice", PASSWORD)
    second = oidc.refresh_token(first["refresh_token"])
    before = _decode(oidc, idp_server, first["access_token"])
    after = _decode(oidc, idp_server, second["access_token"])

    assert after["sid"] == before["sid"]
    assert after["jti"] != before["jti"]
    assert after["groups"] == [ALICE_GROUP]
    refresh = oidc.decode_token(second["refresh_token"], key=_jwks(oidc))
    assert refresh["typ"] == "Refresh"
    assert refresh["sid"] == before["sid"]


def test_logout_ends_the_session(oidc: KeycloakOpenID) -> None:
    token = oidc.token("bob", PASSWORD)
    assert oidc.logout(token["refresh_token"]) == {}

    with pytest.raises(KeycloakPostError) as info:
        oidc.refresh_token(token["refresh_token"])
    assert info.value.response_code == 400
    assert _error(info.value)["error"] == "invalid_grant"


def test_refresh_token_of_another_issuer_is_refused(oidc: KeycloakOpenID, idp_server: IdpServer) -> None:
    forged = SigningKeys.generate().sign(
        {"iss": idp_server.issuer, "typ": "Refresh", "sub": "x", "sid": "x", "azp": "citylead", "exp": 2**31}
    )
    with pytest.raises(KeycloakPostError) as info:
        oidc.refresh_token(forged)
    assert _error(info.value) == {"error": "invalid_grant", "error_description": "Invalid refresh token"}


def test_client_credentials_gives_a_service_account_token(
    provisioner_oidc: KeycloakOpenID, idp_server: IdpServer
) -> None:
    token = provisioner_oidc.token(grant_type="client_credentials")
    claims = _decode(provisioner_oidc, idp_server, token["access_token"])

    assert claims["preferred_username"] == f"service-account-{PROVISIONER}"
    assert claims["azp"] == PROVISIONER
    assert "realm-admin" in claims["resource_access"]["realm-management"]["roles"]  # type: ignore[index]
    assert "refresh_token" not in token


def test_service_account_carries_its_client_roles(idp_server: IdpServer) -> None:
    backend = KeycloakOpenID(
        server_url=idp_server.server_url,
        realm_name=REALM,
        client_id=BACKEND,
        client_secret_key=BACKEND_SECRET,
    )
    claims = _decode(backend, idp_server, backend.token(grant_type="client_credentials")["access_token"])
    assert claims["realm_access"] == {"roles": [Role.PROVINCE_SUPERVISOR.value]}
    assert "resource_access" not in claims


def test_client_credentials_with_a_wrong_secret_is_refused(idp_server: IdpServer) -> None:
    wrong = KeycloakOpenID(
        server_url=idp_server.server_url, realm_name=REALM, client_id=PROVISIONER, client_secret_key="nope"
    )
    with pytest.raises(KeycloakAuthenticationError) as info:
        wrong.token(grant_type="client_credentials")
    assert info.value.response_code == 401
    assert _error(info.value)["error"] == "invalid_client"


def test_http_basic_client_authentication(idp_server: IdpServer) -> None:
    url = f"{idp_server.issuer}/protocol/openid-connect/token"
    ok = httpx.post(url, data={"grant_type": "client_credentials"}, auth=(BACKEND, BACKEND_SECRET))
    bad = httpx.post(url, data={"grant_type": "client_credentials"}, auth=(BACKEND, "wrong"))
    assert ok.status_code == 200
    assert ok.json()["token_type"] == "Bearer"
    assert bad.status_code == 401
    assert bad.json()["error"] == "invalid_client"


def test_grant_errors_are_rfc6749(idp_server: IdpServer, oidc: KeycloakOpenID) -> None:
    url = f"{idp_server.issuer}/protocol/openid-connect/token"
    unsupported = httpx.post(url, data={"grant_type": "authorization_code", "client_id": "citylead"})
    missing = httpx.post(url, data={"client_id": "citylead"})
    no_direct = httpx.post(
        url,
        data={"grant_type": "password", "username": "alice", "password": PASSWORD},
        auth=(BACKEND, BACKEND_SECRET),
    )
    unknown_client = httpx.post(url, data={"grant_type": "password", "client_id": "ghost"})

    assert (unsupported.status_code, unsupported.json()["error"]) == (400, "unsupported_grant_type")
    assert (missing.status_code, missing.json()["error"]) == (400, "invalid_request")
    assert (no_direct.status_code, no_direct.json()["error"]) == (400, "unauthorized_client")
    assert (unknown_client.status_code, unknown_client.json()["error"]) == (401, "invalid_client")
    assert unsupported.headers["content-type"].startswith("application/json")


def test_userinfo(oidc: KeycloakOpenID) -> None:
    token = oidc.token("alice", PASSWORD)
    info = oidc.userinfo(token["access_token"])
    assert isinstance(info, dict)
    assert info["preferred_username"] == "alice"
    assert info["email"] == "alice@example.org"
    assert info["groups"] == [ALICE_GROUP]
    assert sorted(info["realm_access"]["roles"]) == ["dispatcher", "intake"]

    oidc.logout(token["refresh_token"])
    with pytest.raises(KeycloakAuthenticationError):
        oidc.userinfo(token["access_token"])  # the session is gone


def test_introspection(oidc: KeycloakOpenID, provisioner_oidc: KeycloakOpenID) -> None:
    token = oidc.token("alice", PASSWORD)
    active = provisioner_oidc.introspect(token["access_token"])
    assert active["active"] is True
    assert active["username"] == "alice"
    assert active["client_id"] == "citylead"
    assert provisioner_oidc.introspect("not-a-token") == {"active": False}

    oidc.logout(token["refresh_token"])
    assert provisioner_oidc.introspect(token["access_token"]) == {"active": False}
    with pytest.raises(KeycloakPostError) as info:
        oidc.introspect(token["access_token"])  # public clients may not introspect
    assert info.value.response_code == 403


def test_well_known(oidc: KeycloakOpenID, idp_server: IdpServer) -> None:
    doc = oidc.well_known()
    assert doc["issuer"] == idp_server.issuer
    assert doc["token_endpoint"] == f"{idp_server.issuer}/protocol/openid-connect/token"
    assert doc["jwks_uri"] == f"{idp_server.issuer}/protocol/openid-connect/certs"
    assert doc["end_session_endpoint"] == f"{idp_server.issuer}/protocol/openid-connect/logout"
    assert doc["id_token_signing_alg_values_supported"] == ["RS256"]
    assert {"password", "refresh_token", "client_credentials"} <= set(doc["grant_types_supported"])


def test_public_key_is_the_signing_key(oidc: KeycloakOpenID, idp_server: IdpServer) -> None:
    key = load_der_public_key(base64.b64decode(oidc.public_key()))
    assert isinstance(key, RSAPublicKey)
    expected = idp_server.keys.key.export_public(as_dict=True)["n"]
    n = key.public_numbers().n
    assert (
        base64.urlsafe_b64encode(n.to_bytes((n.bit_length() + 7) // 8, "big")).rstrip(b"=").decode()
        == expected
    )


def test_unknown_realm_is_404(idp_server: IdpServer) -> None:
    other = KeycloakOpenID(server_url=idp_server.server_url, realm_name="master", client_id="citylead")
    with pytest.raises(KeycloakGetError) as info:
        other.well_known()
    assert info.value.response_code == 404
    assert _error(info.value) == {"error": "Realm does not exist"}
