"""Concurrent creators of the same group, user or realm role: one 201, the others 409 (as
Keycloak answers), never a 500 from the unique index the existence check could not see."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from keycloak import KeycloakAdmin, KeycloakOpenIDConnection, KeycloakPostError

from tests.integration.idp import PROVISIONER, PROVISIONER_SECRET, REALM, IdpServer, unique

CALLERS = 8


def _signed_in(server: IdpServer) -> KeycloakAdmin:
    connection = KeycloakOpenIDConnection(
        server_url=server.server_url,
        realm_name=REALM,
        user_realm_name=REALM,
        client_id=PROVISIONER,
        client_secret_key=PROVISIONER_SECRET,
    )
    admin = KeycloakAdmin(connection=connection)
    admin.connection.get_token()
    return admin


@pytest.fixture(scope="module")
def admins(idp_server: IdpServer) -> list[KeycloakAdmin]:
    """One signed-in admin client per caller (each sign-in costs an Argon2 check: do it once)."""
    with ThreadPoolExecutor(CALLERS) as pool:
        return list(pool.map(lambda _: _signed_in(idp_server), range(CALLERS)))


def _race(admins: list[KeycloakAdmin], create: Callable[[KeycloakAdmin], object]) -> list[int]:
    """Status of each of ``CALLERS`` simultaneous creations (one admin client per thread)."""
    barrier = threading.Barrier(CALLERS)

    def call(admin: KeycloakAdmin) -> int:
        barrier.wait(timeout=10)
        try:
            create(admin)
        except KeycloakPostError as exc:
            return exc.response_code or 0
        return 201

    with ThreadPoolExecutor(CALLERS) as pool:
        return sorted(pool.map(call, admins))


def test_concurrent_group_creation(admins: list[KeycloakAdmin], admin: KeycloakAdmin) -> None:
    top = unique("race")
    assert _race(admins, lambda a: a.create_group({"name": top})) == [201] + [409] * (CALLERS - 1)
    parent = admin.get_group_by_path(f"/{top}")["id"]
    statuses = _race(admins, lambda a: a.create_group({"name": "kid"}, parent=parent))
    assert statuses == [201] + [409] * (CALLERS - 1)
    assert [g["path"] for g in admin.get_group_children(parent)] == [f"/{top}/kid"]


def test_concurrent_user_creation(admins: list[KeycloakAdmin], admin: KeycloakAdmin) -> None:
    username = unique("race")
    statuses = _race(admins, lambda a: a.create_user({"username": username}))
    assert statuses == [201] + [409] * (CALLERS - 1)
    assert len(admin.get_users({"username": username, "exact": True})) == 1


def test_concurrent_role_creation(admins: list[KeycloakAdmin], admin: KeycloakAdmin) -> None:
    name = unique("race")
    assert _race(admins, lambda a: a.create_realm_role({"name": name})) == [201] + [409] * (CALLERS - 1)
    assert admin.get_realm_role(name)["name"] == name
