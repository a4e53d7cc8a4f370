"""The README's onboarding tour on the demo, as a province admin runs it beside `citylead up`:
Nanjing (onboarding in the demo) goes live with `citylead onboard city`, one district from sample
files with `citylead onboard county` (dry run first), two more from a manifest in which one entry
is broken: the broken one is reported, the other goes live. The new county's first administrator
signs in with the one-time password and sees only its own county."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
import yaml

from tests.e2e.test_standards_tour import _citylead
from tests.e2e.test_up import TOKEN, Up

pytestmark = pytest.mark.e2e


def _token(base: str, username: str, password: str) -> str:
    resp = httpx.post(
        base + TOKEN,
        data={"grant_type": "password", "client_id": "citylead", "username": username, "password": password},
        timeout=10,
    )
    assert resp.status_code == 200, resp.text
    return str(resp.json()["access_token"])


def _ok(result: object) -> str:
    out = result.stdout + result.stderr  # type: ignore[attr-defined]
    assert result.returncode == 0, out  # type: ignore[attr-defined]
    assert "Traceback" not in out
    return str(result.stdout)  # type: ignore[attr-defined]


def test_onboard_a_city_a_county_and_a_manifest(running: Up, home: Path, tmp_path: Path) -> None:
    out = _ok(
        _citylead(
            home,
            "onboard",
            "city",
            "320100",
            "--template",
            "city",
            "--admin",
            "admin@nj.example.cn",
            timeout=120,
        )
    )
    assert "南京市 (320100) is live" in out

    files = tmp_path / "320102"
    _ok(
        _citylead(
            home,
            "onboard",
            "samples",
            "320102",
            "--out",
            str(files),
            "--grids",
            "80",
            "--units",
            "15",
            "--components",
            "500",
        )
    )
    args = [
        "onboard", "county", "320102", "--city", "320100", "--template", "district",
        "--grids", str(files / "grids.geojson"), "--units", str(files / "units.csv"),
        "--components", str(files / "components.csv"), "--admin", "admin@xuanwu.example.cn",
    ]  # fmt: skip
    dry = _ok(_citylead(home, *args, "--dry-run", timeout=120))
    assert "Dry run: no problems" in dry
    grids = re.search(r"(\d+) grids", dry)
    assert grids is not None and 72 <= int(grids.group(1)) <= 88, dry

    wrong = _citylead(home, "onboard", "county", "320102", "--city", "320400", "--template", "district")
    assert wrong.returncode == 1
    assert "not under" in wrong.stdout and "nothing was changed" in wrong.stdout, wrong.stdout

    live = _ok(_citylead(home, *args, timeout=180))
    assert "玄武区 (320102) is live" in live
    password = re.search(r"one-time password (\S+)", live)
    assert password is not None

    token = _token(running.base, "admin@xuanwu.example.cn", password.group(1))
    headers = {"Authorization": f"Bearer {token}"}
    tenant = httpx.get(f"{running.base}/api/v1/tenants/320102", headers=headers, timeout=10).json()
    assert tenant["status"] == "live"
    geography = httpx.get(f"{running.base}/api/v1/tenants/320102/geography", headers=headers, timeout=10)
    assert geography.json()["grids"] == int(grids.group(1)), geography.text
    assert httpx.get(f"{running.base}/api/v1/tenants/320104", headers=headers, timeout=10).status_code == 404

    for code in ("320104", "320105"):
        _ok(
            _citylead(
                home,
                "onboard",
                "samples",
                code,
                "--out",
                str(tmp_path / code),
                "--grids",
                "40",
                "--units",
                "10",
                "--components",
                "100",
            )
        )
    (tmp_path / "320105" / "units.csv").write_text("code,name,kind\nBAD CODE,坏单位,nonsense\n", "utf-8")
    manifest = {
        "province": "320000",
        "concurrency": 2,
        "counties": [
            {
                "code": code,
                "city": "320100",
                "template": "district",
                "grids": f"{code}/grids.geojson",
                "units": f"{code}/units.csv",
                "components": f"{code}/components.csv",
            }
            for code in ("320104", "320105")
        ],
    }
    path = tmp_path / "nanjing.yaml"
    path.write_text(yaml.safe_dump(manifest, allow_unicode=True), "utf-8")

    checked = _citylead(home, "onboard", "manifest", str(path), "--dry-run", timeout=180)
    assert checked.returncode == 1, checked.stdout
    assert "counties[1]" in checked.stdout and "units: rows/2" in checked.stdout
    assert "nothing was changed" in checked.stdout

    del manifest["counties"][1]["units"]  # the fixed manifest: the template's units only
    path.write_text(yaml.safe_dump(manifest, allow_unicode=True), "utf-8")
    ran = _ok(_citylead(home, "onboard", "manifest", str(path), "--processes", "2", timeout=240))
    assert "2 of 2 onboarded" in ran
    assert "Summary" in ran

    province = _token(running.base, "province_admin@320000", "citylead-demo")
    listed = httpx.get(
        f"{running.base}/api/v1/tenants",
        params={"parent": "320100", "status": "live"},
        headers={"Authorization": f"Bearer {province}"},
        timeout=10,
    ).json()
    assert {t["code"] for t in listed["items"]} >= {"320102", "320104", "320105"}
    assert httpx.get(f"{running.base}/ready", timeout=5).status_code == 200
