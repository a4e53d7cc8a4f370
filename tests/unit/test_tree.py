"""Tenant paths, levels and principals: pure functions, no database."""

from __future__ import annotations

import pytest

from citylead.identity.principal import Principal, Role
from tenants.context import TenantContext, code_of_path, path_of_group
from tenants.errors import InvalidInput, NotFound
from tenants.models import TenantLevel
from tenants.registry import divisions_of, level_of_division


@pytest.mark.parametrize(
    ("path", "code"),
    [("/32/", "320000"), ("/32/3204/", "320400"), ("/32/3204/320411/", "320411"), ("/42/429004/", "429004")],
)
def test_code_of_path(path: str, code: str) -> None:
    assert code_of_path(path) == code
    assert TenantContext(path).code == code


@pytest.mark.parametrize(
    "bad", ["", "/", "32", "/32", "/3/", "/32/320411/x/", "/32/3204/3204/", "/32/'; --/"]
)
def test_context_refuses_malformed_paths(bad: str) -> None:
    with pytest.raises(InvalidInput):
        TenantContext(bad)


def test_group_path_is_tenant_path() -> None:
    assert path_of_group("/32/3204/320411") == "/32/3204/320411/"


@pytest.mark.parametrize(
    ("name", "level"),
    [
        ("新北区", TenantLevel.MUNICIPAL_DISTRICT),
        ("溧阳市", TenantLevel.COUNTY_CITY),
        ("沛县", TenantLevel.COUNTY),
        ("神农架林区", TenantLevel.COUNTY),
        ("六枝特区", TenantLevel.COUNTY),
        ("额济纳旗", TenantLevel.COUNTY),
        ("峨边彝族自治县", TenantLevel.COUNTY),
    ],
)
def test_level_of_division(name: str, level: TenantLevel) -> None:
    assert level_of_division(name) == level


def test_province_direct_counties_hang_under_the_province() -> None:
    hubei = {d.code: d for d in divisions_of("420000")}
    assert hubei["429004"].path == "/42/429004/" and hubei["429004"].parent_code == "420000"
    assert hubei["420106"].path == "/42/4201/420106/"  # 武昌区 under 武汉市


def test_municipality_districts_hang_under_the_municipality() -> None:
    beijing = list(divisions_of("110000"))
    assert beijing[0].level == TenantLevel.PROVINCE
    assert all(d.path.count("/") == 3 for d in beijing[1:])  # /11/110101/: no city level
    assert len(beijing) == 17  # 北京市 and its 16 districts


@pytest.mark.parametrize(
    ("bad", "error"),
    [("32", InvalidInput), ("320400", InvalidInput), ("abcdef", InvalidInput), ("990000", NotFound)],
)
def test_registry_refuses_non_provinces(bad: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        list(divisions_of(bad))


def test_principal_from_keycloak_claims() -> None:
    p = Principal.from_claims(
        {
            "sub": "u1",
            "preferred_username": "dispatcher@320411",
            "groups": ["/32/3204/320411"],
            "realm_access": {"roles": ["dispatcher", "offline_access", "uma_authorization"]},
        }
    )
    assert p is not None
    assert p.roles == frozenset({Role.DISPATCHER}) and p.tenant_code == "320411"
    assert p.context == TenantContext("/32/3204/320411/")


@pytest.mark.parametrize("groups", [[], ["/staff"], ["/32/3204/320411", "/32/3204/320412"]])
def test_principal_needs_exactly_one_tenant_group(groups: list[str]) -> None:
    assert Principal.from_claims({"sub": "u", "groups": groups}) is None
