"""Open311 API keys: issued once, stored hashed, checked per county, revoked at once; the admin
API under ``/api/v1`` (county admin or above) and the isolation of ``open311_clients`` as the
application role with row-level security on.

Tenants (which no other module writes in): 滁州市 (341100) with 琅琊区 (341102, the keys' county)
and 南谯区 (341103, its sibling); 阜阳市 (341200) is the other city.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select, text, update
from sqlalchemy.exc import DBAPIError

from citylead.db import Database
from citylead.open311.keys import Open311Client, do_create_client, do_revoke_client, verify_api_key
from tenants.audit import AuditEvent
from tenants.errors import Forbidden, InvalidInput, NotFound
from tenants.models import Tenant
from tests.integration.open311.conftest import Acting
from tests.support import Mint, bearer

Client = AsyncTestClient[Litestar]
COUNTY, SIBLING, CITY, OTHER_CITY = "341102", "341103", "341100", "341200"
COUNTY_G, SIBLING_G, CITY_G, OTHER_G = "/34/3411/341102", "/34/3411/341103", "/34/3411", "/34/3412"


def url(code: str, tail: str = "") -> str:
    return f"/api/v1/tenants/{code}/open311/clients{tail}"


async def issue(
    acting: Acting, registry: dict[str, Tenant], code: str, name: str
) -> tuple[Open311Client, str]:
    async with acting(code) as s:
        return await do_create_client(s, registry[code], name, acting_user=f"test@{code}")


async def verify(acting: Acting, registry: dict[str, Tenant], code: str, key: str | None) -> Open311Client:
    async with acting(code) as s:
        return await verify_api_key(s, registry[code], key)


# --- the actions, as the application role ---------------------------------------------------------


async def test_a_key_is_shown_once_and_stored_only_as_a_hash(
    acting: Acting, registry: dict[str, Tenant], owner_db: Database
) -> None:
    client, key = await issue(acting, registry, COUNTY, "城管通 App")
    assert key.startswith("o311_")
    assert len(key) == 5 + 43  # 32 random bytes, base64url
    assert client.prefix == key[:12]
    assert client.revoked_at is None
    async with owner_db.transaction(None) as s:
        row = (await s.execute(text("SELECT * FROM open311_clients WHERE id = :id"), {"id": client.id})).one()
        audit = (
            await s.scalars(select(AuditEvent).where(AuditEvent.subject == f"open311_client:{client.id}"))
        ).one()
    assert row.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in repr(tuple(row))
    assert audit.action == "open311.client_created"
    assert audit.actor == f"test@{COUNTY}"
    assert key not in repr(audit.data)
    assert audit.data == {"name": "城管通 App", "prefix": key[:12]}


async def test_verify_accepts_the_key_in_its_county(acting: Acting, registry: dict[str, Tenant]) -> None:
    client, key = await issue(acting, registry, COUNTY, "verify ok")
    found = await verify(acting, registry, COUNTY, key)
    assert found.id == client.id
    assert found.name == "verify ok"


@pytest.mark.parametrize(
    "bad",
    [None, "", "o311_", "not-a-key", "o311_" + "A" * 43, "x" * 300],
    ids=["none", "empty", "prefix-only", "no-prefix", "unknown", "huge"],
)
async def test_verify_refuses_what_is_not_a_key_of_the_county(
    acting: Acting, registry: dict[str, Tenant], bad: str | None
) -> None:
    await issue(acting, registry, COUNTY, "some app")
    with pytest.raises(Forbidden) as caught:
        await verify(acting, registry, COUNTY, bad)
    assert caught.value.status == 403


async def test_a_wrong_key_with_a_real_prefix_is_refused(acting: Acting, registry: dict[str, Tenant]) -> None:
    _, key = await issue(acting, registry, COUNTY, "prefix app")
    forged = key[:12] + ("B" if key[12] != "B" else "C") + key[13:]
    with pytest.raises(Forbidden):
        await verify(acting, registry, COUNTY, forged)


async def test_a_revoked_key_is_refused_at_once(acting: Acting, registry: dict[str, Tenant]) -> None:
    client, key = await issue(acting, registry, COUNTY, "to revoke")
    async with acting(COUNTY) as s:
        revoked = await do_revoke_client(s, registry[COUNTY], client.id, acting_user="admin")
    assert revoked.revoked_at is not None
    with pytest.raises(Forbidden):
        await verify(acting, registry, COUNTY, key)
    async with acting(COUNTY) as s:  # revoking again changes nothing and audits nothing new
        again = await do_revoke_client(s, registry[COUNTY], client.id, acting_user="admin")
        events = await s.scalars(
            select(AuditEvent.action).where(AuditEvent.subject == f"open311_client:{client.id}")
        )
        assert sorted(events) == ["open311.client_created", "open311.client_revoked"]
    assert again.revoked_at == revoked.revoked_at


async def test_a_key_of_county_a_is_refused_for_county_b(acting: Acting, registry: dict[str, Tenant]) -> None:
    _, key = await issue(acting, registry, COUNTY, "county A app")
    with pytest.raises(Forbidden):
        await verify(acting, registry, SIBLING, key)
    # ... even if the code checking it forgot the county: B's context cannot see A's rows.
    async with acting(SIBLING) as s:
        assert (await s.scalars(select(Open311Client).where(Open311Client.prefix == key[:12]))).all() == []


async def test_revoking_another_countys_client_is_not_found(
    acting: Acting, registry: dict[str, Tenant]
) -> None:
    client, key = await issue(acting, registry, COUNTY, "not yours")
    with pytest.raises(NotFound):
        async with acting(SIBLING) as s:
            await do_revoke_client(s, registry[SIBLING], client.id, acting_user="x")
    assert (await verify(acting, registry, COUNTY, key)).id == client.id


async def test_only_county_level_divisions_get_keys(acting: Acting, registry: dict[str, Tenant]) -> None:
    with pytest.raises(InvalidInput, match="not a county-level division"):
        await issue(acting, registry, CITY, "city app")
    with pytest.raises(InvalidInput) as caught:
        await issue(acting, registry, COUNTY, "   ")
    assert caught.value.errors[0].field == "name"


# --- isolation of open311_clients (application role, RLS on) -------------------------------------


@pytest.fixture
async def a_client(acting: Acting, registry: dict[str, Tenant]) -> Open311Client:
    client, _ = await issue(acting, registry, COUNTY, "isolation app")
    return client


@pytest.mark.parametrize(
    ("reader", "sees"), [(COUNTY, True), (CITY, True), (SIBLING, False), (OTHER_CITY, False)]
)
async def test_who_reads_a_countys_clients(
    acting: Acting, a_client: Open311Client, reader: str, sees: bool
) -> None:
    async with acting(reader) as s:
        rows = (await s.scalars(select(Open311Client).where(Open311Client.id == a_client.id))).all()
    assert [r.id for r in rows] == ([a_client.id] if sees else [])


@pytest.mark.parametrize("actor", [CITY, SIBLING, OTHER_CITY])
async def test_no_other_tenant_changes_a_countys_clients(
    acting: Acting, registry: dict[str, Tenant], a_client: Open311Client, actor: str
) -> None:
    async with acting(actor) as s:
        changed = await s.execute(
            update(Open311Client)
            .where(Open311Client.id == a_client.id)
            .values(revoked_at=None, name="hijacked", key_hash="0" * 64)
        )
        assert changed.rowcount == 0  # type: ignore[attr-defined]
    planted = Open311Client(tenant_id=registry[COUNTY].id, name="planted", key_hash="1" * 64, prefix="o311_x")
    with pytest.raises(DBAPIError, match="row-level security"):
        await _insert(acting, actor, planted)
    async with acting(COUNTY) as s:
        row = await s.scalar(select(Open311Client).where(Open311Client.id == a_client.id))
        assert row is not None
        assert (row.name, row.key_hash) == ("isolation app", a_client.key_hash)


async def _insert(acting: Acting, actor: str, row: object) -> None:
    async with acting(actor) as s:
        s.add(row)
        await s.flush()


async def test_clients_are_never_deleted_even_by_their_county(
    acting: Acting, a_client: Open311Client
) -> None:
    with pytest.raises(DBAPIError, match="permission denied"):
        async with acting(COUNTY) as s:
            await s.execute(text("DELETE FROM open311_clients WHERE id = :id"), {"id": a_client.id})


async def test_a_county_cannot_move_its_client_to_another_county(
    acting: Acting, registry: dict[str, Tenant], a_client: Open311Client
) -> None:
    with pytest.raises(DBAPIError, match="row-level security"):
        async with acting(COUNTY) as s:
            await s.execute(
                update(Open311Client)
                .where(Open311Client.id == a_client.id)
                .values(tenant_id=registry[SIBLING].id)
            )


# --- the admin API (/api/v1, bearer) -------------------------------------------------------------


async def test_key_lifecycle_through_the_api(client: Client, mint: Mint) -> None:
    admin = bearer(mint("county_admin", COUNTY_G))
    r = await client.post(url(COUNTY), json={"name": "12345 热线对接"}, headers=admin)
    assert r.status_code == 201, r.text
    assert r.headers["cache-control"] == "no-store"
    created = r.json()
    key = created["api_key"]
    assert created["name"] == "12345 热线对接"
    assert created["prefix"] == key[:12]
    assert created["tenant_code"] == COUNTY
    assert created["active"] is True

    listed = (await client.get(url(COUNTY), headers=admin)).json()["items"]
    mine = [c for c in listed if c["id"] == created["id"]]
    assert len(mine) == 1
    assert "api_key" not in mine[0]
    assert key not in str(listed)

    r = await client.delete(url(COUNTY, f"/{created['id']}"), headers=admin)
    assert r.status_code == 204
    listed = (await client.get(url(COUNTY), headers=admin)).json()["items"]
    mine = [c for c in listed if c["id"] == created["id"]]
    assert mine[0]["active"] is False
    assert mine[0]["revoked_at"] is not None
    assert (await client.delete(url(COUNTY, f"/{created['id']}"), headers=admin)).status_code == 204


async def test_the_city_and_the_province_administer_a_countys_keys(client: Client, mint: Mint) -> None:
    for token in (mint("city_admin", CITY_G), mint("province_admin", "/34")):
        r = await client.post(url(COUNTY), json={"name": "by an upper level"}, headers=bearer(token))
        assert r.status_code == 201, r.text
        assert (await client.get(url(COUNTY), headers=bearer(token))).status_code == 200


async def test_the_api_refuses_other_tenants_and_staff(client: Client, mint: Mint) -> None:
    created = (
        await client.post(
            url(COUNTY), json={"name": "guarded"}, headers=bearer(mint("county_admin", COUNTY_G))
        )
    ).json()
    sibling = bearer(mint("county_admin", SIBLING_G))
    other = bearer(mint("city_admin", OTHER_G))
    staff = bearer(mint("dispatcher", COUNTY_G))
    county_b = bearer(mint("county_admin", SIBLING_G))
    # Another county or city: the same 404 as a tenant that does not exist.
    for token in (sibling, other):
        assert (await client.get(url(COUNTY), headers=token)).status_code == 404
        assert (await client.post(url(COUNTY), json={"name": "x"}, headers=token)).status_code == 404
        assert (await client.delete(url(COUNTY, f"/{created['id']}"), headers=token)).status_code == 404
    # County B revoking A's client through its own URL: not found, and A's key still works.
    assert (await client.delete(url(SIBLING, f"/{created['id']}"), headers=county_b)).status_code == 404
    # Operating staff of the county itself are not administrators.
    assert (await client.get(url(COUNTY), headers=staff)).status_code == 403
    assert (await client.post(url(COUNTY), json={"name": "x"}, headers=staff)).status_code == 403
    # No token at all.
    assert (await client.get(url(COUNTY))).status_code == 401
    listed = (await client.get(url(COUNTY), headers=bearer(mint("county_admin", COUNTY_G)))).json()["items"]
    assert next(c for c in listed if c["id"] == created["id"])["active"] is True


@pytest.mark.parametrize(
    ("body", "status"),
    [({"name": ""}, 400), ({"name": "x" * 65}, 400), ({}, 400), ({"name": "ok", "key": "mine"}, 400)],
    ids=["empty-name", "long-name", "no-name", "unknown-field"],
)
async def test_bad_client_input_is_refused(
    client: Client, mint: Mint, body: dict[str, Any], status: int
) -> None:
    r = await client.post(url(COUNTY), json=body, headers=bearer(mint("county_admin", COUNTY_G)))
    assert r.status_code == status, r.text


async def test_a_city_cannot_have_keys_of_its_own(client: Client, mint: Mint) -> None:
    r = await client.post(url(CITY), json={"name": "city app"}, headers=bearer(mint("city_admin", CITY_G)))
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "code"


async def test_revoking_a_missing_client_is_404(client: Client, mint: Mint) -> None:
    r = await client.delete(url(COUNTY, f"/{uuid.uuid4()}"), headers=bearer(mint("county_admin", COUNTY_G)))
    assert r.status_code == 404
