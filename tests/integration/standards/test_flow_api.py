"""The 以市带县 flow through the API: a city drafts, previews, publishes; its counties inherit at
once, override within bounds, and are refused with a clear reason outside them.

Cities used here: 无锡市 (320200) and its divisions 惠山区 (320206) and 滨湖区 (320211).
"""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.support import Mint, bearer

CITY, COUNTY, SIBLING = "320200", "320206", "320211"
CITY_G, COUNTY_G, SIBLING_G = "/32/3202", "/32/3202/320206", "/32/3202/320211"
ROAD = "manual/matter/06012/limit/normal"  # 道路不洁
GARBAGE = "manual/matter/06010/limit/normal"  # 暴露垃圾

pytestmark = pytest.mark.usefixtures("baseline")

Client = AsyncTestClient[Litestar]


def url(code: str, kind: str = "manual", tail: str = "") -> str:
    return f"/api/v1/tenants/{code}/standards/{kind}{tail}"


async def entry(client: Client, token: str, code: str, path: str, **params: str) -> dict[str, Any]:
    r = await client.get(url(code), params={"prefix": path, **params}, headers=bearer(token))
    assert r.status_code == 200, r.text
    found = [e for e in r.json()["entries"] if e["path"] == path]
    assert found, f"{path} not in the effective document of {code}"
    return found[0]


async def draft_version(client: Client, token: str, code: str, kind: str = "manual") -> int:
    r = await client.get(url(code, kind, "/draft"), headers=bearer(token))
    assert r.status_code == 200, r.text
    return int(r.json()["version"])


async def test_city_publish_reaches_every_county_with_provenance(client: Client, mint: Mint) -> None:
    city = mint("city_admin", CITY_G)
    county = mint("county_admin", COUNTY_G)
    before = await entry(client, county, COUNTY, ROAD)
    assert before["set_by"] == {"code": "320000", "version": 1}
    assert before["value"] == "5wh"

    r = await client.patch(
        url(CITY, tail="/draft"),
        json={"set": {ROAD: "2wh"}, "policies": {"manual/matter/06012/limit": "tighten_only"}, "version": 0},
        headers=bearer(city),
    )
    assert r.status_code == 200, r.text
    assert r.json()["pending"] is True

    r = await client.post(url(CITY, tail="/preview"), headers=bearer(city))
    assert r.status_code == 200, r.text
    impact = {t["code"]: t for t in r.json()["tenants"]}
    assert CITY in impact and COUNTY in impact and SIBLING in impact
    assert len(impact) == 8  # 无锡市 and its seven divisions
    assert impact[COUNTY]["changes"] == [{"path": ROAD, "old": "5wh", "new": "2wh"}]
    assert impact[COUNTY]["invalid_overrides"] == []

    r = await client.post(url(CITY, tail="/publish"), json={"note": "道路不洁2工作时"}, headers=bearer(city))
    assert r.status_code == 201, r.text
    assert r.json()["number"] == 1

    after = await entry(client, county, COUNTY, ROAD)
    assert after["value"] == "2wh"
    assert after["set_by"] == {"code": CITY, "version": 1}
    assert after["policy"] == "tighten_only"
    assert after["policy_set_by"] == {"code": CITY, "version": 1}
    untouched = await entry(client, county, COUNTY, GARBAGE)
    assert untouched["set_by"] == {"code": "320000", "version": 1}

    # The county tightens further (allowed), and is refused where it loosens.
    ok = await client.patch(url(COUNTY, tail="/draft"), json={"set": {ROAD: "1wh"}}, headers=bearer(county))
    assert ok.status_code == 200, ok.text
    loose = await client.patch(
        url(COUNTY, tail="/draft"), json={"set": {ROAD: "3wh"}}, headers=bearer(county)
    )
    assert loose.status_code == 422
    assert loose.headers["content-type"].startswith("application/problem+json")
    [problem] = loose.json()["errors"]
    assert problem["field"] == ROAD
    assert "tighten_only" in problem["rule"]
    assert problem["upper"] == "2wh"
    assert problem["set_by"] == f"{CITY} v1"
    assert (await client.get(url(COUNTY, tail="/draft"), headers=bearer(county))).json()["values"] == {
        ROAD: "1wh"
    }

    r = await client.post(url(COUNTY, tail="/publish"), json={}, headers=bearer(county))
    assert r.status_code == 201, r.text
    mine = await entry(client, county, COUNTY, ROAD)
    assert (mine["value"], mine["set_by"]) == ("1wh", {"code": COUNTY, "version": 1})
    sibling = await entry(client, mint("county_admin", SIBLING_G), SIBLING, ROAD)
    assert (sibling["value"], sibling["set_by"]["code"]) == ("2wh", CITY)


