"""Identity provisioning through python-keycloak against the embedded provider over real HTTP.

Given an ``EmbeddedIdpServer`` seeded with the provisioner client, when ``provision_identity``
runs (once, twice, from several threads, after a partial run), then the group tree, realm roles,
the first administrator, its membership and role mapping are what ``KeycloakAdmin`` reads back.
"""

from __future__ import annotations

import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from keycloak import KeycloakAdmin, KeycloakAuthenticationError, KeycloakGetError, KeycloakOpenID
from pydantic import SecretStr
from sqlalchemy.engine import make_url

from citylead.db.roles import DatabaseUrls
from citylead.identity.idp.serve import PROVISIONER_CLIENT, EmbeddedIdpServer
from citylead.identity.keys import SigningKeys
from citylead.identity.principal import Role
from citylead.settings import IdentitySettings, Settings
from provisioning.identity import (
    FirstAdmin,
    IdentityReport,
    IdentityTarget,
    provision_identity,
    target_from_settings,
)
from tenants.errors import Conflict, Forbidden, InvalidInput, ServiceUnavailable
from tests.integration.idp import PROVISIONER_SECRET, REALM
from tests.integration.provisioning.fixtures_idp import (
    NO_RIGHTS_CLIENT,
    NO_RIGHTS_SECRET,
    unique_name,
    unique_path,
)

COUNTY_ADMIN = Role.COUNTY_ADMIN.value


def _admin(username: str, temporary: str | None = "Temp-pass-1", **names: str) -> FirstAdmin:
    return FirstAdmin(username, f"{username}@example.org", COUNTY_ADMIN, temporary, **names)


def _ancestors(path: str) -> list[str]:
    parts = path.strip("/").split("/")
    return ["/" + "/".join(parts[: i + 1]) for i in range(len(parts))]


def _group_paths(kc: KeycloakAdmin, user_id: str) -> list[str]:
    return sorted(g["path"] for g in kc.get_user_groups(user_id))


def _role_names(kc: KeycloakAdmin, user_id: str) -> set[str]:
    return {r["name"] for r in kc.get_realm_roles_of_user(user_id)}


def _missing(kc: KeycloakAdmin, path: str) -> bool:
    try:
        kc.get_group_by_path(path)
    except KeycloakGetError as exc:
        return exc.response_code == 404
    return False


# --- groups and roles --------------------------------------------------------------------------


def test_nested_group_is_created_with_its_ancestors(
    identity_target: IdentityTarget, kc_admin: KeycloakAdmin
) -> None:
    path = unique_path()
    report = provision_identity(identity_target, group_path=path + "/", roles=[COUNTY_ADMIN], admin=None)

    assert report.group_path == path
    assert report.groups_created == _ancestors(path)
    assert (report.roles_created, report.user_id, report.user_created) == ([], None, False)
    group = kc_admin.get_group_by_path(path)
    assert (group["id"], group["name"]) == (report.group_id, "320411")
    top = kc_admin.get_group_by_path(_ancestors(path)[0])
    assert [g["name"] for g in kc_admin.get_group_children(top["id"])] == ["3204"]


def test_existing_ancestors_are_reused(identity_target: IdentityTarget, kc_admin: KeycloakAdmin) -> None:
    city = unique_path(depth=2)
    first = provision_identity(identity_target, group_path=city, roles=[], admin=None)
    county = provision_identity(identity_target, group_path=city + "/320411", roles=[], admin=None)

    assert first.groups_created == _ancestors(city)
    assert county.groups_created == [city + "/320411"]
    assert kc_admin.get_group(county.group_id)["parentId"] == first.group_id


def test_second_call_creates_nothing_and_returns_the_same_ids(
    identity_target: IdentityTarget, kc_admin: KeycloakAdmin
) -> None:
    path, role, username = unique_path(), unique_name("role"), unique_name("admin")
    first = provision_identity(identity_target, group_path=path, roles=[role], admin=_admin(username))
    again = provision_identity(identity_target, group_path=path, roles=[role], admin=_admin(username))

    assert (first.groups_created, first.roles_created, first.user_created) == (_ancestors(path), [role], True)
    assert again == IdentityReport(path, first.group_id, [], [], first.user_id, False)
    assert first.user_id is not None
    assert _group_paths(kc_admin, first.user_id) == [path]
    assert _role_names(kc_admin, first.user_id) == {COUNTY_ADMIN}
    assert kc_admin.get_realm_role(role)["description"] is None  # not a citylead role: no label
    assert kc_admin.get_realm_role(COUNTY_ADMIN)["description"] == Role.COUNTY_ADMIN.label


