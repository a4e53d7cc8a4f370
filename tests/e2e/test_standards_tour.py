"""The README's standards tour, as a user runs it: the demo's inheritance read through the API,
then the city changes its manual with the ``citylead standards`` commands while ``citylead up``
keeps serving from the same embedded database."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.e2e.test_up import Up, _citylead, _sign_in

pytestmark = pytest.mark.e2e

ROAD = "manual/matter/06012/limit/normal"


def _entry(base: str, token: str, code: str, kind: str, path: str) -> dict[str, object]:
    body = httpx.get(
        f"{base}/api/v1/tenants/{code}/standards/{kind}",
        params={"prefix": path},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    ).json()
    [found] = [e for e in body["entries"] if e["path"] == path]
    return dict(found)


def test_demo_inheritance_then_a_city_change_from_the_cli(running: Up, home: Path) -> None:
    county = _sign_in(running.base, "county_admin@320411")
    road = _entry(running.base, county, "320411", "manual", ROAD)
    assert road["value"] == "1.5wh" and road["set_by"] == {"code": "320411", "version": 1}
    assert road["policy"] == "tighten_only" and road["policy_set_by"] == {"code": "320400", "version": 1}
    sibling = _sign_in(running.base, "county_admin@320412")
    assert _entry(running.base, sibling, "320412", "manual", ROAD)["set_by"] == {
        "code": "320400",
        "version": 1,
    }
    local = _entry(running.base, county, "320411", "catalog", "catalog/matter/06012-01/name")
    assert local["value"] == "主次干道路面不洁"

    shown = _citylead(home, "standards", "show", "320411", "manual", "--prefix", "manual/matter/06012/limit")
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert "1.5wh" in shown.stdout and "320411 v1" in shown.stdout

    changed = _citylead(home, "standards", "set", "320400", "manual", f"{ROAD}=1wh")
    assert changed.returncode == 0, changed.stdout + changed.stderr
    diff = _citylead(home, "standards", "diff", "320400", "manual")
    assert diff.returncode == 0, diff.stdout + diff.stderr
    assert "invalid" in diff.stdout and "320411" in diff.stdout and "320412" in diff.stdout

    refused = _citylead(home, "standards", "publish", "320400", "manual")
    assert refused.returncode == 1
    assert "would invalidate 1 override" in refused.stdout and "320411" in refused.stdout
    assert "Traceback" not in refused.stdout + refused.stderr

    published = _citylead(home, "standards", "publish", "320400", "manual", "--drop", f"320411:{ROAD}")
    assert published.returncode == 0, published.stdout + published.stderr
    assert "version 2" in published.stdout

    road = _entry(running.base, county, "320411", "manual", ROAD)
    assert road["value"] == "1wh" and road["set_by"] == {"code": "320400", "version": 2}
    assert httpx.get(f"{running.base}/ready", timeout=5).status_code == 200  # the CLI left the server up