async def test_locked_entry_is_refused_with_path_rule_and_upper_value(client: Client, mint: Mint) -> None:
    city = mint("city_admin", "/32/3203")
    county = mint("county_admin", "/32/3203/320303")
    cover = "manual/matter/01002/limit/normal"
    version = await draft_version(client, city, "320300")
    r = await client.patch(
        url("320300", tail="/draft"),
        json={"set": {cover: "12h"}, "policies": {"manual/matter/01002/limit": "locked"}, "version": version},
        headers=bearer(city),
    )
    assert r.status_code == 200, r.text
    assert (
        await client.post(url("320300", tail="/publish"), json={}, headers=bearer(city))
    ).status_code == 201

    r = await client.patch(url("320303", tail="/draft"), json={"set": {cover: "6h"}}, headers=bearer(county))
    assert r.status_code == 422
    [problem] = r.json()["errors"]
    assert problem["field"] == cover
    assert problem["rule"] == "locked by an upper level"
    assert problem["upper"] == "12h"
    assert problem["set_by"] == "320300 v1"
    # Nothing was written.
    assert (await client.get(url("320303", tail="/draft"), headers=bearer(county))).json()["version"] == 0


async def test_publish_refuses_invalidated_overrides_until_each_is_resolved(
    client: Client, mint: Mint
) -> None:
    """徐州市 (320300 is used above; here 连云港市 320700): two counties override a limit the city then
    tightens under tighten_only; publishing needs a decision for each."""
    city_code, a, b = "320700", "320703", "320706"
    city = mint("city_admin", "/32/3207")
    for code in (a, b):
        token = mint("county_admin", f"/32/3207/{code}")
        r = await client.patch(
            url(code, tail="/draft"), json={"set": {GARBAGE: "6wh"}}, headers=bearer(token)
        )
        assert r.status_code == 200, r.text
        assert (
            await client.post(url(code, tail="/publish"), json={}, headers=bearer(token))
        ).status_code == 201

    r = await client.patch(
        url(city_code, tail="/draft"),
        json={"set": {GARBAGE: "4wh"}, "policies": {"manual/matter/06010/limit": "tighten_only"}},
        headers=bearer(city),
    )
    assert r.status_code == 200, r.text
    draft = r.json()["version"]
    preview = (await client.post(url(city_code, tail="/preview"), headers=bearer(city))).json()
    invalid = {(v["tenant"], v["path"]): v for t in preview["tenants"] for v in t["invalid_overrides"]}
    assert set(invalid) == {(a, GARBAGE), (b, GARBAGE)}
    assert invalid[(a, GARBAGE)]["value"] == "6wh"
    assert invalid[(a, GARBAGE)]["upper"] == "4wh"

    refused = await client.post(
        url(city_code, tail="/publish"), json={"version": draft}, headers=bearer(city)
    )
    assert refused.status_code == 409
    assert {(c["tenant"], c["path"]) for c in refused.json()["conflicts"]} == set(invalid)
    versions = (await client.get(url(city_code, tail="/versions"), headers=bearer(city))).json()["items"]
    assert versions == []  # nothing half-written

    half = [{"tenant": a, "path": GARBAGE, "action": "drop"}]
    still = await client.post(
        url(city_code, tail="/publish"), json={"resolutions": half}, headers=bearer(city)
    )
    assert still.status_code == 409
    assert [c["tenant"] for c in still.json()["conflicts"]] == [b]

    both = [*half, {"tenant": b, "path": GARBAGE, "action": "keep"}]
    r = await client.post(url(city_code, tail="/publish"), json={"resolutions": both}, headers=bearer(city))
    assert r.status_code == 201, r.text

    dropped = await entry(client, mint("county_admin", f"/32/3207/{a}"), a, GARBAGE)
    assert (dropped["value"], dropped["set_by"]) == ("4wh", {"code": city_code, "version": 1})
    kept = await entry(client, mint("county_admin", f"/32/3207/{b}"), b, GARBAGE)
    assert (kept["value"], kept["set_by"]) == ("6wh", {"code": b, "version": 1})
    a_versions = (await client.get(url(a, tail="/versions"), headers=bearer(city))).json()["items"]
    assert [v["number"] for v in a_versions] == [2, 1]
    assert "dropped by 320700 v1" in a_versions[0]["note"]
    # The kept value stays valid; changing it to another loosening value is refused.
    token_b = mint("county_admin", f"/32/3207/{b}")
    r = await client.patch(url(b, tail="/draft"), json={"set": {GARBAGE: "7wh"}}, headers=bearer(token_b))
    assert r.status_code == 422