def test_concurrent_calls_converge_on_one_of_everything(
    identity_target: IdentityTarget, kc_admin: KeycloakAdmin
) -> None:
    path, role, username = unique_path(), unique_name("role"), unique_name("race")
    callers = 4
    barrier = threading.Barrier(callers)

    def call(_: int) -> IdentityReport:
        barrier.wait(timeout=10)
        return provision_identity(identity_target, group_path=path, roles=[role], admin=_admin(username))

    with ThreadPoolExecutor(callers) as pool:
        reports = list(pool.map(call, range(callers)))

    assert len({(r.group_id, r.user_id) for r in reports}) == 1
    assert sorted(p for r in reports for p in r.groups_created) == _ancestors(path)
    assert [n for r in reports for n in r.roles_created] == [role]
    assert sum(r.user_created for r in reports) == 1
    users = kc_admin.get_users({"username": username, "exact": True})
    assert [u["id"] for u in users] == [reports[0].user_id]
    top = kc_admin.get_group_by_path(_ancestors(path)[0])
    assert len(kc_admin.get_group_children(top["id"])) == 1
    assert _group_paths(kc_admin, users[0]["id"]) == [path]
    assert _role_names(kc_admin, users[0]["id"]) == {COUNTY_ADMIN}


# --- the first administrator -------------------------------------------------------------------


def test_first_admin_signs_in_with_the_temporary_password(
    identity_target: IdentityTarget, kc_admin: KeycloakAdmin, kc_login: KeycloakOpenID
) -> None:
    path, username = unique_path(), unique_name("Chen")
    admin = _admin(username, "Temp-pass-2", first_name="Chen", last_name="Wei")
    report = provision_identity(identity_target, group_path=path, roles=[COUNTY_ADMIN], admin=admin)

    assert report.user_id is not None and report.user_created
    user = kc_admin.get_user(report.user_id)
    assert (user["username"], user["email"], user["firstName"], user["lastName"]) == (
        username.lower(),
        f"{username}@example.org",
        "Chen",
        "Wei",
    )
    assert user["enabled"] is True
    # The embedded provider keeps a temporary password as an ordinary one (no UPDATE_PASSWORD
    # required action: it has no login page to change it). Keycloak would refuse this direct
    # grant with "Account is not fully set up" until the password is changed in the browser.
    info = kc_login.userinfo(kc_login.token(username, "Temp-pass-2")["access_token"])
    assert isinstance(info, dict)
    assert info["sub"] == report.user_id
    assert info["groups"] == [path]
    assert info["realm_access"]["roles"] == [COUNTY_ADMIN]


def test_existing_user_keeps_its_password_and_gets_membership_and_role(
    identity_target: IdentityTarget, kc_admin: KeycloakAdmin, kc_login: KeycloakOpenID
) -> None:
    path, username = unique_path(), unique_name("kept")
    user_id = kc_admin.create_user(
        {"username": username, "enabled": True, "credentials": [{"type": "password", "value": "Old-pass-1"}]}
    )
    report = provision_identity(
        identity_target, group_path=path, roles=[], admin=_admin(username, "New-pass-1")
    )

    assert (report.user_id, report.user_created) == (user_id, False)
    assert _group_paths(kc_admin, user_id) == [path]
    assert _role_names(kc_admin, user_id) == {COUNTY_ADMIN}
    assert kc_login.token(username, "Old-pass-1")["access_token"]
    with pytest.raises(KeycloakAuthenticationError) as refused:
        kc_login.token(username, "New-pass-1")
    assert refused.value.response_code == 401


def test_run_after_a_crash_half_way_completes_the_rest(
    identity_target: IdentityTarget, kc_admin: KeycloakAdmin
) -> None:
    """Top group created and the user created in the county group, then the run stopped."""
    path, username = unique_path(), unique_name("half")
    top = _ancestors(path)[0]
    top_id = kc_admin.create_group({"name": top.strip("/")})
    assert top_id is not None
    city_id = kc_admin.create_group({"name": "3204"}, parent=top_id)
    assert city_id is not None
    kc_admin.create_group({"name": "320411"}, parent=city_id)
    user_id = kc_admin.create_user({"username": username, "enabled": True, "groups": [path]})

    report = provision_identity(
        identity_target, group_path=path, roles=[COUNTY_ADMIN], admin=_admin(username)
    )

    assert (report.groups_created, report.user_id, report.user_created) == ([], user_id, False)
    assert _group_paths(kc_admin, user_id) == [path]
    assert _role_names(kc_admin, user_id) == {COUNTY_ADMIN}

    other = unique_path()
    kc_admin.create_group({"name": _ancestors(other)[0].strip("/")})
    assert (
        provision_identity(identity_target, group_path=other, roles=[], admin=None).groups_created
        == (_ancestors(other)[1:])
    )


