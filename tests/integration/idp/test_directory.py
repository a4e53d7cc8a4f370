"""The seeding API of :mod:`citylead.identity.idp.directory`, on the real database as the app role."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from citylead.db import Database
from citylead.identity.idp import directory
from citylead.identity.idp.models import IdpClient, IdpGroup, IdpUser
from citylead.identity.passwords import verify_password
from tenants.errors import NotFound
from tests.integration.idp import unique


async def test_ensure_group_path_creates_ancestors_once(app_db: Database) -> None:
    top = unique("p")
    async with app_db.transaction(None) as s:
        leaf = await directory.ensure_group_path(s, f"/{top}/3204/320411")
        again = await directory.ensure_group_path(s, f"{top}/3204/320411/")
        middle = await directory.ensure_group_path(s, f"/{top}/3204")
        rows = (await s.scalars(select(IdpGroup).where(IdpGroup.path.startswith(f"/{top}")))).all()
    assert leaf == again
    by_path = {g.path: g for g in rows}
    assert sorted(by_path) == [f"/{top}", f"/{top}/3204", f"/{top}/3204/320411"]
    assert by_path[f"/{top}/3204/320411"].parent_id == middle
    assert by_path[f"/{top}/3204/320411"].name == "320411"
    assert by_path[f"/{top}"].parent_id is None


async def test_ensure_user_is_idempotent_and_sets_exact_memberships(app_db: Database) -> None:
    name = unique("Seed")
    async with app_db.transaction(None) as s:
        await directory.ensure_realm_role(s, "intake")
        await directory.ensure_realm_role(s, "dispatcher")
        first = await directory.ensure_user(
            s, name, password_hash="h1", groups=[f"/{name}/a"], roles=["intake", "dispatcher"]
        )
        second = await directory.ensure_user(
            s,
            name.upper(),
            password_hash="h2",
            email="x@example.org",
            groups=[f"/{name}/b"],
            roles=["intake"],
        )
        user = await s.get(IdpUser, first)
        groups = await directory.user_group_paths(s, first)
        roles = [r.name for r in await directory.user_roles(s, first)]
    assert first == second
    assert user is not None
    assert (user.username, user.password_hash, user.email) == (name.lower(), "h2", "x@example.org")
    assert groups == [f"/{name}/b"]  # group names keep their case; usernames do not
    assert roles == ["intake"]


async def test_ensure_user_refuses_unknown_roles(app_db: Database) -> None:
    with pytest.raises(NotFound):
        async with app_db.transaction(None) as s:
            await directory.ensure_user(s, unique("x"), password_hash=None, roles=["no-such-role"])


async def test_ensure_client_keeps_or_rotates_the_secret(app_db: Database) -> None:
    client_id = unique("client")
    async with app_db.transaction(None) as s:
        await directory.ensure_client(s, client_id, public=False, secret="one", service_account_admin=True)
        first = await directory.get_client(s, client_id)
        assert first is not None
        hash_one = first.secret_hash
        await directory.ensure_client(s, client_id, public=False, secret="one", service_account_admin=True)
        assert first.secret_hash == hash_one
        await directory.ensure_client(s, client_id, public=False, secret="two")
        account = await s.scalar(select(IdpUser).where(IdpUser.service_account_client_id == client_id))
        client = await s.scalar(select(IdpClient).where(IdpClient.client_id == client_id))
    assert client is not None
    assert client.secret_hash is not None
    assert verify_password(client.secret_hash, "two")
    assert client.service_account_admin is False
    assert account is not None
    assert account.username == f"service-account-{client_id}"


async def test_count_users_leaves_out_service_accounts(app_db: Database) -> None:
    async with app_db.transaction(None) as s:
        before = await directory.count_users(s)
        await directory.ensure_client(s, unique("svc"), public=False, secret="s")
        assert await directory.count_users(s) == before
        await directory.ensure_user(s, unique("counted"), password_hash=None)
        assert await directory.count_users(s) == before + 1