async def test_time_travel_by_vector_and_by_moment(client: Client, mint: Mint) -> None:
    city_code, county_code = "320800", "320803"
    city = mint("city_admin", "/32/3208")
    county = mint("county_admin", f"/32/3208/{county_code}")
    assert (await entry(client, county, county_code, ROAD))["value"] == "5wh"
    r = await client.patch(url(city_code, tail="/draft"), json={"set": {ROAD: "3wh"}}, headers=bearer(city))
    assert r.status_code == 200
    published = await client.post(url(city_code, tail="/publish"), json={}, headers=bearer(city))
    moment_v1 = published.json()["published_at"]
    r = await client.patch(url(city_code, tail="/draft"), json={"set": {ROAD: "2wh"}}, headers=bearer(city))
    assert (
        await client.post(url(city_code, tail="/publish"), json={}, headers=bearer(city))
    ).status_code == 201

    now = await client.get(url(county_code), params={"prefix": ROAD}, headers=bearer(county))
    assert now.json()["vector"] == f"320000:1,{city_code}:2,{county_code}:0"
    assert (await entry(client, county, county_code, ROAD))["value"] == "2wh"
    assert (await entry(client, county, county_code, ROAD, at=f"320000:1,{city_code}:1,{county_code}:0"))[
        "value"
    ] == "3wh"
    assert (await entry(client, county, county_code, ROAD, at=moment_v1))["value"] == "3wh"
    before_all = await client.get(
        url(county_code), params={"at": "2020-01-01T00:00:00+08:00"}, headers=bearer(county)
    )
    assert before_all.json()["total"] == 0  # nothing was in force before the baseline

    bad = await client.get(url(county_code), params={"at": "yesterday"}, headers=bearer(county))
    assert bad.status_code == 422
    wrong = await client.get(
        url(county_code), params={"at": "320000:1,320200:1,320803:0"}, headers=bearer(county)
    )
    assert wrong.status_code == 422
    missing = await client.get(
        url(county_code), params={"at": f"320000:1,{city_code}:9,{county_code}:0"}, headers=bearer(county)
    )
    assert missing.status_code == 404


async def test_bad_input_and_stale_versions(client: Client, mint: Mint) -> None:
    city = mint("city_admin", "/32/3209")
    r = await client.patch(
        url("320900", tail="/draft"),
        json={"set": {"manual/matter/06012/limit/normal": "two hours", "manual/nonsense": 1}},
        headers=bearer(city),
    )
    assert r.status_code == 422
    fields = {e["field"]: e["rule"] for e in r.json()["errors"]}
    assert "manual/nonsense" in fields and "unknown path" in fields["manual/nonsense"]
    assert "time limit" in fields["manual/matter/06012/limit/normal"]

    ok = await client.patch(
        url("320900", tail="/draft"), json={"set": {ROAD: "4wh"}, "version": 0}, headers=bearer(city)
    )
    assert ok.status_code == 200
    stale = await client.patch(
        url("320900", tail="/draft"), json={"set": {ROAD: "3wh"}, "version": 0}, headers=bearer(city)
    )
    assert stale.status_code == 409
    stale_publish = await client.post(
        url("320900", tail="/publish"), json={"version": 0}, headers=bearer(city)
    )
    assert stale_publish.status_code == 409

    weights = await client.patch(
        url("320900", "assessment", "/draft"),
        json={"set": {"assessment/department/weight/volume": 20}},
        headers=bearer(city),
    )
    assert weights.status_code == 422
    [problem] = weights.json()["errors"]
    assert "sum to 100" in problem["rule"] and "110" in problem["rule"]

    unknown_kind = await client.get("/api/v1/tenants/320900/standards/recipes", headers=bearer(city))
    assert unknown_kind.status_code == 400
    nothing = await client.post(url("320900", "calendar", "/publish"), json={}, headers=bearer(city))
    assert nothing.status_code == 409