def test_user_of_another_tenant_group_is_refused(
    identity_target: IdentityTarget, kc_admin: KeycloakAdmin
) -> None:
    """Another county's administrator must not silently gain a second tenant group."""
    elsewhere = provision_identity(identity_target, group_path=unique_path(), roles=[], admin=None)
    username = unique_name("theirs")
    user_id = kc_admin.create_user({"username": username, "enabled": True, "groups": [elsewhere.group_path]})
    path = unique_path()

    with pytest.raises(Conflict) as info:
        provision_identity(identity_target, group_path=path, roles=[], admin=_admin(username))

    assert f"already belongs to {elsewhere.group_path}" in info.value.detail
    assert _group_paths(kc_admin, user_id) == [elsewhere.group_path]
    assert COUNTY_ADMIN not in _role_names(kc_admin, user_id)


def test_email_of_another_user_is_a_conflict(
    identity_target: IdentityTarget, kc_admin: KeycloakAdmin
) -> None:
    taken = unique_name("owner")
    kc_admin.create_user({"username": taken, "email": f"{taken}@example.org"})
    admin = FirstAdmin(unique_name("new"), f"{taken}@example.org", COUNTY_ADMIN, "Temp-pass-3")

    with pytest.raises(Conflict) as info:
        provision_identity(identity_target, group_path=unique_path(), roles=[], admin=admin)
    assert "User exists with same email" in info.value.detail
    assert kc_admin.get_users({"username": admin.username, "exact": True}) == []


@pytest.mark.parametrize("path", ["32/3204", "/", "", "/32//320411", "/32/ 3204"])
def test_malformed_group_path_is_invalid(identity_target: IdentityTarget, path: str) -> None:
    with pytest.raises(InvalidInput):
        provision_identity(identity_target, group_path=path, roles=[], admin=None)


# --- errors ------------------------------------------------------------------------------------


def test_wrong_secret_is_a_permanent_error_that_says_what_to_fix(
    identity_target: IdentityTarget, kc_admin: KeycloakAdmin
) -> None:
    wrong = IdentityTarget(identity_target.server_url, REALM, PROVISIONER_CLIENT, "wrong-" + unique_name("s"))
    path = unique_path()

    with pytest.raises(Forbidden) as info:
        provision_identity(wrong, group_path=path, roles=[], admin=None)

    detail = info.value.detail
    assert f"client {PROVISIONER_CLIENT} was refused by {identity_target.server_url}" in detail
    assert "CITYLEAD_KEYCLOAK_ADMIN_CLIENT_SECRET" in detail
    assert wrong.client_secret not in detail and wrong.client_secret not in repr(wrong)
    assert _missing(kc_admin, path)


def test_client_without_admin_rights_is_told_to_get_them(identity_target: IdentityTarget) -> None:
    target = IdentityTarget(identity_target.server_url, REALM, NO_RIGHTS_CLIENT, NO_RIGHTS_SECRET)
    with pytest.raises(Forbidden) as info:
        provision_identity(target, group_path=unique_path(), roles=[], admin=None)
    assert f"client {NO_RIGHTS_CLIENT} may not manage realm {REALM}" in info.value.detail
    assert "realm-management" in info.value.detail


def test_unknown_realm_is_a_configuration_error(identity_target: IdentityTarget) -> None:
    target = IdentityTarget(identity_target.server_url, "nowhere", PROVISIONER_CLIENT, PROVISIONER_SECRET)
    with pytest.raises(InvalidInput) as info:
        provision_identity(target, group_path=unique_path(), roles=[], admin=None)
    assert info.value.detail.startswith(f"no realm nowhere at {identity_target.server_url}")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_server_down_is_service_unavailable() -> None:
    url = f"http://127.0.0.1:{_closed_port()}/idp/"
    with pytest.raises(ServiceUnavailable) as info:
        provision_identity(
            IdentityTarget(url, REALM, PROVISIONER_CLIENT, "s"),
            group_path=unique_path(),
            roles=[],
            admin=None,
        )
    assert info.value.detail == f"identity provider {url} could not be reached (connection refused)"


def test_server_that_never_answers_times_out_as_service_unavailable() -> None:
    with socket.socket() as silent:  # accepts connections (backlog), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/idp/"
        target = IdentityTarget(url, REALM, PROVISIONER_CLIENT, "s", timeout_seconds=1)
        with pytest.raises(ServiceUnavailable) as info:
            provision_identity(target, group_path=unique_path(), roles=[], admin=None)
    assert info.value.detail == f"identity provider {url} could not be reached (no answer within 1 s)"


def test_server_errors_are_service_unavailable_and_stop_frees_the_port(database_urls: DatabaseUrls) -> None:
    """A provider whose database is gone answers 500; after ``stop()`` nothing listens."""
    gone = make_url(database_urls.app).set(database=unique_name("gone")).render_as_string(hide_password=False)
    server = EmbeddedIdpServer(gone, keys=SigningKeys.generate(), realm=REALM)
    url = server.start()
    try:
        target = IdentityTarget(url, REALM, PROVISIONER_CLIENT, PROVISIONER_SECRET)
        with pytest.raises(ServiceUnavailable) as info:
            provision_identity(target, group_path=unique_path(), roles=[], admin=None)
        assert info.value.detail == f"identity provider {url} failed (HTTP 500)"
    finally:
        server.stop()
    port = int(url.split(":")[2].split("/")[0])
    with socket.socket() as probe, pytest.raises(ConnectionRefusedError):
        probe.connect(("127.0.0.1", port))


# --- target_from_settings ----------------------------------------------------------------------


def _settings(tmp_path: Path, **identity: object) -> Settings:
    settings = Settings()
    settings.server = settings.server.model_copy(update={"home": tmp_path})
    settings.identity = IdentitySettings(**identity)  # type: ignore[arg-type]
    return settings


def test_target_in_keycloak_mode(tmp_path: Path) -> None:
    settings = _settings(
        tmp_path,
        identity="keycloak",
        keycloak_url="https://sso.example",
        keycloak_realm="gov",
        keycloak_admin_client_id="onboarding",
        keycloak_admin_client_secret=SecretStr("kc-secret"),
    )
    assert target_from_settings(settings, embedded_server_url="http://ignored/idp/") == IdentityTarget(
        "https://sso.example/", "gov", "onboarding", "kc-secret"
    )

    settings.identity = settings.identity.model_copy(update={"keycloak_admin_client_secret": None})
    with pytest.raises(ServiceUnavailable) as info:
        target_from_settings(settings, embedded_server_url=None)
    assert "CITYLEAD_KEYCLOAK_ADMIN_CLIENT_SECRET" in info.value.detail
    assert "onboarding" in info.value.detail


def test_target_in_embedded_mode(tmp_path: Path) -> None:
    settings = _settings(tmp_path, identity="embedded", idp_provisioner_secret=SecretStr("set-secret"))
    target = target_from_settings(settings, embedded_server_url="http://127.0.0.1:8123/idp")
    assert target == IdentityTarget(
        "http://127.0.0.1:8123/idp/", "citylead", PROVISIONER_CLIENT, "set-secret"
    )

    persisted = _settings(tmp_path, identity="embedded", idp_provisioner_secret=None)
    first = target_from_settings(persisted, embedded_server_url="http://127.0.0.1:8123/idp/")
    assert first.client_secret == (tmp_path / "idp" / "provisioner-secret").read_text().strip()
    assert target_from_settings(persisted, embedded_server_url="http://x/idp/").client_secret == (
        first.client_secret
    )
    with pytest.raises(InvalidInput):
        target_from_settings(persisted, embedded_server_url=None)


def test_target_from_settings_reaches_the_embedded_provider(
    tmp_path: Path, embedded_idp: EmbeddedIdpServer, kc_admin: KeycloakAdmin
) -> None:
    settings = _settings(tmp_path, identity="embedded", idp_provisioner_secret=SecretStr(PROVISIONER_SECRET))
    report = provision_identity(
        target_from_settings(settings, embedded_server_url=embedded_idp.server_url),
        group_path=unique_path(),
        roles=[],
        admin=None,
    )
    assert kc_admin.get_group_by_path(report.group_path)["id"] == report.group_id
